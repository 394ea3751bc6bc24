"""Editing a document held in a block string of another one (inline patches of Argo CD
Applications and Flux Kustomizations): the diff of the outer file is the diff of the inner one."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.edit import EditError, apply_edits
from remediator.model import DocumentEdit, DocumentRef

KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: web   # the app
spec:
  patches:
    - target: {kind: Deployment, name: web}
      patch: |{chomp}
        - op: replace
          path: /spec/replicas

          value: 2
        - op: add
          path: /spec/template/spec/containers/0/image
          value: ghcr.io/acme/web:1.11
---
kind: Other
"""
WHERE = ("spec", "patches", 0, "patch")


def edit(root: Path, text: str, ops: list[dict], where: tuple = WHERE) -> str:
    (root / "ks.yaml").write_bytes(text.encode())
    [change] = apply_edits(root, [DocumentEdit(DocumentRef("ks.yaml", 0, where), ops)])
    return change.new_text


@pytest.mark.parametrize("chomp", ["", "-", "+"])
def test_one_value_in_the_string_is_a_one_line_change(tmp_path: Path, chomp: str) -> None:
    text = KS.replace("{chomp}", chomp)
    ops = [{"op": "test", "path": "/1/value", "value": "ghcr.io/acme/web:1.11"},
           {"op": "replace", "path": "/1/value", "value": "ghcr.io/acme/web:1.10"}]
    new = edit(tmp_path, text, ops)
    assert new == text.replace("web:1.11", "web:1.10")


def test_crlf_files_stay_crlf(tmp_path: Path) -> None:
    text = KS.replace("{chomp}", "").replace("\n", "\r\n")
    new = edit(tmp_path, text, [{"op": "replace", "path": "/0/value", "value": 3}])
    assert new == text.replace("value: 2", "value: 3")


def test_a_new_key_in_the_string_keeps_its_indentation(tmp_path: Path) -> None:
    text = KS.replace("{chomp}", "")
    new = edit(tmp_path, text, [{"op": "add", "path": "/0/note", "value": "x"}])
    assert "          value: 2\n          note: x\n" in new


@pytest.mark.parametrize("bad, message", [
    ("patch: '- {op: replace, path: /spec/replicas, value: 2}'", "not a literal block"),
    ("patch: |2\n          - op: replace\n            path: /a\n            value: 2",
     "explicit indentation"),
])
def test_strings_that_cannot_be_edited_in_place_are_refused(tmp_path: Path, bad: str,
                                                            message: str) -> None:
    text = (f"spec:\n  patches:\n    - {bad}\n")
    with pytest.raises(EditError, match=message):
        edit(tmp_path, text, [{"op": "replace", "path": "/0/value", "value": 3}])
    assert (tmp_path / "ks.yaml").read_text() == text  # nothing written, ever


def test_not_a_document_in_the_string(tmp_path: Path) -> None:
    text = "spec:\n  patches:\n    - patch: |\n        a: [1\n"
    with pytest.raises(EditError, match="does not parse"):
        edit(tmp_path, text, [{"op": "replace", "path": "/a", "value": 3}])
    with pytest.raises(EditError, match="not a string"):
        edit(tmp_path, "spec: {patches: [{patch: 3}]}\n", [{"op": "replace", "path": "/a",
                                                            "value": 3}])
