"""Flux 2.7 sources: an ArtifactGenerator (source-watcher) splits the monorepo into
ExternalArtifacts, and the Flux Kustomizations deploy paths of those artifacts, as the current
flux2-kustomize-helm-example does (fixtures written from its public shape). The path is read back
as the repository folder it was copied from; what cannot be read that way is skipped with the
reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from remediator.cluster.snapshot import build_state
from remediator.model import Decision
from remediator.pipeline import plan
from remediator.verify import synced_revisions
from tests.support import kube
from tests.support.plan_cli import added, objects, plan_json, remediation
from tests.support.repos import CONFIG, REPO_URL, commit, only

GIT = f"""
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {{name: flux-system, namespace: flux-system}}
    spec:
      interval: 1m0s
      ref: {{branch: main}}
      url: {REPO_URL}
    """


def generator(cluster: str) -> str:
    return f"""
        apiVersion: source.extensions.fluxcd.io/v1beta1
        kind: ArtifactGenerator
        metadata: {{name: flux-system, namespace: flux-system}}
        spec:
          sources:
            - alias: monorepo
              kind: GitRepository
              name: flux-system
          artifacts:
            - name: infrastructure
              originRevision: "@monorepo"
              copy:
                - from: "@monorepo/infrastructure/**"
                  to: "@artifact/"
            - name: apps
              originRevision: "@monorepo"
              copy:
                - from: "@monorepo/apps/base/**"
                  to: "@artifact/base/"
                - from: "@monorepo/apps/{cluster}/**"
                  to: "@artifact/{cluster}/"
        """


def apps(cluster: str) -> str:
    return f"""
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {{name: apps, namespace: flux-system}}
        spec:
          dependsOn: [{{name: infra-configs}}]
          interval: 1h
          sourceRef: {{kind: ExternalArtifact, name: apps}}
          path: ./{cluster}
          prune: true
          wait: true
        """


INFRA = """
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: infra-controllers, namespace: flux-system}
    spec:
      interval: 1h
      sourceRef: {kind: ExternalArtifact, name: infrastructure}
      path: ./controllers
      prune: true
    """
RELEASE = """
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: podinfo
      namespace: podinfo
    spec:
      interval: 50m
      releaseName: podinfo
      chart:
        spec:
          chart: podinfo
          sourceRef:
            kind: HelmRepository
            name: podinfo
      values:
        redis:
          enabled: false
    """


def values(host: str) -> str:
    return f"""
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: podinfo
          namespace: podinfo
        spec:
          chart:
            spec:
              version: ">=1.0.0"
          values:
            httpRoute:
              hostnames:
                - {host}
        """


OVERLAY = """
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources:
      - ../base/podinfo
    patches:
      - path: podinfo-values.yaml
        target:
          kind: HelmRelease
    """
EXPORTER = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: node-exporter, namespace: monitoring}
    spec:
      selector: {matchLabels: {app: node-exporter}}
      template:
        metadata: {labels: {app: node-exporter}}
        spec:
          containers:
            - name: node-exporter
              image: quay.io/prometheus/node-exporter:v1.9.1
              resources:
                limits: {memory: 128Mi}
    """

#: flux2-kustomize-helm-example as of Flux 2.7, one `clusters/<env>/` folder per cluster
EXAMPLE = {
    ".remediator.yaml": f"repo:\n  url: {REPO_URL}\n",
    "apps/base/podinfo/kustomization.yaml": ("apiVersion: kustomize.config.k8s.io/v1beta1\n"
                                             "kind: Kustomization\nnamespace: podinfo\n"
                                             "resources:\n  - release.yaml\n"),
    "apps/base/podinfo/release.yaml": RELEASE,
    "apps/production/kustomization.yaml": OVERLAY,
    "apps/production/podinfo-values.yaml": values("podinfo.production"),
    "apps/staging/kustomization.yaml": OVERLAY,
    "apps/staging/podinfo-values.yaml": values("podinfo.staging"),
    "infrastructure/controllers/kustomization.yaml": "resources:\n  - node-exporter.yaml\n",
    "infrastructure/controllers/node-exporter.yaml": EXPORTER,
    **{f"clusters/{c}/{name}": text for c in ("staging", "production") for name, text in {
        "artifacts.yaml": generator(c), "apps.yaml": apps(c), "infrastructure.yaml": INFRA,
        "flux-system/gotk-sync.yaml": GIT}.items()},
}


def podinfo_live(memory: str = "128Mi") -> list[dict[str, Any]]:
    hr = objects(RELEASE)[0]
    hr["metadata"]["labels"] = {"kustomize.toolkit.fluxcd.io/name": "apps",
                                "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
    d = kube.deployment("podinfo", "podinfo", [kube.container(
        "podinfo", image="ghcr.io/stefanprodan/podinfo:6.9.2", memory=memory)])
    d["metadata"]["labels"] = {"helm.toolkit.fluxcd.io/name": "podinfo",
                               "helm.toolkit.fluxcd.io/namespace": "podinfo",
                               "app.kubernetes.io/managed-by": "Helm"}
    d["metadata"]["annotations"] = {"meta.helm.sh/release-name": "podinfo",
                                    "meta.helm.sh/release-namespace": "podinfo"}
    rs = kube.replicaset(d)
    return [hr, d, rs, kube.pod(rs, "podinfo-5d8f7c9b4-aaaaa", [kube.crashing("podinfo")])]


def flux_objects(cluster: str = "production") -> list[dict[str, Any]]:
    """What `kubectl get gitrepositories,artifactgenerators,externalartifacts,kustomizations`
    prints on that cluster."""
    ks = objects(apps(cluster))[0]
    ks["status"] = {"lastAppliedRevision": "latest@sha256:" + "ab" * 32,
                    "lastAppliedOriginRevision": "main@sha1:" + "c" * 40}
    artifact = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "ExternalArtifact",
                "metadata": {"name": "apps", "namespace": "flux-system", "labels": {
                    "app.kubernetes.io/managed-by": "source-watcher"}},
                "spec": {"sourceRef": {"apiVersion": "source.extensions.fluxcd.io/v1beta1",
                                       "kind": "ArtifactGenerator", "name": "flux-system",
                                       "namespace": "flux-system"}}}
    return [*objects(GIT), *objects(generator(cluster)), artifact, ks, *objects(INFRA)]


def test_a_helmrelease_of_an_external_artifact_is_patched_in_its_repository_folder(
        tmp_path: Path):
    out = plan_json(tmp_path, EXAMPLE, [*flux_objects(), *podinfo_live()])
    r = remediation(out, "podinfo")
    assert r["decision"] == "propose", r["reason"]
    [change] = r["changes"]
    assert change["path"] == "apps/production/podinfo-values.yaml"
    assert "memory: 192Mi" in added(change["diff"])


def test_without_the_generator_in_the_snapshot_the_repositorys_copies_decide(tmp_path: Path):
    # both clusters' generators define `apps`; only production's copies `apps/production`
    commit(tmp_path, EXAMPLE, "init")
    ks = objects(apps("production"))[0]
    r = only(plan(build_state([*objects(GIT), ks, *podinfo_live()], "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["apps/production/podinfo-values.yaml"]
    why = r.location.why  # type: ignore[union-attr]
    assert "deploys path `./production` of ExternalArtifact flux-system/apps, which " \
           "ArtifactGenerator flux-system/flux-system builds from `apps` of GitRepository " \
           "flux-system: the repository folder `apps/production`" in why


def exporter_live() -> list[dict[str, Any]]:
    d = kube.deployment("node-exporter", "monitoring", [kube.container(
        "node-exporter", image="quay.io/prometheus/node-exporter:v1.9.1")])
    d["metadata"]["labels"] = {"kustomize.toolkit.fluxcd.io/name": "infra-controllers",
                               "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
    rs = kube.replicaset(d)
    return [d, rs, kube.pod(rs, "node-exporter-5d8f7c9b4-aaaaa", [kube.crashing("node-exporter")])]


def test_a_folder_both_clusters_deploy_through_their_artifacts_is_shared(tmp_path: Path):
    # `./controllers` of artifact `infrastructure` is `infrastructure/controllers` for the
    # staging and the production Kustomization alike: an edit there reaches both clusters
    commit(tmp_path, EXAMPLE, "init")
    r = only(plan(build_state([*flux_objects(), *exporter_live()], "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "`infrastructure/controllers` is deployed by 2 owners" in r.reason
    assert "clusters/staging/infrastructure.yaml" in r.reason


def test_a_folder_one_cluster_deploys_through_its_artifact_is_patched(tmp_path: Path):
    files = {k: v for k, v in EXAMPLE.items() if not k.startswith("clusters/staging/")}
    commit(tmp_path, files, "init")
    r = only(plan(build_state([*flux_objects(), *exporter_live()], "c"), tmp_path, CONFIG))
    assert r.decision == Decision.PROPOSE, r.reason
    assert [c.path for c in r.changes] == ["infrastructure/controllers/node-exporter.yaml"]
    assert "ExternalArtifact flux-system/infrastructure" in r.location.why  # type: ignore[union-attr]


def with_copy(copy: str, artifact: str = "apps") -> dict[str, str]:
    """The production generator with the copies of ``artifact`` replaced."""
    text = generator("production")
    head, _, _ = text.partition("            - name: apps\n")
    if artifact == "apps":
        text = head + "            - name: apps\n              copy:\n" + copy
    return {**{k: v for k, v in EXAMPLE.items() if not k.startswith("clusters/staging/")},
            "clusters/production/artifacts.yaml": text}


def copies(*ops: str) -> str:
    """`copy:` entries of the generator, each `from -> to[ | strategy][ | exclude]`."""
    out = ""
    for op in ops:
        move, *extra = op.split(" | ")
        src, dst = move.split(" -> ")
        out += f'                - from: "{src}"\n                  to: "{dst}"\n'
        out += "".join(f"                  {e}\n" for e in extra)
    return out


@pytest.mark.parametrize(("copy", "reason"), [
    (copies("@monorepo/apps/base/** -> @artifact/common/",
            "@monorepo/apps/production/** -> @artifact/production/"),
     "places files at other relative paths in ExternalArtifact flux-system/apps than in the "
     "repository (`apps/base` to `common`, `apps/production` to `production`)"),
    (copies("@monorepo/apps/** -> @artifact/",
            "@monorepo/overrides/values.yaml -> @artifact/production/podinfo-values.yaml"
            " | strategy: Merge"),
     "copies `@monorepo/overrides/values.yaml` with the `Merge` strategy"),
])
def test_artifacts_that_are_not_a_view_of_one_folder_are_skipped(tmp_path: Path, copy: str,
                                                                  reason: str):
    commit(tmp_path, with_copy(copy), "init")
    state = build_state([*objects(GIT), objects(apps("production"))[0], *podinfo_live()], "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert reason in r.reason


def test_an_artifact_with_files_from_an_oci_repository_is_skipped(tmp_path: Path):
    oci = "            - alias: chart\n              kind: OCIRepository\n" \
          "              name: podinfo-chart\n"
    files = with_copy(copies("@chart/** -> @artifact/chart/",
                             "@monorepo/apps/** -> @artifact/"))
    gen = files["clusters/production/artifacts.yaml"]
    files["clusters/production/artifacts.yaml"] = gen.replace("          artifacts:\n",
                                                              oci + "          artifacts:\n")
    commit(tmp_path, files, "init")
    state = build_state([*objects(GIT), objects(apps("production"))[0], *podinfo_live()], "c")
    r = only(plan(state, tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "takes files from the OCIRepository podinfo-chart" in r.reason
    assert "only files from this Git repository are patched" in r.reason


def test_a_file_the_generator_excludes_is_never_the_layer(tmp_path: Path):
    copy = copies("@monorepo/apps/base/** -> @artifact/base/",
                  "@monorepo/apps/production/** -> @artifact/production/"
                  ' | exclude: ["*-values.yaml"]')
    commit(tmp_path, with_copy(copy), "init")
    state = build_state([*objects(GIT), objects(apps("production"))[0], *podinfo_live()], "c")
    r = only(plan(state, tmp_path, CONFIG))
    # the overlay names a file the artifact lacks: Flux's own build fails on it, and the
    # repository's render is not what runs
    assert r.decision == Decision.SKIP
    assert "`apps/production/podinfo-values.yaml` is where the change would go" in r.reason


def test_an_external_artifact_from_another_producer_is_skipped(tmp_path: Path):
    commit(tmp_path, EXAMPLE, "init")
    foreign = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "ExternalArtifact",
               "metadata": {"name": "apps", "namespace": "flux-system"},
               "spec": {"sourceRef": {"apiVersion": "example.com/v1", "kind": "Source",
                                      "name": "my-source"}}}
    items = [*objects(GIT), foreign, objects(apps("production"))[0], *podinfo_live()]
    r = only(plan(build_state(items, "c"), tmp_path, CONFIG))
    assert r.decision == Decision.SKIP
    assert "is produced by Source my-source, not an ArtifactGenerator" in r.reason


def test_the_origin_revision_tells_which_commit_an_artifact_deploys():
    items = [*flux_objects(), *podinfo_live()]
    state = build_state(items, "c")
    podinfo = {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "podinfo",
               "name": "podinfo"}
    assert synced_revisions(state, podinfo, CONFIG.verify) == ["c" * 40]
