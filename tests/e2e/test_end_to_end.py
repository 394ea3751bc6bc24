"""The whole flow through the real command line, on the bundled example repo and snapshot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import git

from remediator.cli.demo import build_origin
from tests.support.cli import EXAMPLE, SNAPSHOT, cli, tree_digest
from tests.support.cli import checkout as checkout  # a checkout of the demo origin (fixture)

EXPECTED = {
    ("shop", "cart", "OOMKilled"): "propose",
    ("shop", "checkout", "ProbeFailure"): "propose",
    ("shop", "payments", "ImagePullBackOff"): "propose",
    ("shop", "orders", "CreateContainerConfigError"): "diagnose",
    ("search", "search", "Unschedulable"): "diagnose",
    ("batch", "reports", "JobFailed"): "diagnose",
    ("kube-system", "coredns", "CrashLoopBackOff"): "skip",
    ("tools", "adminer", "CrashLoopBackOff"): "skip",
}


def test_plan_json_matches_the_contract_and_never_touches_the_repo(checkout: Path):
    before = tree_digest(checkout)
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(checkout), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # stdout is machine output only
    got = {(r["workload"]["namespace"], r["workload"]["name"], r["failure"]["class"]):
           r["decision"] for r in out["remediations"]}
    assert got == EXPECTED
    for r in out["remediations"]:
        assert set(r) >= {"workload", "failure", "decision", "reason", "changes", "validation"}
        assert set(r["workload"]) == {"apiVersion", "kind", "namespace", "name"}
        assert set(r["failure"]) >= {"class", "container", "pods", "detail"}
        assert r["reason"] and r["diagnosis"]
        assert set(r["validation"]) >= {"passed", "checks"}
        if r["decision"] == "propose":
            assert r["validation"]["passed"] is True
            assert {c["name"] for c in r["validation"]["checks"]} >= {"policy", "schema"}
            for change in r["changes"]:
                assert not change["path"].startswith("/")
                assert change["diff"].startswith(f"--- a/{change['path']}\n+++ b/{change['path']}")
        else:
            assert r["changes"] == []
    cart = next(r for r in out["remediations"] if r["workload"]["name"] == "cart")
    assert cart["changes"][0]["path"] == "apps/cart/deployment.yaml"
    minus = [ln for ln in cart["changes"][0]["diff"].splitlines()
             if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln for ln in cart["changes"][0]["diff"].splitlines()
            if ln.startswith("+") and not ln.startswith("+++")]
    assert [m.strip() for m in minus] == ["-              memory: 128Mi".strip()]
    assert [p.strip() for p in plus] == ["+              memory: 192Mi".strip()]
    payments = next(r for r in out["remediations"] if r["workload"]["name"] == "payments")
    assert "payments:1.7.3" in payments["changes"][0]["diff"]
    checkout_fix = next(r for r in out["remediations"] if r["workload"]["name"] == "checkout")
    assert checkout_fix["changes"][0]["path"] == (
        "apps/checkout/overlays/production/deployment-patch.yaml")
    assert tree_digest(checkout) == before
    assert not git.Repo(checkout).is_dirty(untracked_files=True)


def test_plan_text_is_a_readable_table(checkout: Path):
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(checkout))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split() == ["DECISION", "WORKLOAD", "CLASS", "REASON"]
    assert "why this file:" in proc.stdout


def test_demo_opens_prs_once_and_leaves_the_bundle_alone(tmp_path: Path):
    bundle_before = tree_digest(EXAMPLE)
    proc = cli("demo", "--workdir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    pulls = sorted((tmp_path / "forge" / "pulls").glob("*.json"))
    assert len(pulls) == 3
    records = [json.loads(p.read_text()) for p in pulls]
    origin = git.Repo(tmp_path / "origin.git")
    branches = {h.name for h in origin.heads}
    for rec in records:
        assert rec["branch"] in branches
        assert rec["labels"][0] == "remediator"
        assert "<!-- remediator:record {" in rec["body"]
        assert rec["title"].startswith("fix(shop/")
        changed = origin.git.diff("--name-only", "main", rec["branch"]).splitlines()
        assert changed  # the branch carries the fix and nothing else from main is lost
    cart = next(r for r in records if "cart" in r["branch"])
    diff = origin.git.diff("main", cart["branch"]).splitlines()
    assert [" ".join(ln.split()) for ln in diff if ln.startswith(("+ ", "- "))] == [
        "- memory: 128Mi", "+ memory: 192Mi"]
    assert "memory: 192Mi" in origin.git.show(f"{cart['branch']}:apps/cart/deployment.yaml")
    # Running again opens nothing new: one PR per signature.
    again = cli("demo", "--workdir", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / "forge" / "pulls").glob("*.json"))) == 3
    assert again.stdout.count("[exists]") == 3
    assert tree_digest(EXAMPLE) == bundle_before


def test_run_once_against_a_remote(tmp_path: Path):
    origin = build_origin(tmp_path / "o")
    proc = cli("run", "--once", "--snapshot", str(SNAPSHOT), "--forge", "local", "--repo",
               str(origin), "--state-dir", str(tmp_path / "state"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("[opened]") == 3


# ------------------------------------------------------------------------------- bad input


def test_snapshot_that_is_not_a_list(tmp_path: Path, checkout: Path):
    (tmp_path / "cluster.json").write_text('{"kind": "Pod", "items": "no"}')
    proc = cli("plan", "--snapshot", str(tmp_path), "--repo", str(checkout))
    assert proc.returncode == 2  # an input that cannot be used: usage, like a bad flag
    assert proc.stderr.strip().count("\n") == 0
    assert "expected a Kubernetes List" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_snapshot_and_repo(tmp_path: Path, checkout: Path):
    proc = cli("plan", "--snapshot", str(tmp_path / "nope"), "--repo", str(checkout))
    assert proc.returncode == 2 and "not a directory" in proc.stderr
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "repository folder not found" in proc.stderr


def test_invalid_config_names_the_line(tmp_path: Path, checkout: Path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("scope:\n  namespaces: [shop]\n  protected: [x]\n")
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(checkout), "--config", str(cfg))
    assert proc.returncode == 2  # as in `validate`: configuration errors exit 2 everywhere
    assert "line 3" in proc.stderr and "unknown key 'protected'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_kinds_and_missing_logs_are_warnings(tmp_path: Path, checkout: Path):
    data = json.loads((SNAPSHOT / "cluster.json").read_text())
    data["items"].append({"apiVersion": "example.com/v1", "kind": "Widget",
                          "metadata": {"name": "w", "namespace": "shop"}})
    data["items"].append({"apiVersion": "v1", "kind": "Secret",
                          "metadata": {"name": "s", "namespace": "shop"},
                          "data": {"password": "aHVudGVyMg=="}})
    (tmp_path / "cluster.json").write_text(json.dumps(data))  # and no logs/ at all
    proc = cli("plan", "--snapshot", str(tmp_path), "--repo", str(checkout), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert "unknown kinds: Widget (1)" in proc.stderr
    assert "Secrets are never read" in proc.stderr
    assert "aHVudGVyMg" not in proc.stdout


def test_hostile_repo_files_are_skipped_and_the_repo_untouched(tmp_path: Path, checkout: Path):
    repo = tmp_path / "repo"
    shutil.copytree(checkout, repo, symlinks=True)
    (repo / "apps" / "bomb.yaml").write_text(
        "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
            for i in range(9)))
    (repo / "apps" / "escape.yaml").symlink_to("/etc/passwd")
    (repo / "apps" / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (repo / "apps" / "empty.yml").write_text("")
    before = tree_digest(repo)
    proc = cli("plan", "--snapshot", str(SNAPSHOT), "--repo", str(repo), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert "apps/bomb.yaml: refused" in proc.stderr
    assert "apps/escape.yaml: skipped: symlink points outside" in proc.stderr
    assert "apps/binary.yaml: skipped: not UTF-8" in proc.stderr
    assert "apps/empty.yml: skipped: empty file" in proc.stderr
    assert len(json.loads(proc.stdout)["remediations"]) == len(EXPECTED)
    assert tree_digest(repo) == before
