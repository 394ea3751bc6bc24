"""`validation.schemaLocations`: custom resources validated against the repository's own JSON
schemas (kubeconform's catalogue layout), offline, through `remediator validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli

SCHEMA = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {"type": "object", "required": ["project"], "additionalProperties": False,
                 "properties": {"project": {"type": "string"},
                                "destination": {"type": "object"}}},
    },
}
APP = ("apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
       "metadata: {name: shop, namespace: argocd}\nspec:\n{spec}")
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "schemas" / "argoproj.io"
    folder.mkdir(parents=True)
    (folder / "application_v1alpha1.json").write_text(json.dumps(SCHEMA))
    (tmp_path / ".remediator.yaml").write_text("validation:\n  schemaLocations: [schemas]\n")
    (tmp_path / "widget.yaml").write_text(WIDGET)
    return tmp_path


def findings(repo: Path) -> tuple[int, list[dict]]:
    proc = cli("validate", "--repo", str(repo), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def test_a_custom_resource_is_checked_against_the_located_schema(repo: Path):
    (repo / "app.yaml").write_text(APP.replace("{spec}", "  project: 5\n  sourceRepo: x\n"))
    code, found = findings(repo)
    assert code == 1
    errors = {f["message"] for f in found if f["severity"] == "error"}
    assert any("spec.project" in m and "string" in m for m in errors), errors
    assert any("sourceRepo" in m for m in errors), errors
    # a kind with no schema anywhere is still a note
    notes = [f for f in found if f["severity"] == "note" and f["file"] == "widget.yaml"]
    assert notes and "no schema for Widget example.com/v1" in notes[0]["message"]


def test_a_valid_custom_resource_passes(repo: Path):
    (repo / "app.yaml").write_text(APP.replace("{spec}", "  project: default\n"))
    code, found = findings(repo)
    assert code == 0, found
    assert not [f for f in found if f["file"] == "app.yaml"]


def test_an_unusable_schema_fails_closed_and_a_bad_location_is_a_config_error(repo: Path):
    (repo / "schemas/argoproj.io/application_v1alpha1.json").write_text("{not json")
    (repo / "app.yaml").write_text(APP.replace("{spec}", "  project: default\n"))
    code, found = findings(repo)
    assert code == 1
    assert any("not a usable JSON schema" in f["message"] for f in found)
    (repo / ".remediator.yaml").write_text("validation:\n  schemaLocations: [../elsewhere]\n")
    proc = cli("validate", "--repo", str(repo))
    assert proc.returncode == 2 and "outside the repository" in proc.stderr
