"""`plan` end to end on charts outside the repository, rendered with the real Helm from a chart
repository on loopback: an app-template style chart (`controllers.<c>.containers.<n>`) behind a
Flux HelmRelease (a home-lab layout: `kubernetes/apps/<ns>/<app>/app/helmrelease.yaml`, the
HelmRepository under `kubernetes/flux/repositories/`) and behind an Argo CD Application; a
bitnami-style conventional chart; a chart whose memory no values key sets; an unreachable chart
repository; and a chart in the repository whose template feeds a sidecar from the same key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remediator.cluster.snapshot import build_state
from remediator.model import Decision, Remediation
from remediator.pipeline import plan
from tests.support import kube
from tests.support.argo_helm import CHART as GUESTBOOK
from tests.support.argo_helm import application as guestbook_app
from tests.support.argo_helm import live as guestbook_live
from tests.support.chart_repo import CONVENTIONAL, ChartRepo, needs_helm
from tests.support.repos import CONFIG, REPO_URL, commit, only

pytestmark = needs_helm



def flux(app: str, ns: str) -> str:
    """The app's Flux Kustomization (`ks.yaml`) and the cluster's GitRepository."""
    return f"""
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {{name: {app}, namespace: flux-system}}
        spec:
          path: ./kubernetes/apps/{ns}/{app}/app
          sourceRef: {{kind: GitRepository, name: flux-system}}
          targetNamespace: {ns}
        ---
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: GitRepository
        metadata: {{name: flux-system, namespace: flux-system}}
        spec: {{url: {REPO_URL}, ref: {{branch: main}}}}
        """


HELM_REPOSITORY = """
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata:
      name: {name}
      namespace: flux-system
    spec:
      interval: 2h
      url: {url}
    """
JELLYFIN = """
    ---
    # yaml-language-server: $schema=https://example.invalid/helmrelease-helm-v2.schema.json
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: jellyfin
    spec:
      interval: 30m
      chart:
        spec:
          chart: app-template
          version: 4.1.2
          sourceRef:
            kind: HelmRepository
            name: bjw-s
            namespace: flux-system
      values:
        controllers:
          main:
            containers:
              app:
                image:
                  repository: ghcr.io/jellyfin/jellyfin
                  tag: 10.9.7
                env:
                  TZ: Europe/Paris
                resources:
                  requests:
                    cpu: 100m
                    memory: 512Mi
                  limits:
                    memory: 1Gi
              exporter:
                image:
                  repository: ghcr.io/acme/exporter
                  tag: 0.4.0
                resources:
                  limits:
                    memory: 1Gi
    """


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChartRepo]:
    repo = ChartRepo(tmp_path_factory.mktemp("chart-repo"))
    yield repo
    repo.close()


def flux_live(app: str, ns: str, containers: list[dict], failing: str,
              memory: str = "1Gi") -> list[dict]:
    hr = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
          "metadata": {"name": app, "namespace": ns,
                       "labels": {"kustomize.toolkit.fluxcd.io/name": app,
                                  "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}},
          "spec": {}}
    d = kube.deployment(app, ns, containers, annotations={
        "meta.helm.sh/release-name": app, "meta.helm.sh/release-namespace": ns})
    d["metadata"]["labels"] = {"helm.toolkit.fluxcd.io/name": app,
                               "helm.toolkit.fluxcd.io/namespace": ns,
                               "app.kubernetes.io/managed-by": "Helm",
                               "app.kubernetes.io/component": "main"}
    rs = kube.replicaset(d)
    statuses = [kube.crashing(c["name"]) if c["name"] == failing else kube.running(c["name"])
                for c in containers]
    return [hr, d, rs, kube.pod(rs, f"{app}-5d8f7c9b4-aaaaa", statuses)]


def changed_lines(r: Remediation) -> list[str]:
    return [ln for c in r.changes for ln in c.diff.splitlines()
            if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]


def render_check(r: Remediation) -> list[str]:
    assert r.validation is not None
    return next(c for c in r.validation.checks if c.name == "render").messages


def jellyfin_repo(root: Path, url: str) -> None:
    commit(root, {
        "kubernetes/apps/media/jellyfin/ks.yaml": flux("jellyfin", "media"),
        "kubernetes/apps/media/jellyfin/app/kustomization.yaml": "resources: [helmrelease.yaml]\n",
        "kubernetes/apps/media/jellyfin/app/helmrelease.yaml": JELLYFIN,
        "kubernetes/flux/repositories/helm/bjw-s.yaml": HELM_REPOSITORY.format(name="bjw-s",
                                                                               url=url),
    }, "jellyfin")


def jellyfin_live() -> list[dict]:
    return flux_live("jellyfin", "media", [
        kube.container("app", "ghcr.io/jellyfin/jellyfin:10.9.7", memory="1Gi"),
        kube.container("exporter", "ghcr.io/acme/exporter:0.4.0", memory="1Gi")], "app")


def test_flux_app_template_memory_goes_into_the_containers_own_block(tmp_path: Path,
                                                                       charts: ChartRepo):
    jellyfin_repo(tmp_path, charts.url)
    r = only(plan(build_state(jellyfin_live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "kubernetes/apps/media/jellyfin/app/helmrelease.yaml"
    assert changed_lines(r) == ["-                memory: 1Gi", "+                memory: 1536Mi"]
    # the changed line is the app container's, not the exporter's (same value, same depth)
    assert change.new_text.index("1536Mi") < change.new_text.index("exporter:")
    assert "`controllers.main.containers.app.resources` sets the `resources` of container app" \
        in r.location.why  # type: ignore[union-attr]
    assert r.validation is not None and r.validation.passed
    assert any(m.startswith(f"Helm renders {charts.url} chart app-template version 4.1.2 "
                            "(release jellyfin in media) before and after the change: only the "
                            "`resources` of container app of Deployment jellyfin changed")
               for m in render_check(r)), render_check(r)


def test_without_helm_the_app_template_release_is_not_guessed(tmp_path: Path,
                                                               charts: ChartRepo,
                                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REMEDIATOR_HELM", "off")
    jellyfin_repo(tmp_path, charts.url)
    r = only(plan(build_state(jellyfin_live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "which values key feeds container app cannot be told apart" in r.reason


def test_without_helm_a_single_container_app_template_release_is_diagnosed(
        tmp_path: Path, charts: ChartRepo, monkeypatch: pytest.MonkeyPatch):
    # one container, so nothing else stops the guess: the values set the container's own
    # `controllers.main.containers.app.resources`, which says the top-level `resources` the
    # conventional guess would add is ignored by this chart (a PR changing nothing)
    monkeypatch.setenv("REMEDIATOR_HELM", "off")
    jellyfin_repo(tmp_path, charts.url)
    release = tmp_path / "kubernetes/apps/media/jellyfin/app/helmrelease.yaml"
    text = release.read_text()
    release.write_text(text[:text.index("          exporter:")])
    commit(tmp_path, {}, "one container")
    live = flux_live("jellyfin", "media", [
        kube.container("app", "ghcr.io/jellyfin/jellyfin:10.9.7", memory="1Gi")], "app")
    # app-template 4 labels no component (the label would already say "not conventional")
    del live[1]["metadata"]["labels"]["app.kubernetes.io/component"]
    r = only(plan(build_state(live, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE, r.reason
    assert "whose values set `controllers.main.containers.app.resources`, not the top-level " \
           "`resources`" in r.reason
    assert "Helm rendering is turned off" in r.reason and not r.changes


PAPERLESS = """
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata:
      name: paperless
      namespace: argocd
    spec:
      project: default
      source:
        repoURL: {url}
        chart: app-template
        targetRevision: 4.1.2
        helm:
          valuesObject:
            controllers:
              main:
                containers:
                  app:
                    image:
                      repository: ghcr.io/paperless-ngx/paperless-ngx
                      tag: 2.11.0
                    env:
                      PAPERLESS_PORT: "8000"
      destination:
        server: https://kubernetes.default.svc
        namespace: documents
    """


def test_argo_app_template_memory_not_set_yet_goes_next_to_the_containers_image(
        tmp_path: Path, charts: ChartRepo):
    # the limit came from the namespace's LimitRange: no values layer sets resources yet
    commit(tmp_path, {"argocd/apps/paperless.yaml": PAPERLESS.format(url=charts.url)}, "init")
    d = kube.deployment("paperless", "documents", [kube.container(
        "app", "ghcr.io/paperless-ngx/paperless-ngx:2.11.0", memory="512Mi")], annotations={
        "argocd.argoproj.io/tracking-id": "paperless:apps/Deployment:documents/paperless"})
    rs = kube.replicaset(d)
    items = [d, rs, kube.pod(rs, "paperless-5d8f7c9b4-aaaaa", [kube.crashing("app")])]
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    [change] = r.changes
    assert change.path == "argocd/apps/paperless.yaml"
    assert changed_lines(r) == ["+                resources:", "+                  limits:",
                                "+                    memory: 768Mi",
                                "+                  requests:",  # the pods' request, kept
                                "+                    memory: 512Mi"]
    assert change.new_text.index("memory: 768Mi") > change.new_text.index("PAPERLESS_PORT")
    assert any("only the `resources` of container app of Deployment paperless changed" in m
               for m in render_check(r)), render_check(r)


def redis_repo(root: Path, url: str, values: str) -> None:
    release = f"""
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: cache
          namespace: db
        spec:
          chart:
            spec:
              chart: redis
              version: "19.6.4"
              sourceRef: {{kind: HelmRepository, name: bitnami, namespace: flux-system}}
          values:
    {values}"""
    commit(root, {
        "kubernetes/apps/db/cache/ks.yaml": flux("cache", "db"),
        "kubernetes/apps/db/cache/app/kustomization.yaml": "resources: [helmrelease.yaml]\n",
        "kubernetes/apps/db/cache/app/helmrelease.yaml": release,
        "kubernetes/flux/repositories/helm/bitnami.yaml": HELM_REPOSITORY.format(name="bitnami",
                                                                                 url=url),
    }, "cache")


def cache_live(name: str = "cache-master") -> list[dict]:
    items = flux_live("cache", "db", [
        kube.container("redis", "docker.io/bitnami/redis:7.2.5-debian-12-r0", memory="256Mi"),
        kube.container("metrics", "bitnami/redis-exporter:1.62.0", memory="64Mi")], "redis")
    for obj in items[1:3]:
        obj["metadata"]["name"] = name if obj["kind"] == "Deployment" else f"{name}-5d8f7c9b4"
    items[2]["metadata"]["ownerReferences"][0]["name"] = name
    items[3]["metadata"]["ownerReferences"][0]["name"] = f"{name}-5d8f7c9b4"
    return items


def test_a_conventional_chart_with_a_metrics_sidecar_gets_the_top_level_key(
        tmp_path: Path, charts: ChartRepo):
    redis_repo(tmp_path, charts.url, """            metrics:
                  enabled: true
                  resources:
                    limits:
                      memory: 64Mi
                resources:
                  limits:
                    memory: 256Mi""")
    r = only(plan(build_state(cache_live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    # the old line stays as the request the pods had (Kubernetes defaulted it to the limit)
    assert changed_lines(r) == ["+            memory: 384Mi", "+          requests:"]
    assert "`resources` sets the `resources` of container redis" in r.location.why  # type: ignore[union-attr]
    assert any("only the `resources` of container redis" in m for m in render_check(r))


def test_a_chart_whose_memory_no_value_sets_is_a_diagnosis(tmp_path: Path, charts: ChartRepo):
    redis_repo(tmp_path, charts.url, "            image: {tag: 1.0.0}")
    release = tmp_path / "kubernetes/apps/db/cache/app/helmrelease.yaml"
    release.write_text(release.read_text().replace("chart: redis", "chart: fixed").replace(
        '"19.6.4"', '"0.3.0"'))
    commit(tmp_path, {}, "fixed chart")
    items = flux_live("cache", "db", [kube.container("app", "ghcr.io/acme/fixed:1.0.0")], "app")
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE, r.reason
    assert "HelmRelease cache renders " in r.reason
    assert "the chart's values for the `resources` of container app could not be found by " \
           "rendering it (tried `resources` (no effect on container app))" in r.reason


def test_an_unreachable_chart_repository_is_a_diagnosis_naming_why(tmp_path: Path):
    redis_repo(tmp_path, "http://127.0.0.1:9", "            resources: {}")
    r = only(plan(build_state(cache_live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE
    assert "http://127.0.0.1:9 chart redis version 19.6.4 cannot be fetched" in r.reason
    assert "connection refused" in r.reason


def test_the_gate_renders_a_repo_chart_that_feeds_a_sidecar_from_the_same_key(tmp_path: Path):
    # the template reads `.Values.resources` in the redis container's block, so locate ties the
    # key to it; only a real render shows the metrics sidecar takes the same values
    template = CONVENTIONAL["templates/deployment.yaml"].replace(
        ".Values.metrics.resources", ".Values.resources")
    chart = {f"charts/redis/{k}": v for k, v in CONVENTIONAL.items()}
    chart["charts/redis/templates/deployment.yaml"] = template
    redis_repo(tmp_path, "http://127.0.0.1:9", """            metrics: {enabled: true}
                resources:
                  limits:
                    memory: 256Mi""")
    release = tmp_path / "kubernetes/apps/db/cache/app/helmrelease.yaml"
    release.write_text(release.read_text().replace("chart: redis", "chart: ./charts/redis").replace(
        "kind: HelmRepository, name: bitnami", "kind: GitRepository, name: flux-system"))
    commit(tmp_path, chart, "chart in the repository")
    r = only(plan(build_state(cache_live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE, r.reason
    assert "rendered by Helm, the change alters more than container redis: Deployment " \
           "cache-master changes beyond container redis's" in r.reason


def test_a_chart_ref_to_an_oci_repository_is_pulled_from_it(tmp_path: Path):
    # the current home-lab shape: `chartRef` to an OCIRepository instead of `chart.spec`
    jellyfin_repo(tmp_path, "http://127.0.0.1:9")
    release = tmp_path / "kubernetes/apps/media/jellyfin/app/helmrelease.yaml"
    text = release.read_text()
    start, end = text.index("  chart:\n"), text.index("  values:\n")
    release.write_text(text[:start] + "  chartRef:\n    kind: OCIRepository\n"
                       "    name: app-template\n    namespace: flux-system\n" + text[end:])
    commit(tmp_path, {"kubernetes/flux/repositories/oci/app-template.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: OCIRepository
        metadata:
          name: app-template
          namespace: flux-system
        spec:
          interval: 15m
          layerSelector:
            mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
            operation: copy
          ref:
            tag: 4.1.2
          url: oci://127.0.0.1:9/bjw-s-labs/helm/app-template
        """}, "chartRef")
    r = only(plan(build_state(jellyfin_live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.DIAGNOSE, r.reason
    assert "oci://127.0.0.1:9/bjw-s-labs/helm/app-template version 4.1.2 cannot be fetched" \
        in r.reason


def test_the_gate_renders_an_argo_chart_in_the_repo_with_its_value_files(tmp_path: Path):
    commit(tmp_path, {**GUESTBOOK, "argocd/helm-guestbook.yaml": guestbook_app(
        "\n              valueFiles: [values-production.yaml]")}, "init")
    r = only(plan(build_state(guestbook_live(), "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert "Helm renders the chart in `helm-guestbook` (release helm-guestbook in default) " \
           "before and after the change: only the `resources` of container helm-guestbook of " \
           "Deployment helm-guestbook changed" in render_check(r)


def test_a_helm_repository_only_in_the_cluster_is_read_from_the_snapshot(tmp_path: Path,
                                                                           charts: ChartRepo):
    redis_repo(tmp_path, charts.url, """            resources:
                  limits:
                    memory: 256Mi""")
    (tmp_path / "kubernetes/flux/repositories/helm/bitnami.yaml").unlink()
    commit(tmp_path, {}, "the HelmRepository lives in another repository")
    source = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
              "metadata": {"name": "bitnami", "namespace": "flux-system"},
              "spec": {"url": charts.url}}
    items = cache_live()
    items[1]["spec"]["template"]["spec"]["containers"].pop()  # no metrics sidecar here
    r = only(plan(build_state([source, *items], "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    # the old line stays as the request the pods had (Kubernetes defaulted it to the limit)
    assert changed_lines(r) == ["+            memory: 384Mi", "+          requests:"]
    assert any(m.startswith(f"Helm renders {charts.url} chart redis") for m in render_check(r))
