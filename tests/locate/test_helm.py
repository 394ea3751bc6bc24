"""Helm through Flux, on the flux2-kustomize-helm-example layout (written from its public shape):
apps/base/<app>/{release,repository}.yaml, apps/<env>/{kustomization.yaml,<app>-values.yaml}."""

from __future__ import annotations

from pathlib import Path

from remediator.cluster.snapshot import build_state
from remediator.model import Decision
from remediator.pipeline import plan
from remediator.render.helm import helm_binary
from tests.support import kube
from tests.support.flux_helm import VALUES, live, repo
from tests.support.repos import CONFIG, commit, only


def test_oom_goes_into_the_environment_values_patch(tmp_path: Path):
    repo(tmp_path)
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "apps/production/podinfo-values.yaml"
    added = [ln for ln in change.diff.splitlines() if ln.startswith("+") and ln[:3] != "+++"]
    assert added == ["+    resources:", "+      limits:", "+        memory: 192Mi"]
    assert "HelmRelease podinfo" in r.location.why  # type: ignore[union-attr]
    assert "conventional values keys" in r.location.why  # type: ignore[union-attr]
    render = next(c for c in r.validation.checks if c.name == "render")  # type: ignore[union-attr]
    assert render.passed and any("predicted from the new values" in m for m in render.messages)


PODINFO_CHART = {
    "charts/podinfo/Chart.yaml": "apiVersion: v2\nname: podinfo\nversion: 1.0.0\n",
    "charts/podinfo/values.yaml": "image:\n  repository: ghcr.io/stefanprodan/podinfo\n"
                                  "  tag: 6.5.0\nresources: {}\n",
    "charts/podinfo/templates/_helpers.tpl":
        '{{- define "podinfo.fullname" -}}{{ .Release.Name }}{{- end }}\n',
    "charts/podinfo/templates/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ template "podinfo.fullname" . }}
        spec:
          template:
            spec:
              containers:
                - name: {{ .Chart.Name }}
                  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
                  {{- with .Values.startupProbe }}
                  startupProbe:
                    {{- toYaml . | nindent 12 }}
                  {{- end }}
                  resources:
        {{ toYaml .Values.resources | indent 12 }}
        """,
}


def test_a_chart_in_the_repo_that_does_not_read_the_key_is_a_diagnosis(tmp_path: Path):
    template = PODINFO_CHART["charts/podinfo/templates/deployment.yaml"].replace(
        "{{ toYaml .Values.resources | indent 12 }}", "            limits: {memory: 128Mi}")
    chart = {**PODINFO_CHART, "charts/podinfo/templates/deployment.yaml": template}
    repo(tmp_path, chart="./charts/podinfo", source_kind="GitRepository", extra_files=chart)
    in_git = live(chart="./charts/podinfo", source_kind="GitRepository")
    r = only(plan(build_state(in_git, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE
    if helm_binary() is not None:  # rendered: no key sets it (else: read from the templates)
        assert "the chart's values for the `resources` of container podinfo could not be " \
               "found by rendering it (tried `resources` (no effect on container podinfo))" \
               in r.reason
    assert "the chart `charts/podinfo` in this repository renders it from " \
           "`templates/deployment.yaml` " \
           "(the only Deployment template); container podinfod reads `.Values.image`, " \
           "`.Values.startupProbe`" in r.reason


def test_a_chart_in_the_repo_confirms_the_key(tmp_path: Path):
    repo(tmp_path, chart="./charts/podinfo", source_kind="GitRepository",
         extra_files=PODINFO_CHART)
    in_git = live(chart="./charts/podinfo", source_kind="GitRepository")
    r = only(plan(build_state(in_git, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert "reads `.Values.resources`, `.Values.image`, `.Values.startupProbe`" in r.location.why  # type: ignore[union-attr]


def test_image_tag_revert_in_helm_values_clears_a_digest(tmp_path: Path):
    repo(tmp_path)
    # the values patch pins the image: under spec.values, next to ingress
    values = VALUES.replace("enabled: true{extra}", "enabled: true\n        image:\n"
                            "          repository: ghcr.io/stefanprodan/podinfo\n"
                            "          tag: \"{tag}\"\n          digest: sha256:0123")
    commit(tmp_path, {"apps/production/podinfo-values.yaml": values.format(tag="6.5.0")}, "6.5.0")
    commit(tmp_path, {"apps/production/podinfo-values.yaml": values.format(tag="6.6.0")}, "6.6.0")
    items = live("ghcr.io/stefanprodan/podinfo:6.6.0", kube.waiting(
        "podinfod", "ImagePullBackOff", image="ghcr.io/stefanprodan/podinfo:6.6.0"))
    old = kube.replicaset(items[1], suffix="6c9f7d8b5", ready=2, revision=1)
    old["spec"] = {"template": {"spec": {"containers": [
        kube.container("podinfod", image="ghcr.io/stefanprodan/podinfo:6.5.0")]}}}
    r = only(plan(build_state([*items, old], "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    changed = [" ".join(ln.split()) for ln in change.diff.splitlines()
               if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    assert changed == ['- tag: "6.6.0"', '- digest: sha256:0123', '+ tag: "6.5.0"']


def test_a_sidecar_failure_never_lands_in_the_main_containers_values(tmp_path: Path):
    repo(tmp_path)
    items = live(failing=kube.crashing("exporter"))
    items[1]["spec"]["template"]["spec"]["containers"].append(kube.container("exporter"))
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "which values key feeds container exporter cannot be told apart" in r.reason


def test_a_limit_already_raised_lower_down_is_waiting_for_sync(tmp_path: Path):
    repo(tmp_path)
    release = (tmp_path / "apps/base/podinfo/release.yaml")
    release.write_text(release.read_text().replace("memory: 128Mi", "memory: 512Mi"))
    commit(tmp_path, {}, "raise in base")
    r = only(plan(build_state(live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE
    assert "waiting for sync" in r.reason


def test_post_renderers_are_a_skip(tmp_path: Path):
    repo(tmp_path)
    items = live()
    items[0]["spec"]["postRenderers"] = [{"kustomize": {"images": [{"name": "x"}]}}]
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP and "post-renderers" in r.reason


LIVENESS = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10,
            "failureThreshold": 3}


def probe_killed(chart: str = "./charts/podinfo", source_kind: str = "GitRepository"
                 ) -> list[dict]:
    """podinfod restarted by its liveness probe ~35s after each start, never ready."""
    items = live(chart=chart, source_kind=source_kind, failing=kube.crashing(
        "podinfod", reason="Error", code=143, started="2026-11-20T10:27:25Z",
        finished="2026-11-20T10:28:00Z"))
    items[1]["spec"]["template"]["spec"]["containers"][0]["livenessProbe"] = LIVENESS
    items[3]["spec"]["containers"][0]["livenessProbe"] = LIVENESS
    event = kube.event(items[3], "Unhealthy", "Liveness probe failed: connection refused",
                      count=12, field_path="spec.containers{podinfod}")
    return [*items, event]


def test_a_probe_failure_at_startup_adds_a_startup_probe_through_values(tmp_path: Path):
    repo(tmp_path, chart="./charts/podinfo", source_kind="GitRepository",
         extra_files=PODINFO_CHART)
    r = only(plan(build_state(probe_killed(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "apps/production/podinfo-values.yaml"
    added = [ln for ln in change.diff.splitlines() if ln.startswith("+") and ln[:3] != "+++"]
    assert added == ["+    startupProbe:", "+      httpGet:", "+        path: /healthz",
                     "+        port: http", "+      periodSeconds: 10",
                     "+      failureThreshold: 30"]
    assert "`.Values.startupProbe`" in r.location.why  # type: ignore[union-attr]


def test_a_startup_probe_built_from_single_values_is_a_diagnosis(tmp_path: Path):
    template = PODINFO_CHART["charts/podinfo/templates/deployment.yaml"].replace(
        "{{- with .Values.startupProbe }}", "{{- if .Values.startupProbe.enabled }}").replace(
        "{{- toYaml . | nindent 12 }}",
        "failureThreshold: {{ .Values.startupProbe.failureThreshold }}")
    assert template != PODINFO_CHART["charts/podinfo/templates/deployment.yaml"]
    chart = {**PODINFO_CHART, "charts/podinfo/templates/deployment.yaml": template,
             "charts/podinfo/values.yaml": PODINFO_CHART["charts/podinfo/values.yaml"]
             + "startupProbe:\n  enabled: false\n  failureThreshold: 30\n"}
    repo(tmp_path, chart="./charts/podinfo", source_kind="GitRepository", extra_files=chart)
    r = only(plan(build_state(probe_killed(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE
    assert "its startupProbe is built from single fields under `.Values.startupProbe`" in r.reason


def test_a_probe_fix_for_a_chart_outside_the_repo_is_a_diagnosis(tmp_path: Path):
    repo(tmp_path)
    r = only(plan(build_state(probe_killed("podinfo", "HelmRepository"), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE
    assert "the values key that feeds `startupProbe` is not known for this chart: the chart is " \
           "not in this repository" in r.reason


def test_a_component_of_a_chart_outside_the_repo_is_diagnosed_not_guessed(tmp_path: Path):
    # bitnami postgresql's primary reads `primary.resources`: top-level `resources` would
    # change nothing for it
    repo(tmp_path)
    items = live()
    items[1]["metadata"]["labels"]["app.kubernetes.io/component"] = "primary"
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE and not r.changes
    assert "renders components (`app.kubernetes.io/component: primary`)" in r.reason
