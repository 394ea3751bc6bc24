from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import git
import pytest

from remediator.forge import ForgeError, LocalForge, parse_record, render_body, title
from remediator.model import ROW, EventSummary, Wording
from tests.support.forge import make_origin, remediation


def test_body_has_the_sections_and_a_parseable_hidden_record():
    r = remediation()
    body = render_body(r, "abc123")
    for section in ("## Summary", "## Evidence", "## Diagnosis", "## The change", "## Validation",
                    "## Risk and rollback", "## Provenance"):
        assert section in body
    record = parse_record(body)
    assert record is not None
    assert record["signature"] == r.incident.signature
    assert record["detail"] == "memory limit 128Mi -- odd"  # "--" cannot end the HTML comment
    assert record["base"] == "abc123"
    assert record["ops"][0]["ops"][0]["value"] == "192Mi"
    assert body.count("-->") == 1
    assert "Back-off restarting \\| pipe" in body  # table cells stay one cell
    assert "````" in body  # a fence inside the log excerpt does not close the block
    assert title(r) == ("fix(shop/cart): OOMKilled — memory limit 128Mi exceeded; "
                        "raised to 192Mi")


def test_local_forge_pushes_a_branch_and_records_the_pull(tmp_path: Path):
    origin = make_origin(tmp_path)
    forge = LocalForge(str(origin), tmp_path / "state")
    clone = forge.checkout()
    forge.start_branch("remediator/shop-cart-oomkilled")
    (clone / "app.yaml").write_text("memory: 192Mi\n")
    sha = forge.commit_and_push("remediator/shop-cart-oomkilled", "fix: raise", ["app.yaml"])
    r = remediation()
    pr = forge.open_pull("t", render_body(r, "base"), "remediator/shop-cart-oomkilled",
                         ["remediator"], r.incident.signature, sha)
    assert pr.number == 1
    bare = git.Repo(origin)
    assert bare.commit("remediator/shop-cart-oomkilled").hexsha == sha
    assert bare.git.show("remediator/shop-cart-oomkilled:app.yaml") == "memory: 192Mi"
    assert bare.git.show("main:app.yaml") == "memory: 128Mi"
    assert bare.commit(sha).author.name == "remediator[bot]"
    # a restart loses nothing: a new forge object finds the PR by its hidden record
    again = LocalForge(str(origin), tmp_path / "state")
    found = again.find_by_signature(r.incident.signature)
    assert found is not None and found.number == 1
    assert again.find_by_signature("other") is None
    assert (tmp_path / "state" / "pulls" / "0001.md").read_text().startswith("# t\n")


def test_unreachable_remote_is_a_one_line_error(tmp_path: Path):
    forge = LocalForge(str(tmp_path / "nope.git"), tmp_path / "state")
    with pytest.raises(ForgeError) as err:
        forge.checkout()
    assert "\n" not in str(err.value)
    assert "cannot check out main" in str(err.value)


def test_a_look_alike_record_in_the_evidence_does_not_steer_dedup():
    r = remediation()
    r.incident.evidence.log_excerpt = (
        '<!-- remediator:record {"signature": "someone/else"} -->\nreal log line')
    body = render_body(r, "base")
    assert parse_record(body)["signature"] == r.incident.signature


def test_two_signatures_of_one_workload_and_class_get_their_own_branches(tmp_path: Path):
    from remediator.config import Config
    from remediator.pipeline import Plan, submit

    origin = make_origin(tmp_path)
    forge = LocalForge(str(origin), tmp_path / "state")
    forge.checkout()
    first, second = remediation(), remediation()
    second.incident.container = "sidecar"  # same workload and class, another signature
    subs = submit(Plan([first, second]), forge, Config())
    assert [s.outcome for s in subs] == ["opened", "opened"]
    branches = [s.pull.branch for s in subs if s.pull]
    assert branches[0] == "remediator/shop-cart-oomkilled"
    assert branches[1].startswith("remediator/shop-cart-oomkilled-") and len(set(branches)) == 2
    bare = git.Repo(origin)
    assert {h.name for h in bare.heads} >= set(branches)
    # the next pass finds both, opens nothing, and a closed PR silences its signature
    forge.set_state(subs[1].pull.number, "closed")
    again = submit(Plan([first, second]), forge, Config())
    assert [s.outcome for s in again] == ["exists", "silenced"]


def test_relative_state_dir_gives_absolute_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    forge = LocalForge(str(make_origin(tmp_path)), Path("state"))
    forge.checkout()
    pr = forge.open_pull("t", "b", "x", [], "sig", "sha")
    assert pr.url.startswith("file:///")


def test_untrusted_event_text_cannot_render_markup():
    r = remediation()
    r.incident.evidence.events = [EventSummary(
        "Unhealthy", "probe said: @acme/admins ![x](https://evil/x.png) <img src=x> `tick`", 3,
        "Pod shop/x")]
    body = render_body(r, "base")
    row = next(ln for ln in body.splitlines() if ln.startswith("| Unhealthy"))
    assert row == ("| Unhealthy | 3 | `` probe said: @acme/admins ![x](https://evil/x.png) "
                   "<img src=x> `tick` `` |")


def test_the_pr_wording_is_the_class_rows(monkeypatch: pytest.MonkeyPatch):
    """Title and first sentence come from the class table (model/classes.py `Wording`): a class
    worded otherwise needs its row only."""
    r = remediation()
    cls = r.incident.failure_class
    monkeypatch.setitem(ROW, cls, replace(ROW[cls], wording=Wording(
        title="chore({namespace}/{name}): {change}",
        summary="**{workload}** needs a hand ({failure_class}): {message}.")))
    assert title(r) == "chore(shop/cart): memory limit 128Mi exceeded; raised to 192Mi"
    assert "**Deployment shop/cart** needs a hand (OOMKilled): `" in render_body(r, "abc123")


@pytest.mark.parametrize("cls", ["RightSizing", "CPUThrottling"])
def test_usage_classes_do_not_call_the_workload_failing(cls: str):
    """A right-sizing change or a throttling fix is not a failure: the first sentence says what
    the numbers show (their rows' wording), not that the workload is failing."""
    r = remediation()
    r.incident.failure_class = cls
    summary = render_body(r, "abc123").split("## Summary\n", 1)[1].splitlines()[0]
    assert "failing" not in summary
    assert summary.startswith("**Deployment shop/cart** ") and f"(**{cls}**)" in summary
