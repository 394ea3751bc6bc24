"""Model drafting end to end on recorded provider traffic (vcrpy, record mode `none`).

The cassettes hold the real clients' requests (see tests/support/llm_scenarios.py); a request that
differs from the recorded one in method, URL or body finds no answer and the test fails. Nothing
leaves the machine: the network is blocked except for loopback.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from remediator.cli import main
from remediator.model import Decision
from remediator.pipeline import plan, submit
from tests.support import llm_scenarios as sc
from tests.support.drafting import replay

pytestmark = pytest.mark.block_network(allowed_hosts=["127\\.0\\.0\\.1"])

PROVIDERS = ("openai", "anthropic")


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in sc.FAKE_KEYS.items():
        monkeypatch.setenv(k, v)


def prompt_text(body: dict) -> str:
    if "system" in body:  # anthropic
        return body["system"] + "\n" + body["messages"][0]["content"]
    return "\n".join(m["content"] for m in body["messages"])


@pytest.mark.parametrize("provider", [*PROVIDERS, "openai-compatible"])
def test_a_good_tool_call_becomes_a_validated_proposal(provider: str, tmp_path: Path):
    r, [sent] = replay(provider, "good", tmp_path / "repo", tmp_path / "cache")
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == sc.FILE
    assert "+            - name: DATABASE_URL" in change.diff
    assert "-            - name: DATABSE_URL" in change.diff
    assert r.validation is not None and r.validation.passed
    assert r.proposal is not None and sc.DECISIVE in r.proposal.diagnosis
    prov = r.as_json()["provenance"]
    assert prov["drafter"] == f"llm:{provider}" and prov["model"] == sc.MODELS[provider]
    assert prov["tokens"] == 1350 and prov["cost"] == "$0.0009"  # 1200 × 0.5 + 150 × 2 per 1M
    assert prov["cache"] == "miss" and prov["redactions"] >= 4
    # what left the process: the failing container only, no secret, evidence fenced as data
    text = prompt_text(sent)
    for secret in sc.SECRETS:
        assert secret not in text
    assert "proxy:2.1.0" not in text and "- proxy" in text  # the sidecar by name only
    assert sc.DECISIVE in text and "untrusted data" in text
    tools = sent["tools"]
    names = [t.get("name") or t["function"]["name"] for t in tools]
    assert names == ["propose_edits", "no_safe_fix"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("scenario", "why"), [
    ("injection", "securityContext.privileged"),
    ("allowlist", "secret 'cluster-admin-token' is not one the pod already uses"),
    ("file", "'apps/payments/deployment.yaml' is not one of"),
    ("malformed", "propose_edits arguments"),
])
def test_unsafe_or_broken_answers_are_refused_with_the_reason(
        provider: str, scenario: str, why: str, tmp_path: Path):
    r, _ = replay(provider, scenario, tmp_path / "repo", tmp_path / "cache")
    assert r.decision == Decision.DIAGNOSE
    assert r.changes == [] and r.proposal is not None and not r.proposal.edits
    assert why in r.proposal.provenance["rejected"]
    assert "refused before validation" in r.proposal.diagnosis
    assert r.as_json()["changes"] == []


@pytest.mark.parametrize("provider", [*PROVIDERS, "openai-compatible"])
def test_prompt_injection_never_reaches_a_pull_request(provider: str, tmp_path: Path):
    from remediator.forge import LocalForge

    sc.make_repo(tmp_path / "origin")
    forge = LocalForge(str(tmp_path / "origin"), tmp_path / "forge", "main")
    clone = forge.checkout()
    with sc.vcr_for("none").use_cassette(str(sc.cassette(provider, "injection"))):
        result = plan(sc.state(), clone, sc.config(provider), tmp_path / "cache")
    [r] = result.remediations
    assert r.decision == Decision.DIAGNOSE
    assert "image" in r.proposal.provenance["rejected"] or \
        "privileged" in r.proposal.provenance["rejected"]  # type: ignore[union-attr]
    assert submit(result, forge, sc.config(provider)) == []
    assert forge.pulls() == []
    assert "privileged" not in (clone / sc.FILE).read_text()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_safe_fix_is_the_models_diagnosis(provider: str, tmp_path: Path):
    r, _ = replay(provider, "nofix", tmp_path / "repo", tmp_path / "cache")
    assert r.decision == Decision.DIAGNOSE
    assert r.as_json()["diagnosis"].startswith("The database refuses connections")
    assert "rejected" not in r.proposal.provenance  # type: ignore[union-attr]


@pytest.mark.parametrize("provider", [*PROVIDERS, "openai-compatible"])
def test_a_refusal_falls_back_to_the_rules(provider: str, tmp_path: Path):
    r, _ = replay(provider, "refusal", tmp_path / "repo", tmp_path / "cache")
    assert r.decision == Decision.DIAGNOSE
    assert r.proposal is not None and r.proposal.drafter == "rules"
    assert "did not call a tool" in r.proposal.provenance["fallback"]
    assert "No deterministic rule fixes an application crash" in r.proposal.diagnosis


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_429_is_retried_after_retry_after(provider: str, tmp_path: Path):
    r, sent = replay(provider, "ratelimit", tmp_path / "repo", tmp_path / "cache")
    assert len(sent) == 2 and sent[0] == sent[1]
    assert r.decision == Decision.PROPOSE, r.reason


def test_a_429_beyond_max_retries_falls_back(tmp_path: Path):
    sc.make_repo(tmp_path / "repo")
    config = sc.config("openai")
    config.drafting.llm.max_retries = 0
    with sc.vcr_for("none").use_cassette(str(sc.cassette("openai", "ratelimit"))) as cass:
        [r] = plan(sc.state(), tmp_path / "repo", config, tmp_path / "cache").remediations
        assert cass.play_count == 1  # the 429 only; no retry was sent
    assert r.proposal is not None and r.proposal.drafter == "rules"
    assert "rate limited" in r.proposal.provenance["fallback"]


def test_a_repeated_incident_is_answered_from_the_cache(tmp_path: Path):
    first, _ = replay("anthropic", "good", tmp_path / "repo", tmp_path / "cache")
    # the cassette plays each answer once: a second request would find nothing and fall back
    with sc.vcr_for("none").use_cassette(str(sc.cassette("anthropic", "good"))) as cass:
        cass.play_counts[0] = 1  # already used up
        [again] = plan(sc.state(), tmp_path / "repo", sc.config("anthropic"),
                       tmp_path / "cache").remediations
    assert again.decision == Decision.PROPOSE
    assert [c.diff for c in again.changes] == [c.diff for c in first.changes]
    prov = again.as_json()["provenance"]
    assert prov["tokens"] == 0 and prov["cache"].startswith("hit")
    usage = json.loads(next((tmp_path / "cache" / "llm").glob("usage-*.json")).read_text())
    assert usage == {"tokens": 1350, "calls": 1}
    # a tampered cache entry is re-validated like a fresh answer
    [entry] = (tmp_path / "cache" / "llm" / "answers").glob("*.json")
    entry.write_text(json.dumps({"calls": [["propose_edits", {**sc.GOOD, "edits": [
        {"file": sc.FILE, "field": "securityContext.privileged", "value": True}]}]]}))
    [tampered] = plan(sc.state(), tmp_path / "repo", sc.config("anthropic"),
                      tmp_path / "cache").remediations
    assert tampered.decision == Decision.DIAGNOSE and tampered.changes == []
    assert "securityContext.privileged" in tampered.proposal.provenance["rejected"]  # type: ignore[union-attr]


def test_the_monthly_budget_falls_back_to_rules_without_a_request(tmp_path: Path):
    sc.make_repo(tmp_path / "repo")
    with sc.vcr_for("none").use_cassette(str(sc.cassette("openai", "good"))) as cass:
        [r] = plan(sc.state(), tmp_path / "repo",
                   sc.config("openai", "  monthlyTokenBudget: 500\n"),
                   tmp_path / "cache").remediations
        assert cass.play_count == 0
    assert r.proposal is not None and r.proposal.drafter == "rules"
    assert "monthly token budget (500)" in r.proposal.provenance["fallback"]


def test_a_missing_key_is_a_warning_and_rules_draft(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    sc.make_repo(tmp_path / "repo")
    result = plan(sc.state(), tmp_path / "repo", sc.config("anthropic"), tmp_path / "cache")
    assert any("ANTHROPIC_API_KEY is not set" in w for w in result.warnings)
    assert result.remediations[0].proposal.drafter == "rules"  # type: ignore[union-attr]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback endpoint that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/v1"
    stop.set()
    t.join()
    for c in conns:
        c.close()
    srv.close()


@pytest.mark.parametrize("provider", ["openai-compatible", "anthropic"])
def test_a_timeout_falls_back_to_rules(provider: str, tmp_path: Path, silent_server: str):
    sc.make_repo(tmp_path / "repo")
    config = sc.config("anthropic" if provider == "anthropic" else "openai",
                       f"  baseUrl: {silent_server}\n  timeoutSeconds: 0.3\n")
    config.drafting.provider = provider
    result = plan(sc.state(), tmp_path / "repo", config, tmp_path / "cache")
    [r] = result.remediations
    assert r.proposal is not None and r.proposal.drafter == "rules"
    assert "timed out after 0.3s" in r.proposal.provenance["fallback"]
    assert any("drafted by rules, model not used" in w and "timed out" in w
               for w in result.warnings)


def test_plan_cli_end_to_end_with_a_configured_provider(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    sc.make_repo(tmp_path / "repo")
    (tmp_path / "repo" / ".remediator.yaml").write_text(
        f"repo: {{url: {sc.REPO_URL}}}\ndrafting:\n  provider: anthropic\n"
        f"  model: {sc.MODELS['anthropic']}\n  maxRetries: 2\n"
        "  pricing: {inputPerMillion: 0.5, outputPerMillion: 2}\n")
    sc.write_snapshot(tmp_path / "snap")
    monkeypatch.setenv("REMEDIATOR_CACHE_DIR", str(tmp_path / "cache"))
    with sc.vcr_for("none").use_cassette(str(sc.cassette("anthropic", "good"))) as cass:
        out = CliRunner().invoke(main, ["plan", "--snapshot", str(tmp_path / "snap"),
                                        "--repo", str(tmp_path / "repo"), "--output", "json"])
        assert cass.all_played
    assert out.exit_code == 0, out.output
    [r] = json.loads(out.stdout)["remediations"]
    assert r["decision"] == "propose" and r["provenance"]["drafter"] == "llm:anthropic"
    assert (tmp_path / "cache" / "llm" / "answers").is_dir()


def test_run_once_opens_a_pr_whose_provenance_names_the_model(tmp_path: Path):
    sc.make_repo(tmp_path / "origin")
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump({
        "repo": {"url": sc.REPO_URL},
        "drafting": {"provider": "openai", "model": sc.MODELS["openai"], "maxRetries": 2,
                     "pricing": {"inputPerMillion": 0.5, "outputPerMillion": 2}}}))
    sc.write_snapshot(tmp_path / "snap")
    with sc.vcr_for("none").use_cassette(str(sc.cassette("openai", "good"))) as cass:
        out = CliRunner().invoke(main, [
            "run", "--once", "--snapshot", str(tmp_path / "snap"), "--repo",
            str(tmp_path / "origin"), "--state-dir", str(tmp_path / "state"),
            "--config", str(tmp_path / "cfg.yaml")])
        assert cass.all_played
    assert out.exit_code == 0, out.output
    assert "PR #1 [opened]" in out.stdout
    body = (tmp_path / "state" / "pulls" / "0001.md").read_text()
    assert f"- model: `{sc.MODELS['openai']}`" in body and "- tokens: `1350`" in body
    assert "- cost: `$0.0009`" in body and "- drafter: `llm:openai`" in body
    assert "- cache: `miss`" in body
    for secret in sc.LOG_SECRETS:  # (the repo's own file may hold a literal; its diff shows it)
        assert secret not in body
    assert (tmp_path / "state" / "cache" / "llm" / "answers").is_dir()


def test_cassettes_hold_no_credentials():
    for path in sc.CASSETTES.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        for i in data["interactions"]:
            headers = {k.lower() for k in i["request"]["headers"]}
            assert not headers & {"authorization", "x-api-key"}, path.name
            assert all(v not in i["request"]["body"] for v in sc.FAKE_KEYS.values())

