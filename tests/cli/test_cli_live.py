"""`remediator snapshot` and `remediator run` against the API emulator (tests/support/kube_api.py)
serving the bundled example cluster, through the real command line (a subprocess talking HTTP to
the emulator). The emulator that is watched also answers the gate's server-side dry-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from remediator.cli.demo import build_origin, example_paths
from remediator.service.one_pass import run_once
from remediator.service.watcher import LiveSource
from tests.support.example_cluster import serve_example
from tests.support.kube_api import KubeAPI

EXAMPLE, SNAPSHOT = example_paths()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    return subprocess.run([sys.executable, "-m", "remediator", *args], capture_output=True,
                          text=True, env=env, check=False, timeout=300)


@pytest.fixture
def cluster(tmp_path: Path):
    with KubeAPI() as api:
        serve_example(api)
        yield api, api.kubeconfig(tmp_path / "kubeconfig")


def _plan(snapshot: Path) -> dict:
    out = cli("plan", "--snapshot", str(snapshot), "--repo", str(EXAMPLE), "--output", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_snapshot_round_trips_into_plan(cluster, tmp_path: Path):
    api, kubeconfig = cluster
    out = cli("snapshot", "--output", str(tmp_path / "snap"), "--kubeconfig", str(kubeconfig),
              "--context", "emulator")
    assert out.returncode == 0, out.stderr
    assert "Secrets are never read" in out.stdout
    snap = tmp_path / "snap"
    listed = json.loads((snap / "cluster.json").read_text())
    assert listed["kind"] == "List" and not [i for i in listed["items"]
                                              if i["kind"] == "Secret"]
    assert not [p for p in api.paths() if "secrets" in p]
    logs = sorted(str(p.relative_to(snap)) for p in (snap / "logs").rglob("*.log"))
    assert "logs/shop/cart-5d8f7c9b4-mvn8d/cart.previous.log" in logs
    assert not [p for p in logs if "frontend" in p]  # failing pods only

    replayed, original = _plan(snap), _plan(SNAPSHOT)
    assert replayed["remediations"] == original["remediations"]


def test_snapshot_refuses_a_non_empty_folder_and_an_unreachable_cluster(cluster, tmp_path):
    _, kubeconfig = cluster
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    out = cli("snapshot", "--output", str(tmp_path / "full"), "--kubeconfig", str(kubeconfig))
    assert out.returncode == 1 and "not an empty folder" in out.stderr
    assert (tmp_path / "full" / "x").read_text() == "keep me"
    out = cli("snapshot", "--output", str(tmp_path / "s"), "--kubeconfig", str(kubeconfig),
              "--context", "decoy")
    assert out.returncode == 1 and out.stderr.startswith("remediator: error: cannot use the "
                                                          "cluster")
    assert "Traceback" not in out.stderr


def _pulls(state: Path) -> dict[str, str]:
    """Title -> body of the pull requests the local forge opened."""
    return {pr["title"]: pr["body"] for pr in (json.loads(p.read_text())
                                               for p in (state / "pulls").glob("*.json"))}


def test_run_once_on_the_live_cluster_opens_the_same_pull_requests(cluster, tmp_path: Path):
    api, kubeconfig = cluster
    origin = build_origin(tmp_path / "work")
    live = cli("run", "--once", "--repo", str(origin), "--state-dir", str(tmp_path / "live"),
               "--kubeconfig", str(kubeconfig))
    assert live.returncode == 0, live.stderr
    offline = cli("run", "--once", "--snapshot", str(SNAPSHOT), "--repo", str(origin),
                  "--state-dir", str(tmp_path / "offline"))
    assert offline.returncode == 0, offline.stderr

    pulls = _pulls(tmp_path / "live")
    assert sorted(pulls) == sorted(_pulls(tmp_path / "offline")) != []
    for title, body in pulls.items():  # the gate's dry-run ran against the watched cluster
        assert f"| dry-run | ✅ passed | the API server at {api.url} accepts " in body, title
    writes = [(m, q) for m, _, q in api.requests if m != "GET"]
    assert writes and all(q.get("dryRun") == "All" for _, q in writes)  # nothing stored


def test_run_once_on_the_live_cluster_obeys_its_admission(cluster, tmp_path: Path):
    """A change the watched cluster's admission refuses is not proposed, with its message."""
    api, kubeconfig = cluster
    api.admission.append(("memory.policy.example.com", lambda obj: (
        "memory limits above 128Mi need a ticket" if obj["metadata"]["name"] == "cart" else None)))
    live = cli("run", "--once", "--repo", str(build_origin(tmp_path / "work")),
               "--state-dir", str(tmp_path / "live"), "--kubeconfig", str(kubeconfig))
    assert live.returncode == 0, live.stderr
    cart = next(line for line in live.stdout.splitlines() if "Deployment/shop/cart" in line)
    assert cart.startswith("diagnose") and cart.endswith(
        "validation failed (dry-run: the API server refuses Deployment shop/cart: HTTP 403 "
        'Forbidden: admission webhook "memory.policy.example.com" denied the request: memory '
        "limits above 128Mi need a ticket)")
    titles = sorted(_pulls(tmp_path / "live"))
    assert titles and not [t for t in titles if "shop/cart" in t]


def test_run_continuous_plans_only_settled_incidents(cluster, tmp_path: Path):
    _, kubeconfig = cluster
    origin = build_origin(tmp_path / "work")
    now = [datetime(2026, 11, 20, 10, 30, tzinfo=UTC)]
    source = LiveSource(kubeconfig=str(kubeconfig), continuous=True, clock=lambda: now[0])
    try:
        first = run_once(None, str(origin), tmp_path / "state", live=source)
        assert first.plan.remediations == [] and first.submissions == []
        assert source.last is not None and len(source.last.pending) >= 6
        now[0] += timedelta(minutes=3)  # past the default 120 s settle window
        second = run_once(None, str(origin), tmp_path / "state", live=source)
    finally:
        source.close()
    assert {(r.incident.workload.name, r.incident.failure_class)
            for r in second.plan.remediations} >= {("cart", "OOMKilled"),
                                                   ("payments", "ImagePullBackOff")}
    assert [s for s in second.submissions if s.pull is not None]


def test_run_without_snapshot_or_cluster_is_one_line(tmp_path: Path):
    kubeconfig = tmp_path / "missing"
    out = cli("run", "--once", "--repo", str(tmp_path), "--kubeconfig", str(kubeconfig))
    assert out.returncode == 1 and "Traceback" not in out.stderr
