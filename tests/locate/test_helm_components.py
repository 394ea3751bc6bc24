"""Multi-component charts (bitnami postgresql style, written from its public shape): each
StatefulSet reads its own `primary.*` / `readReplicas.*` keys, the image comes from the top-level
`image` through a helper, and the primary pod carries a metrics sidecar with its own keys."""

from __future__ import annotations

from pathlib import Path

from remediator.cluster.snapshot import build_state
from remediator.model import Decision
from remediator.pipeline import plan
from tests.support import kube
from tests.support.repos import CONFIG, REPO_URL, commit, only

STATEFULSET = """
    apiVersion: {{ include "common.capabilities.statefulset.apiVersion" . }}
    kind: StatefulSet
    metadata:
      name: {{ include "postgresql.v1.%(component)s.fullname" . }}
      labels:
        app.kubernetes.io/component: %(component)s
    spec:
      template:
        metadata:
          labels:
            app.kubernetes.io/component: %(component)s
        spec:
          containers:
            - name: postgresql
              image: {{ include "postgresql.v1.image" . }}
              imagePullPolicy: {{ .Values.image.pullPolicy | quote }}
              {{- if .Values.%(key)s.startupProbe.enabled }}
              startupProbe:
                failureThreshold: {{ .Values.%(key)s.startupProbe.failureThreshold }}
              {{- end }}
              {{- if .Values.%(key)s.resources }}
              resources: {{- toYaml .Values.%(key)s.resources | nindent 12 }}
              {{- else if ne .Values.%(key)s.resourcesPreset "none" }}
              resources: {{- include "common.resources.preset"
                  (dict "type" .Values.%(key)s.resourcesPreset) | nindent 12 }}
              {{- end }}
            {{- if .Values.metrics.enabled }}
            - name: metrics
              image: {{ include "postgresql.v1.metrics.image" . }}
              {{- if .Values.metrics.resources }}
              resources: {{- toYaml .Values.metrics.resources | nindent 12 }}
              {{- end }}
            {{- end }}
          volumes:
            - name: data
    """
CHART = {
    "postgresql/Chart.yaml": "apiVersion: v2\nname: postgresql\nversion: 16.0.0\n",
    "postgresql/templates/_helpers.tpl": """
        {{- define "postgresql.v1.image" -}}
        {{ include "common.images.image" (dict "imageRoot" .Values.image
            "global" .Values.global) }}
        {{- end -}}
        {{- define "postgresql.v1.metrics.image" -}}
        {{ include "common.images.image" (dict "imageRoot" .Values.metrics.image
            "global" .Values.global) }}
        {{- end -}}
        """,
    "postgresql/templates/primary/statefulset.yaml":
        STATEFULSET % {"component": "primary", "key": "primary"},
    "postgresql/templates/read/statefulset.yaml":
        STATEFULSET % {"component": "read", "key": "readReplicas"},
    "postgresql/values.yaml": """
        image:
          registry: docker.io
          repository: bitnami/postgresql
          tag: 17.0.0
        primary:
          resourcesPreset: nano
        readReplicas:
          resourcesPreset: nano
        """,
    "postgresql/values-production.yaml": """
        # production
        architecture: replication
        primary:
          persistence:
            size: 50Gi
          resources:
            limits:
              memory: 128Mi
        readReplicas:
          resources:
            limits:
              memory: 128Mi
        """,
    "argocd/postgresql.yaml": f"""
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {{name: postgresql, namespace: argocd}}
        spec:
          project: default
          source:
            repoURL: {REPO_URL}
            path: postgresql
            helm:
              valueFiles: [values-production.yaml]
          destination: {{namespace: db}}
        """,
}
IMAGE = "docker.io/bitnami/postgresql:17.0.0"


def statefulset(component: str, containers: list[dict]) -> dict:
    name = "postgresql" if component == "primary" else f"postgresql-{component}"
    s = kube.deployment(name, "db", containers, annotations={
        "argocd.argoproj.io/tracking-id": f"postgresql:apps/StatefulSet:db/{name}"})
    s["kind"] = "StatefulSet"
    s["metadata"]["labels"] = {"app.kubernetes.io/component": component,
                               "app.kubernetes.io/instance": "postgresql"}
    return s


def live(component: str, failing: dict, sidecar: bool = False) -> list[dict]:
    containers = [kube.container("postgresql", image=IMAGE)]
    if sidecar:
        containers.append(kube.container("metrics", image="docker.io/bitnami/exporter:0.15"))
    s = statefulset(component, containers)
    return [s, kube.pod(s, f"{s['metadata']['name']}-0", [failing])]


def changed(diff: str) -> list[str]:
    return [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]


def test_the_read_replicas_memory_goes_under_their_own_key(tmp_path: Path):
    commit(tmp_path, CHART, "init")
    r = only(plan(build_state(live("read", kube.crashing("postgresql")), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "postgresql/values-production.yaml"
    assert changed(change.diff) == ["+      memory: 192Mi", "+    requests:"]  # 128Mi: request
    assert "@@ -9,4 +9,6 @@\n readReplicas:" in change.diff  # not the primary block
    why = r.location.why  # type: ignore[union-attr]
    assert "renders it from `templates/read/statefulset.yaml` (the StatefulSet template " \
           "labelled `app.kubernetes.io/component: read`)" in why
    assert "reads `.Values.readReplicas.resources`, `.Values.readReplicas.resourcesPreset`, " \
           "`.Values.image`" in why


def test_the_primary_memory_goes_next_to_its_other_settings(tmp_path: Path):
    commit(tmp_path, CHART, "init")
    r = only(plan(build_state(live("primary", kube.crashing("postgresql")), "c"), tmp_path,
                  CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert changed(change.diff) == ["+      memory: 192Mi", "+    requests:"]  # 128Mi: request
    assert "  persistence:\n    size: 50Gi\n  resources:\n    limits:\n      memory: 192Mi\n" \
        "    requests:\n      memory: 128Mi" \
        in change.new_text


def test_a_sidecar_is_tied_to_its_own_block(tmp_path: Path):
    commit(tmp_path, CHART, "init")
    r = only(plan(build_state(live("primary", kube.crashing("metrics"), sidecar=True), "c"),
                  tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert changed(change.diff) == ["+metrics:", "+  resources:", "+    limits:",
                                    "+      memory: 192Mi", "+    requests:",
                                    "+      memory: 128Mi"]
    assert "container metrics reads `.Values.metrics.resources`, `.Values.metrics.image`" in \
        r.location.why  # type: ignore[union-attr]


def test_the_image_tag_is_top_level_through_the_helper(tmp_path: Path):
    commit(tmp_path, CHART, "init")
    r = only(plan(build_state(live("read", kube.waiting(
        "postgresql", "ImagePullBackOff", image=IMAGE)), "c"), tmp_path, CONFIG))
    # no earlier tag ran: a diagnosis, but the located key is the top-level image
    assert r.location is not None and r.location.value_keys["image"] == ("image",)


def test_a_workload_no_template_can_be_tied_to_is_not_guessed(tmp_path: Path):
    commit(tmp_path, CHART, "init")
    items = live("read", kube.crashing("postgresql"))
    items[0]["metadata"]["labels"]["app.kubernetes.io/component"] = "backup"
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE and not r.changes
    assert "which StatefulSet template renders postgresql-read cannot be told (candidates: " \
           "none)" in r.reason


def test_a_container_not_named_in_the_template_is_not_guessed(tmp_path: Path):
    commit(tmp_path, CHART, "init")
    items = live("primary", kube.crashing("exporter"), sidecar=True)
    items[0]["spec"]["template"]["spec"]["containers"][1]["name"] = "exporter"
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "which values key feeds container exporter cannot be told apart" in r.reason


def test_without_component_labels_the_name_suffix_ties_the_template(tmp_path: Path):
    chart = {**CHART}
    for component in ("primary", "read"):
        path = f"postgresql/templates/{component}/statefulset.yaml"
        chart[path] = "\n".join(ln for ln in chart[path].splitlines()
                                if "app.kubernetes.io/component" not in ln)
    chart["postgresql/templates/read/statefulset.yaml"] = chart[
        "postgresql/templates/read/statefulset.yaml"].replace(
        '{{ include "postgresql.v1.read.fullname" . }}',
        '{{ printf "%s-read" (include "common.names.fullname" .) }}')
    commit(tmp_path, chart, "init")
    r = only(plan(build_state(live("read", kube.crashing("postgresql")), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert "(the StatefulSet template whose name ends in `-read`)" in \
        r.location.why  # type: ignore[union-attr]
    assert "@@ -9,4 +9,6 @@\n readReplicas:" in r.changes[0].diff


def test_a_preset_sized_container_is_a_diagnosis_not_a_lone_limit(tmp_path: Path):
    # nothing sets readReplicas.resources: the chart's preset sizes the pod, and a lone memory
    # limit would replace every request and limit the preset gives
    commit(tmp_path, {**CHART, "postgresql/values-production.yaml":
                      "architecture: replication\n"}, "init")
    r = only(plan(build_state(live("read", kube.crashing("postgresql")), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE and not r.changes
    assert r.reason == "resources come from the chart preset `readReplicas.resourcesPreset`"
    assert "Set `readReplicas.resources` in full" in r.proposal.diagnosis  # type: ignore[union-attr]
