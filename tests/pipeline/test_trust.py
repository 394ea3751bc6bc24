"""The planner's side of graduated trust: how recently an image tag ran (the image-revert guard
rail), and the guard rails judged from a plan (gate, dry-run, change kind)."""

from __future__ import annotations

from remediator.config import parse_config
from remediator.model import (
    CheckResult,
    ClusterState,
    Decision,
    Evidence,
    Incident,
    ObjectRef,
    Proposal,
    Remediation,
    TrustDecision,
    Validation,
)
from remediator.pipeline.trust import image_age_hours, judge_automerge

WEB = ObjectRef("apps/v1", "Deployment", "apps", "web")


def _rs(name: str, revision: int, created: str) -> dict[str, object]:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "apps", "creationTimestamp": created,
                         "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                         "ownerReferences": [{"kind": "Deployment", "name": "web"}]}}


def _incident(ran_where: dict[str, str]) -> Incident:
    return Incident("c", WEB, "ImagePullBackOff", "web", "r/web:2.0", ["web-x"], "cannot pull",
                    Evidence(images_that_ran=list(ran_where), ran_where=ran_where))


def _state(*objects: dict[str, object]) -> ClusterState:
    return ClusterState("c", "2026-12-05T12:00:00Z",
                        objects={ObjectRef.of(o): o for o in objects})


def test_a_tag_running_now_is_zero_hours_old():
    inc = _incident({"r/web:1.9": "ready pods of ReplicaSet web-1"})
    assert image_age_hours(_state(), inc, "1.9") == 0.0


def test_a_scaled_down_tag_ran_until_the_next_rollout_started():
    old, new = _rs("web-1", 1, "2026-12-01T00:00:00Z"), _rs("web-2", 2, "2026-12-05T06:00:00Z")
    inc = _incident({"r/web:1.9": "ReplicaSet web-1 (revision 1), scaled down since a later "
                                  "rollout replaced it"})
    assert image_age_hours(_state(old, new), inc, "1.9") == 6.0


def test_a_tag_only_seen_in_a_nodes_image_list_has_no_known_age():
    inc = _incident({"r/web:1.9": "node n1's image list"})
    assert image_age_hours(_state(), inc, "1.9") is None


def _proposed(kind: str, checks: list[CheckResult]) -> Remediation:
    inc = Incident("c", WEB, "OOMKilled", "web", "memory limit 128Mi", ["web-x"], "OOMKilled",
                   Evidence())
    prop = Proposal("rules", "raised", "d", kind=kind)
    return Remediation(inc, Decision.PROPOSE, "raised", proposal=prop,
                       validation=Validation(checks),
                       trust=TrustDecision(level="automerge", rule="r"))


PASSED = [CheckResult(n, True) for n in ("policy", "schema", "render", "post-condition",
                                         "dry-run")]


def test_the_plan_judges_the_gate_the_dry_run_and_the_kind():
    config = parse_config("trust:\n  rules:\n    - level: automerge\n")
    ok = _proposed("memory-limit-raise", PASSED)
    judge_automerge(ok, config, None)
    assert ok.trust.refusal == "" and ok.trust.as_json()["automerge"]["allowed"] is True
    not_run = _proposed("memory-limit-raise", [*PASSED[:4], CheckResult("dry-run", False,
                                                                         ran=False)])
    judge_automerge(not_run, config, None)
    assert not_run.trust.refusal == "the server-side dry-run did not run"
    no_post = _proposed("memory-limit-raise", [PASSED[0], PASSED[4]])
    judge_automerge(no_post, config, None)
    assert no_post.trust.refusal == "the gate did not pass every check"
    model = _proposed("", PASSED)  # a model's draft has no kind: never auto-merged
    judge_automerge(model, config, None)
    assert "the change (unclassified) is not an automerge kind" in model.trust.refusal
