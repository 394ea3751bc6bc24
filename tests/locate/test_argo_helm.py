"""Helm through Argo CD, on the argocd-example-apps helm-guestbook layout (chart in the repo with
values-production.yaml) and a multi-source Application reading `$values` (written from their
public shape)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from remediator.cluster.snapshot import build_state
from remediator.model import Decision
from remediator.pipeline import plan
from tests.support import kube
from tests.support.argo_helm import CHART, application, live
from tests.support.repos import CONFIG, REPO_URL, commit, only


def added(diff: str) -> list[str]:
    return [ln for ln in diff.splitlines() if ln.startswith("+") and ln[:3] != "+++"]


def test_oom_goes_to_the_last_environment_value_file(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]")}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "helm-guestbook/values-production.yaml"
    # the pods' request (Kubernetes defaulted it to the limit) is kept explicitly
    assert added(change.diff) == ["+resources:", "+  limits:", "+    memory: 192Mi",
                                  "+  requests:", "+    memory: 128Mi"]
    assert "last (most environment-specific) value file" in r.location.why  # type: ignore[union-attr]
    assert "reads `.Values.resources`" in r.location.why  # type: ignore[union-attr]


def test_values_object_that_sets_the_key_wins(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]"
        "\n              valuesObject:"
        "\n                resources:"
        "\n                  limits: {memory: 128Mi}")}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "argocd/helm-guestbook.yaml"
    assert "limits: {memory: 192Mi}" in change.new_text


def test_multi_source_values_ref_with_a_remote_chart(tmp_path: Path, monkeypatch):
    # without Helm the chart is not fetched: the conventional keys, and the PR says so (with
    # Helm, a chart repository that cannot be reached is a diagnosis: tests/e2e/test_helm_charts)
    monkeypatch.setenv("REMEDIATOR_HELM", "off")
    sources = f"""
          sources:
            - repoURL: https://charts.example.com
              chart: guestbook
              targetRevision: 1.2.3
              helm:
                valueFiles: [$values/envs/prod/guestbook.yaml]
            - repoURL: {REPO_URL}
              targetRevision: main
              ref: values"""
    commit(tmp_path, {"envs/prod/guestbook.yaml": "replicaCount: 3\nresources:\n  limits:\n"
                                                  "    memory: 128Mi\n",
                      "argocd/helm-guestbook.yaml": application("", sources)}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "envs/prod/guestbook.yaml"
    assert [ln for ln in change.diff.splitlines() if ln[:1] in "+-" and ln[:3] not in (
        "+++", "---")] == ["+    memory: 192Mi", "+  requests:"]  # 128Mi: the request
    assert "conventional values keys" in r.location.why  # type: ignore[union-attr]


def test_multi_source_application_from_the_cluster_keeps_its_values_ref(
        tmp_path: Path, monkeypatch):
    # the Application only in the cluster (an app-of-apps chart, an ApplicationSet): Argo CD's
    # `ref: values` is a string, where Flux's `spec.ref` is an object; the snapshot used to drop
    # the whole Application as malformed and skip "not found"
    monkeypatch.setenv("REMEDIATOR_HELM", "off")
    sources = f"""
          sources:
            - repoURL: https://charts.example.com
              chart: guestbook
              targetRevision: 1.2.3
              helm:
                valueFiles: [$values/envs/prod/guestbook.yaml]
            - repoURL: {REPO_URL}
              targetRevision: main
              ref: values"""
    commit(tmp_path, {"envs/prod/guestbook.yaml": "resources:\n  limits:\n    memory: 128Mi\n"},
           "init")
    app = yaml.safe_load(textwrap.dedent(application("", sources)))
    state = build_state([app, *live()], "c")
    assert state.warnings == []
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["envs/prod/guestbook.yaml"]


def test_the_charts_own_values_file_is_never_edited(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              releaseName: guestbook")}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "values.yaml is not edited" in r.reason


def test_a_helm_parameter_that_sets_the_value_is_where_it_changes(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]"
        "\n              parameters:"
        "\n                - {name: resources.limits.memory, value: 128Mi}")}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "argocd/helm-guestbook.yaml"
    assert [ln for ln in change.diff.splitlines() if ln[:1] in "+-" and ln[:3] not in (
        "+++", "---")] == ["-        - {name: resources.limits.memory, value: 128Mi}",
                           "+        - {name: resources.limits.memory, value: 192Mi}"]
    # one parameter holds one value: the request that follows the limit is said, not hidden
    assert r.proposal is not None
    assert r.proposal.risk.startswith("No values layer sets a memory request: unless the chart "
                                      "sets one, Kubernetes defaults it to the limit, so what "
                                      "each pod reserves rises to 192Mi too"), r.proposal.risk


def test_a_broader_helm_parameter_is_reported_not_overridden(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]"
        "\n              parameters:"
        "\n                - {name: resources.limits.memory.extra, value: x}")}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "helm.parameters" in r.reason


def test_image_updater_parameter_file_takes_the_tag_revert(tmp_path: Path):
    updater = ("helm:\n  parameters:\n  - name: image.tag\n    value: \"{}\"\n"
               "    forcestring: true\n")
    app = application("\n              valueFiles: [values-production.yaml]")
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": app,
                      "helm-guestbook/.argocd-source-helm-guestbook.yaml": updater.format("0.1")},
           "image updater: 0.1")
    commit(tmp_path, {"helm-guestbook/.argocd-source-helm-guestbook.yaml": updater.format("0.2")},
           "image updater: 0.2")
    items = live(kube.waiting("helm-guestbook", "ImagePullBackOff",
                             image="gcr.io/heptio-images/ks-guestbook-demo:0.2"))
    items[0]["spec"]["template"]["spec"]["containers"][0]["image"] = (
        "gcr.io/heptio-images/ks-guestbook-demo:0.2")
    old = kube.replicaset(items[0], suffix="6c9f7d8b5", ready=1, revision=1)
    old["spec"] = {"template": {"spec": {"containers": [kube.container(
        "helm-guestbook", image="gcr.io/heptio-images/ks-guestbook-demo:0.1")]}}}
    r = only(plan(build_state([*items, old], "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "helm-guestbook/.argocd-source-helm-guestbook.yaml"
    assert change.new_text == updater.format("0.1")


def test_an_override_files_parameters_replace_the_applications(tmp_path: Path):
    # the file's parameter list replaces the Application's: the Application's memory parameter
    # no longer applies, so the last value file is the layer
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]"
        "\n              parameters:"
        "\n                - {name: resources.limits.memory, value: 64Mi}"),
        "helm-guestbook/.argocd-source-helm-guestbook.yaml":
            "helm:\n  parameters:\n  - name: image.tag\n    value: '0.1'\n"}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["helm-guestbook/values-production.yaml"]


def test_a_chart_values_file_listed_last_is_not_edited(tmp_path: Path):
    chart = {**CHART, "helm-guestbook/values.yaml": "resources:\n  limits:\n    memory: 128Mi\n"}
    commit(tmp_path, {**chart, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml, values.yaml]")}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP and "own values.yaml sets" in r.reason


def test_a_missing_value_file_is_a_skip_unless_ignored(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml, values-missing.yaml]")}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP and "values-missing.yaml` of" in r.reason
    commit(tmp_path, {"argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml, values-missing.yaml]"
        "\n              ignoreMissingValueFiles: true")}, "ignore")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason


def changed(diff: str) -> list[str]:
    return [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]


def test_an_override_files_values_object_that_sets_the_key_wins(tmp_path: Path):
    # the app-specific file is merged last, over `.argocd-source.yaml` and the Application
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]"
        "\n              valuesObject:"
        "\n                resources:"
        "\n                  limits: {memory: 64Mi}"),
        "helm-guestbook/.argocd-source.yaml":
            "helm:\n  valuesObject:\n    resources:\n      limits:\n        memory: 96Mi\n",
        "helm-guestbook/.argocd-source-helm-guestbook.yaml":
            "# set from the UI\nhelm:\n  valuesObject:\n    resources:\n      limits:\n"
            "        memory: 128Mi\n    replicaCount: 2\n"}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "helm-guestbook/.argocd-source-helm-guestbook.yaml"
    assert changed(change.diff) == ["+        memory: 192Mi", "+      requests:"]
    assert "merges the override file over them" in r.location.why  # type: ignore[union-attr]


def test_a_generic_override_file_wins_over_the_application(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valuesObject:"
        "\n                resources:"
        "\n                  limits: {memory: 64Mi}"),
        "helm-guestbook/.argocd-source.yaml":
            "helm:\n  valuesObject:\n    resources:\n      limits:\n        memory: 128Mi\n",
        # the app-specific file does not set it: the merged view takes it from the generic one
        "helm-guestbook/.argocd-source-helm-guestbook.yaml":
            "helm:\n  valuesObject:\n    replicaCount: 2\n"}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "helm-guestbook/.argocd-source.yaml"
    assert changed(change.diff) == ["+        memory: 192Mi", "+      requests:"]


def test_an_override_files_value_files_replace_the_applications(tmp_path: Path):
    chart = {**CHART, "helm-guestbook/values-staging.yaml": "resources:\n  limits:\n"
                                                           "    memory: 64Mi\n",
             "helm-guestbook/values-canary.yaml": "# canary\nreplicaCount: 1\n"}
    commit(tmp_path, {**chart, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-staging.yaml]"),
        "helm-guestbook/.argocd-source-helm-guestbook.yaml":
            "helm:\n  valueFiles:\n  - values-production.yaml\n  - values-canary.yaml\n"}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    # values-staging.yaml sets the key but no longer applies: the override's list replaced it
    assert change.path == "helm-guestbook/values-canary.yaml"
    assert added(change.diff) == ["+resources:", "+  limits:", "+    memory: 192Mi",
                                  "+  requests:", "+    memory: 128Mi"]
    assert "which replaces the Application's value files" in r.location.why  # type: ignore[union-attr]


def test_an_override_files_values_string_that_sets_the_key_is_reported(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]"),
        "helm-guestbook/.argocd-source.yaml":
            "helm:\n  values: |\n    resources:\n      limits:\n        memory: 128Mi\n"}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert r.reason.startswith("`helm-guestbook/.argocd-source.yaml` sets `resources.limits."
                               "memory` inside its `helm.values` string")


def test_an_override_that_replaces_a_parent_key_is_reported(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valuesObject:"
        "\n                resources:"
        "\n                  limits: {memory: 64Mi}"),
        "helm-guestbook/.argocd-source.yaml": "helm:\n  valuesObject:\n    resources: null\n"},
        "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "replaces `resources` in helm.valuesObject with a non-mapping" in r.reason


def test_an_override_of_other_helm_settings_is_reported(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]"),
        "helm-guestbook/.argocd-source.yaml": "helm:\n  releaseName: other\n"}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "overrides releaseName of Argo CD Application helm-guestbook" in r.reason


def test_a_liveness_kill_at_startup_adds_a_startup_probe_to_the_value_file(tmp_path: Path):
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]")}, "init")
    liveness = {"tcpSocket": {"port": 80}, "periodSeconds": 10, "failureThreshold": 3}
    items = live(kube.crashing("helm-guestbook", reason="Error", code=143,
                              started="2026-11-20T10:27:25Z", finished="2026-11-20T10:28:00Z"))
    items[0]["spec"]["template"]["spec"]["containers"][0]["livenessProbe"] = liveness
    items[2]["spec"]["containers"][0]["livenessProbe"] = liveness
    items.append(kube.event(items[2], "Unhealthy", "Liveness probe failed: dial tcp: refused",
                           count=12, field_path="spec.containers{helm-guestbook}"))
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "helm-guestbook/values-production.yaml"
    assert added(change.diff) == ["+startupProbe:", "+  tcpSocket:", "+    port: 80",
                                  "+  periodSeconds: 10", "+  failureThreshold: 30"]
    assert "container helm-guestbook reads `.Values.resources`, `.Values.image`, " \
           "`.Values.startupProbe`" in r.location.why  # type: ignore[union-attr]


def test_an_override_that_nulls_the_values_object_leaves_the_value_files(tmp_path: Path):
    # a null in the merge patch deletes the Application's valuesObject: its memory no longer
    # applies, so the last value file is the layer
    commit(tmp_path, {**CHART, "argocd/helm-guestbook.yaml": application(
        "\n              valueFiles: [values-production.yaml]"
        "\n              valuesObject:"
        "\n                resources:"
        "\n                  limits: {memory: 64Mi}"),
        "helm-guestbook/.argocd-source.yaml": "helm:\n  valuesObject: null\n"}, "init")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["helm-guestbook/values-production.yaml"]
