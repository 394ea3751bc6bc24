"""render.helm and render.values_key with the real Helm: charts from a repository folder and from
a chart repository on loopback, the values key of a container field proven by rendering."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from remediator.kernel import limits
from remediator.model import ChartSource
from remediator.model.settings import Limits
from remediator.render import helm as helm_render
from remediator.render import values_key
from tests.support.chart_repo import APP_TEMPLATE, CONVENTIONAL, ChartRepo, needs_helm, write_chart

pytestmark = needs_helm

MEDIA = {"controllers": {"main": {"containers": {
    "app": {"image": {"repository": "ghcr.io/jellyfin/jellyfin", "tag": "10.9.7"},
            "resources": {"requests": {"memory": "512Mi"}, "limits": {"memory": "1Gi"}}},
    "exporter": {"image": {"repository": "ghcr.io/acme/exporter", "tag": "0.4.0"},
                 "resources": {"limits": {"memory": "1Gi"}}}}}}}


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChartRepo]:
    repo = ChartRepo(tmp_path_factory.mktemp("chart-repo"))
    yield repo
    repo.close()


def _trace(folder: Path, values: dict, container: str, field: str) -> values_key.KeyProof:
    def render(v: dict) -> list[dict]:
        return helm_render.template(folder, "jellyfin", "media", v)

    defaults = helm_render.chart_defaults(folder)
    target = values_key.Target("Deployment", "jellyfin", container)
    return values_key.find_key(render, values, {**defaults, **values}, target, field)


def test_a_chart_folder_of_the_repository_renders_with_the_values(tmp_path: Path):
    write_chart(tmp_path / "charts/app", APP_TEMPLATE)
    objects = helm_render.render_release(ChartSource(path="charts/app"), "jellyfin", "media",
                                         MEDIA, root=tmp_path)
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    assert deployment["metadata"]["name"] == "jellyfin"
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["app", "exporter"]
    assert containers[0]["resources"]["limits"]["memory"] == "1Gi"


def test_a_chart_pulled_from_its_repository_renders(charts: ChartRepo):
    chart = ChartSource(repo_url=charts.url, name="redis", version="19.6.4")
    objects = helm_render.render_release(chart, "cache", "db", {"resources": {
        "limits": {"memory": "256Mi"}}})
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    assert deployment["metadata"]["name"] == "cache-master"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "limits": {"memory": "256Mi"}}


def test_an_unreachable_chart_repository_is_an_error_naming_why(tmp_path: Path):
    chart = ChartSource(repo_url="http://127.0.0.1:9", name="redis", version="1.0.0")
    with pytest.raises(helm_render.RenderError, match=r"redis version 1.0.0 cannot be fetched: "
                       r".*connection refused"):
        helm_render.chart_folder(chart)


def test_a_version_the_repository_does_not_have_is_an_error(charts: ChartRepo):
    chart = ChartSource(repo_url=charts.url, name="redis", version="99.0.0")
    with pytest.raises(helm_render.RenderError, match=r"cannot be fetched: .*99\.0\.0"):
        helm_render.chart_folder(chart)


def test_without_helm_nothing_is_rendered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    write_chart(tmp_path / "chart", CONVENTIONAL)
    monkeypatch.setenv(helm_render.HELM_ENV, "off")
    assert "turned off" in helm_render.unavailable_reason()
    with pytest.raises(helm_render.RenderUnavailable):
        helm_render.render_release(ChartSource(path="chart"), "r", "ns", {}, root=tmp_path)


def test_a_chart_with_a_symbolic_link_is_not_rendered(tmp_path: Path):
    write_chart(tmp_path / "chart", CONVENTIONAL)
    os.symlink("/etc/hostname", tmp_path / "chart" / "templates" / "host.txt")
    with pytest.raises(helm_render.RenderError, match="symbolic link"):
        helm_render.render_release(ChartSource(path="chart"), "r", "ns", {}, root=tmp_path)


def test_unvendored_dependencies_are_unavailable_not_fetched(tmp_path: Path):
    files = {**CONVENTIONAL, "Chart.yaml": CONVENTIONAL["Chart.yaml"] + (
        "dependencies:\n  - name: common\n    version: 2.x.x\n"
        "    repository: oci://registry-1.docker.io/bitnamicharts\n")}
    write_chart(tmp_path / "chart", files)
    with pytest.raises(helm_render.RenderUnavailable, match="depends on `common`"):
        helm_render.render_release(ChartSource(path="chart"), "r", "ns", {}, root=tmp_path)


def test_output_is_bounded(tmp_path: Path):
    files = {**CONVENTIONAL, "templates/big.yaml":
             "{{- range until 20000 }}\n---\nkind: ConfigMap\napiVersion: v1\nmetadata:\n"
             "  name: big-{{ . }}\n{{- end }}\n"}
    write_chart(tmp_path / "chart", files)
    with limits.applied(Limits(command_output_bytes=64 * 1024)), \
            pytest.raises(helm_render.RenderError, match="printed more than"):
        helm_render.render_release(ChartSource(path="chart"), "big", "ns", {}, root=tmp_path)


def test_app_template_resources_are_traced_to_the_containers_own_block(tmp_path: Path):
    folder = write_chart(tmp_path / "app", APP_TEMPLATE)
    proof = _trace(folder, MEDIA, "app", "resources")
    assert proof.key == ("controllers", "main", "containers", "app", "resources"), proof.note
    # the exporter's block holds the same limit: only the render tells them apart
    assert _trace(folder, MEDIA, "exporter", "resources").key == (
        "controllers", "main", "containers", "exporter", "resources")


def test_resources_not_set_yet_go_next_to_the_containers_image(tmp_path: Path):
    folder = write_chart(tmp_path / "app", APP_TEMPLATE)
    values = {"controllers": {"main": {"containers": {"app": {
        "image": {"repository": "ghcr.io/jellyfin/jellyfin", "tag": "10.9.7"}}}}}}
    proof = _trace(folder, values, "app", "resources")
    assert proof.key == ("controllers", "main", "containers", "app", "resources"), proof.note
    # the conventional top-level key was not even needed: the chart ignores it
    assert "`resources` (no effect" not in " ".join(proof.tried)


def test_the_image_tag_is_traced_to_the_containers_image_block(tmp_path: Path):
    folder = write_chart(tmp_path / "app", APP_TEMPLATE)
    proof = _trace(folder, MEDIA, "app", "image")
    assert proof.key == ("controllers", "main", "containers", "app", "image"), proof.note


def test_a_key_the_values_schema_refuses_is_not_proven(tmp_path: Path):
    folder = write_chart(tmp_path / "app", APP_TEMPLATE)
    proof = _trace(folder, MEDIA, "app", "startupProbe")
    assert proof.key is None
    assert "controllers.main.containers.app.startupProbe` (does not render: " in proof.note
    assert "could not be found by rendering it" in proof.note


def test_a_key_that_also_sizes_another_container_is_not_proven(tmp_path: Path):
    files = {**CONVENTIONAL, "templates/deployment.yaml": CONVENTIONAL[
        "templates/deployment.yaml"].replace(".Values.metrics.resources", ".Values.resources")}
    folder = write_chart(tmp_path / "redis", files)

    def render(v: dict) -> list[dict]:
        return helm_render.template(folder, "cache", "db", v)

    values = {"metrics": {"enabled": True}}
    proof = values_key.find_key(render, values, {**helm_render.chart_defaults(folder), **values},
                                values_key.Target("Deployment", "cache-master", "redis"),
                                "resources")
    assert proof.key is None
    assert "changes beyond container redis's `resources`" in proof.note


def test_only_http_and_oci_chart_repositories_are_fetched():
    chart = ChartSource(repo_url="file:///etc", name="passwd", version="1.0.0")
    with pytest.raises(helm_render.RenderError, match=r"only http\(s\):// and oci://"):
        helm_render.chart_folder(chart)


def test_an_oci_registry_that_cannot_be_reached_is_an_error_naming_why():
    chart = ChartSource(repo_url="oci://127.0.0.1:9/bjw-s/app-template", version="4.1.2")
    with pytest.raises(helm_render.RenderError, match=r"oci://127\.0\.0\.1:9/bjw-s/app-template "
                       r"version 4\.1\.2 cannot be fetched: .*connection refused"):
        helm_render.chart_folder(chart)


def test_the_values_schema_names_where_a_field_goes_in_each_map_entry(tmp_path: Path):
    folder = write_chart(tmp_path / "app", APP_TEMPLATE)
    schema = helm_render.chart_schema(folder)
    assert schema is not None
    assert values_key.schema_paths(schema, MEDIA, "resources") == [
        ("controllers", "main", "containers", "app", "resources"),
        ("controllers", "main", "containers", "exporter", "resources")]
    # local references are followed (charts split their schema into `$defs`)
    by_ref = {"$defs": {"container": {"properties": {"resources": {"type": "object"}}}},
              "properties": {"sidecars": {"additionalProperties": {"$ref": "#/$defs/container"}}}}
    assert values_key.schema_paths(by_ref, {"sidecars": {"vpn": {}}}, "resources") == [
        ("sidecars", "vpn", "resources")]


def test_a_password_in_a_chart_repository_url_never_reaches_a_message():
    chart = ChartSource(repo_url="http://robot:s3cretpw@127.0.0.1:9/charts", name="redis",
                        version="1.0.0")
    with pytest.raises(helm_render.RenderError) as raised:
        helm_render.chart_folder(chart)
    assert "s3cretpw" not in str(raised.value)
    assert "http://127.0.0.1:9/charts chart redis version 1.0.0 cannot be fetched" in \
        str(raised.value)
