from __future__ import annotations

from pathlib import Path

import git
import jsonpatch
import pytest

from remediator.config import Drafting, MemoryRule
from remediator.draft import draft
from remediator.draft.allowlist import check_allowed
from remediator.draft.rules import format_memory
from remediator.model import (
    ROW,
    DocumentEdit,
    DocumentRef,
    Evidence,
    FailureClass,
    Incident,
    ObjectRef,
    Proposal,
    TargetKind,
)
from tests.support.drafting import LIVENESS, location, workload


def incident(cls: str, detail: str, spec: dict, **facts) -> Incident:
    ev = Evidence(container_spec=spec, restarts=7, facts=ROW[FailureClass(cls)].facts(**facts))
    return Incident("c", ObjectRef("apps/v1", "Deployment", "shop", "cart"), cls, "cart", detail,
                    ["cart-1"], "msg", ev)


def apply(doc: dict, proposal: Proposal) -> dict:
    [edit] = [e for e in proposal.edits if not e.create]
    return jsonpatch.apply_patch(doc, edit.ops)


@pytest.mark.parametrize(("n", "text"), [(192 * 2**20, "192Mi"), (3 * 2**30, "3Gi"),
                                         (1536 * 2**20, "1536Mi"), (100.5 * 2**20, "101Mi")])
def test_format_memory(n: float, text: str):
    assert format_memory(n) == text


def test_oom_raises_limit_from_the_observed_value(tmp_path: Path):
    doc = workload()
    spec = doc["spec"]["template"]["spec"]["containers"][1]
    p = draft(incident("OOMKilled", "memory limit 128Mi", spec), location(doc), Drafting(),
              tmp_path)
    after = apply(doc, p)
    assert after["spec"]["template"]["spec"]["containers"][1]["resources"]["limits"] == {
        "memory": "192Mi"}
    assert after["spec"]["template"]["spec"]["containers"][0] == doc["spec"]["template"]["spec"][
        "containers"][0]
    assert p.changes == [{"file": "apps/cart/d.yaml",
                          "field": "containers[cart].resources.limits.memory",
                          "old": "128Mi", "new": "192Mi"}]
    # the old value is tested, so a replay on a file that moved on fails instead of clobbering
    assert p.edits[0].ops[0] == {"op": "test", "value": "128Mi", "path":
                                 "/spec/template/spec/containers/1/resources/limits/memory"}


def test_oom_respects_the_cap(tmp_path: Path):
    doc = workload("3Gi")
    spec = doc["spec"]["template"]["spec"]["containers"][1]
    settings = Drafting(memory=MemoryRule(factor=2, cap="4Gi"))
    p = draft(incident("OOMKilled", "memory limit 3Gi", spec), location(doc), settings, tmp_path)
    assert apply(doc, p)["spec"]["template"]["spec"]["containers"][1]["resources"]["limits"][
        "memory"] == "4Gi"
    doc = workload("4Gi")
    spec = doc["spec"]["template"]["spec"]["containers"][1]
    p = draft(incident("OOMKilled", "memory limit 4Gi", spec), location(doc), settings, tmp_path)
    assert not p.has_edits and "cap" in p.reason


def test_oom_when_repo_already_raised_is_a_diagnosis(tmp_path: Path):
    live = workload("128Mi")["spec"]["template"]["spec"]["containers"][1]
    p = draft(incident("OOMKilled", "memory limit 128Mi", live), location(workload("256Mi")),
              Drafting(), tmp_path)
    assert not p.has_edits
    assert "waiting for sync" in p.reason


def test_oom_into_an_overlay_patch_that_lacks_the_container(tmp_path: Path):
    patch = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cart"},
             "spec": {"replicas": 4}}
    live = workload()["spec"]["template"]["spec"]["containers"][1]
    loc = location(patch, TargetKind.PATCH, rendered=workload())
    p = draft(incident("OOMKilled", "memory limit 128Mi", live), loc, Drafting(), tmp_path)
    assert apply(patch, p)["spec"] == {"replicas": 4, "template": {"spec": {"containers": [
        {"name": "cart", "resources": {"limits": {"memory": "192Mi"}}}]}}}


def test_probe_failure_at_startup_adds_a_startup_probe(tmp_path: Path):
    doc = workload()
    spec = doc["spec"]["template"]["spec"]["containers"][1]
    inc = incident("ProbeFailure", "liveness", spec, probe="liveness", at_startup=True,
                   run_seconds=35.0, probe_window_seconds=40.0)
    p = draft(inc, location(doc), Drafting(), tmp_path)
    c = apply(doc, p)["spec"]["template"]["spec"]["containers"][1]
    assert c["startupProbe"] == {"httpGet": {"path": "/health", "port": 8080},
                                 "periodSeconds": 10, "failureThreshold": 30}
    assert c["livenessProbe"] == LIVENESS  # liveness itself is untouched


def test_probe_failure_after_startup_is_only_diagnosed(tmp_path: Path):
    doc = workload()
    spec = doc["spec"]["template"]["spec"]["containers"][1]
    inc = incident("ProbeFailure", "liveness", spec, probe="liveness", at_startup=False)
    assert not draft(inc, location(doc), Drafting(), tmp_path).has_edits


def _history_repo(root: Path, tags: list[str]) -> None:
    repo = git.Repo.init(root, initial_branch="main")
    actor = git.Actor("t", "t@example.invalid")
    (root / "apps/cart").mkdir(parents=True)
    for tag in tags:
        (root / "apps/cart/d.yaml").write_text(
            f"kind: Deployment\nspec:\n  image: ghcr.io/acme/cart:{tag}\n")
        repo.index.add(["apps/cart/d.yaml"])
        repo.index.commit(f"cart {tag}", author=actor, committer=actor)


def test_image_revert_picks_the_last_tag_that_ran(tmp_path: Path):
    _history_repo(tmp_path, ["1.9.0", "2.0.0-broken-build", "1.9.1", "2.0.0"])
    doc = workload(image="ghcr.io/acme/cart:2.0.0")
    spec = doc["spec"]["template"]["spec"]["containers"][1]
    inc = incident("ImagePullBackOff", "ghcr.io/acme/cart:2.0.0", spec)
    inc.evidence.images_that_ran = ["ghcr.io/acme/cart:1.9.1", "ghcr.io/acme/cart:1.9.0"]
    p = draft(inc, location(doc), Drafting(), tmp_path)
    c = apply(doc, p)["spec"]["template"]["spec"]["containers"][1]
    assert c["image"] == "ghcr.io/acme/cart:1.9.1"
    assert "cart 1.9.1" in p.diagnosis


@pytest.mark.parametrize("ran", [["ghcr.io/acme/cart:0.1.0"], []])
def test_image_revert_without_evidence_of_a_good_tag_is_a_diagnosis(tmp_path: Path, ran):
    # a tag that ran but was never in this file, or no running tag at all: the previous tag in
    # git alone is not known to work, so nothing is proposed
    _history_repo(tmp_path, ["1.9.0", "2.0.0"])
    doc = workload(image="ghcr.io/acme/cart:2.0.0")
    spec = doc["spec"]["template"]["spec"]["containers"][1]
    inc = incident("ImagePullBackOff", "ghcr.io/acme/cart:2.0.0", spec)
    inc.evidence.images_that_ran = ran
    p = draft(inc, location(doc), Drafting(), tmp_path)
    assert not p.has_edits
    # what ran is said as what it is: never "no tag known to have run (tags seen running: X)"
    if ran:
        assert "Tags seen running here: 0.1.0, none of them set by an earlier commit of " \
               "`apps/cart/d.yaml`" in p.diagnosis
    else:
        assert "No tag of ghcr.io/acme/cart is seen running here" in p.diagnosis
    assert "tags seen running: " not in p.diagnosis
    assert p.diagnosis.endswith("then fix the tag in the repository.")


def test_image_history_keeps_tags_as_written(tmp_path: Path):
    repo = git.Repo.init(tmp_path, initial_branch="main")
    actor = git.Actor("t", "t@example.invalid")
    for tag in ("1.10", "1.11"):
        (tmp_path / "kustomization.yaml").write_text(
            f"images:\n  - name: ghcr.io/acme/cart\n    newTag: {tag}\n")
        repo.index.add(["kustomization.yaml"])
        repo.index.commit(tag, author=actor, committer=actor)
    from remediator.draft.history import image_tags
    assert [t.tag for t in image_tags(tmp_path, "kustomization.yaml", "ghcr.io/acme/cart")] == [
        "1.11", "1.10"]  # not 1.1


def test_init_container_is_edited_where_it_is(tmp_path: Path):
    doc = workload()
    doc["spec"]["template"]["spec"]["initContainers"] = [
        {"name": "migrate", "image": "ghcr.io/acme/migrate:1",
         "resources": {"requests": {"memory": "64Mi"}, "limits": {"memory": "64Mi"}}}]
    spec = doc["spec"]["template"]["spec"]["initContainers"][0]
    inc = incident("OOMKilled", "memory limit 64Mi", spec)
    inc.container = "migrate"
    after = apply(doc, draft(inc, location(doc), Drafting(), tmp_path))
    assert after["spec"]["template"]["spec"]["initContainers"][0]["resources"]["limits"] == {
        "memory": "96Mi"}
    assert len(after["spec"]["template"]["spec"]["containers"]) == 2


def test_a_full_manifest_never_gains_a_container(tmp_path: Path):
    doc = workload()
    spec = {"name": "ghost", "resources": {"limits": {"memory": "64Mi"}}}
    inc = incident("OOMKilled", "memory limit 64Mi", spec)
    inc.container = "ghost"
    p = draft(inc, location(doc), Drafting(), tmp_path)
    assert not p.has_edits
    assert "not in the located document" in p.diagnosis


def test_oom_keeps_the_request_when_the_repo_had_none(tmp_path: Path):
    doc = workload()
    del doc["spec"]["template"]["spec"]["containers"][1]["resources"]["requests"]
    live = {"name": "cart", "resources": {"requests": {"memory": "128Mi"},
                                          "limits": {"memory": "128Mi"}}}
    p = draft(incident("OOMKilled", "memory limit 128Mi", live), location(doc), Drafting(),
              tmp_path)
    c = apply(doc, p)["spec"]["template"]["spec"]["containers"][1]
    assert c["resources"] == {"limits": {"memory": "192Mi"}, "requests": {"memory": "128Mi"}}


def test_allow_list_refuses_fields_outside_the_class_and_other_files():
    doc = workload()
    loc = location(doc)
    sneaky = Proposal("llm", "r", "d", [DocumentEdit(loc.target, [
        {"op": "add", "path": "/spec/template/spec/containers/1/securityContext",
         "value": {"privileged": True}}])])
    assert "securityContext/privileged" in check_allowed("OOMKilled", loc, sneaky)
    elsewhere = Proposal("llm", "r", "d", [DocumentEdit(DocumentRef("apps/other.yaml"), [
        {"op": "replace", "path": "/spec/template/spec/containers/1/resources/limits/memory",
         "value": "1Gi"}])])
    assert "not a located file" in check_allowed("OOMKilled", loc, elsewhere)
    image_in_oom = Proposal("llm", "r", "d", [DocumentEdit(loc.target, [
        {"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "evil:1"}])])
    assert "not allowed for OOMKilled" in check_allowed("OOMKilled", loc, image_in_oom)


def test_allow_list_never_renames_an_existing_document_or_container():
    loc = location(workload())
    rename = Proposal("llm", "r", "d", [DocumentEdit(loc.target, [
        {"op": "replace", "path": "/metadata/name", "value": "other"}])])
    assert "metadata/name" in check_allowed("OOMKilled", loc, rename)
    container = Proposal("llm", "r", "d", [DocumentEdit(loc.target, [
        {"op": "replace", "path": "/spec/template/spec/containers/1/name", "value": "x"}])])
    assert "containers/1/name" in check_allowed("OOMKilled", loc, container)
    moved = Proposal("llm", "r", "d", [DocumentEdit(loc.target, [
        {"op": "add", "path": "/metadata/namespace", "value": "kube-system"}])])
    assert "metadata/namespace" in check_allowed("OOMKilled", loc, moved)
