"""A configMapGenerator's data file is an application's own config, copied as it is into a
ConfigMap: custom tags and all (recyclarr's `!env_var`, Home Assistant's `!secret`). The
repository index does not read it as manifests, so `plan` does not warn about it (seen on
bjw-s-labs/home-ops); a file that is also a resource still warns."""

from __future__ import annotations

import textwrap
from pathlib import Path

from remediator.locate import RepoIndex

APP_CONFIG = ("sonarr:\n  main:\n    base_url: http://sonarr.downloads.svc.cluster.local\n"
              "    api_key: !env_var SONARR_API_KEY\n")
#: a Grafana provisioning file has an `apiVersion` of its own, so only the kustomization that
#: generates from it says it is data
PROVISIONING = "apiVersion: 1\ndatasources:\n  - name: loki\n    url: !env_var LOKI_URL\n"


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))


def test_a_generator_data_file_with_custom_tags_is_no_warning(tmp_path: Path):
    write(tmp_path, {
        "kubernetes/apps/downloads/recyclarr/app/kustomization.yaml": """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources: [./helmrelease.yaml]
            configMapGenerator:
              - name: recyclarr
                files: [config/recyclarr.yml, config/datasources.yaml]
            generatorOptions:
              disableNameSuffixHash: true
            """,
        "kubernetes/apps/downloads/recyclarr/app/helmrelease.yaml": """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: recyclarr}
            spec:
              chartRef: {kind: OCIRepository, name: recyclarr}
            """,
        "kubernetes/apps/downloads/recyclarr/app/config/recyclarr.yml": APP_CONFIG,
        "kubernetes/apps/downloads/recyclarr/app/config/datasources.yaml": PROVISIONING,
        # a manifest with the same tag, listed as a resource as well: that still warns
        "kubernetes/apps/other/kustomization.yaml": """
            resources: [broken.yaml]
            configMapGenerator:
              - name: other
                files: [key=broken.yaml]
            """,
        "kubernetes/apps/other/broken.yaml": "kind: ConfigMap\n" + PROVISIONING,
    })
    index = RepoIndex.scan(tmp_path)
    assert [w.split(":", 1)[0] for w in index.warnings] == ["kubernetes/apps/other/broken.yaml"]
    assert [d.kind for d in index.docs] == ["HelmRelease"]
