"""Edits of a YAML document held in a literal block string (a ConfigMap's `data.values.yaml`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.edit import EditError, apply_edits
from remediator.model import DocumentEdit, DocumentRef, FileChange
from tests.support.edits import changed_lines, write

CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: values   # the chart's values
data:
  values.yaml: {header}
    # memory for the app
    resources:
      limits:
        memory: 128Mi   # raised in March
    image:
      tag: "1.0"
"""


def edit(root: Path, ops: list[dict], at: tuple = ("data", "values.yaml"), index: int = 0
         ) -> FileChange:
    [change] = apply_edits(root, [DocumentEdit(DocumentRef("cm.yaml", index, at), ops)])
    return change


SET_MEMORY = [{"op": "replace", "path": "/resources/limits/memory", "value": "192Mi"}]


@pytest.mark.parametrize("header", ["|", "|-", "|+"])
def test_one_value_inside_the_block_is_a_one_line_diff(tmp_path: Path, header: str):
    write(tmp_path, "cm.yaml", CONFIG_MAP.format(header=header))
    change = edit(tmp_path, SET_MEMORY)
    assert changed_lines(change.diff) == ["-        memory: 128Mi   # raised in March",
                                          "+        memory: 192Mi   # raised in March"]


def test_a_new_key_in_a_block_ending_the_file_without_a_newline(tmp_path: Path):
    write(tmp_path, "cm.yaml", CONFIG_MAP.format(header="|").rstrip("\n"))
    change = edit(tmp_path, [{"op": "add", "path": "/resources/requests",
                              "value": {"memory": "64Mi"}}])
    assert changed_lines(change.diff)[-2:] == ["+      requests:", "+        memory: 64Mi"]


def test_other_documents_and_crlf_line_ends_are_kept(tmp_path: Path):
    text = "kind: Namespace\nmetadata: {name: x}\n---\n" + CONFIG_MAP.format(header="|")
    write(tmp_path, "cm.yaml", text, newline="\r\n")
    change = edit(tmp_path, SET_MEMORY, index=1)
    assert change.new_text == text.replace("128Mi", "192Mi").replace("\n", "\r\n")


def test_a_quoted_string_is_refused(tmp_path: Path):
    write(tmp_path, "cm.yaml", 'kind: ConfigMap\ndata:\n  values.yaml: "a: 1"\n')
    with pytest.raises(EditError, match=r"not a literal block \(`\|`\); not edited"):
        edit(tmp_path, [{"op": "replace", "path": "/a", "value": 2}])


def test_a_path_that_is_not_a_string_is_refused(tmp_path: Path):
    write(tmp_path, "cm.yaml", "kind: ConfigMap\ndata:\n  values.yaml: {a: 1}\n")
    with pytest.raises(EditError, match="not a string holding YAML"):
        edit(tmp_path, [{"op": "replace", "path": "/a", "value": 2}])


def test_an_edit_inside_a_string_must_be_the_files_only_edit(tmp_path: Path):
    write(tmp_path, "cm.yaml", CONFIG_MAP.format(header="|"))
    with pytest.raises(EditError, match="must be the file's only edit"):
        apply_edits(tmp_path, [
            DocumentEdit(DocumentRef("cm.yaml", 0, ("data", "values.yaml")), SET_MEMORY),
            DocumentEdit(DocumentRef("cm.yaml"), [{"op": "add", "path": "/x", "value": 1}])])


def test_a_keep_block_with_blank_lines_before_the_next_key_keeps_them(tmp_path: Path):
    text = CONFIG_MAP.format(header="|+") + "\n\n  other.yaml: |\n    x: 1\n"
    write(tmp_path, "cm.yaml", text)
    change = edit(tmp_path, SET_MEMORY)
    assert change.new_text == text.replace("128Mi", "192Mi")
