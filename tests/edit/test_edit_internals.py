"""Building blocks of the edit stage: document splitting, the three-way merge, quoting."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.edit import EditError, apply_edits
from remediator.edit.merge import merge3
from remediator.edit.scalars import needs_quotes
from remediator.edit.split import document_spans
from remediator.edit.style import Style, detect_style
from remediator.kernel.yamlio import load_documents
from remediator.model import DocumentEdit, DocumentRef


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "---\n",
        "a: 1\n---\n",
        "--- # helm: Source x\na: 1\n---\n# comment only doc?\n---\nb: 2\n...\n",
        "a: 1\n...\n---\nb: 2\n...\n",
        "--- |\n  text\n--- >-\n  folded\n",
        "- 1\n- 2\n",
    ],
)
def test_document_spans_count_documents_like_the_loader(text: str) -> None:
    assert len(document_spans(text)) == len(load_documents(text))


def test_document_spans_cover_only_content_lines() -> None:
    text = "# head\n---\n# lead\na: 1  # eol\nb: |\n  x\n\n# tail\n...\n--- !!map\nc: 1\n"
    first, second = document_spans(text)
    assert text[first.start : first.end] == "a: 1  # eol\nb: |\n  x\n"
    assert not first.inline_start
    assert second.inline_start


def test_merge_keeps_original_lines_the_edit_did_not_touch() -> None:
    original = ["kind:   X\n", "a: 1\n", "b: 2\n"]
    base = ["kind: X\n", "a: 1\n", "b: 2\n"]
    new = ["kind: X\n", "a: 1\n", "b: 3\n", "c: 4\n"]
    assert merge3(original, base, new) == ["kind:   X\n", "a: 1\n", "b: 3\n", "c: 4\n"]


def test_merge_lets_the_edit_win_on_a_line_both_changed() -> None:
    original = ["a:   1\n"]
    base = ["a: 1\n"]
    assert merge3(original, base, ["a: 2\n"]) == ["a: 2\n"]


def test_merge_shifts_edited_lines_to_the_original_indentation() -> None:
    original = ["l:\n", "- a: 1\n", "  b: 1\n"]
    base = ["l:\n", "  - a: 1\n", "    b: 1\n"]
    new = ["l:\n", "  - a: 1\n", "    b: 2\n", "    c: 3\n"]
    assert merge3(original, base, new) == ["l:\n", "- a: 1\n", "  b: 2\n", "  c: 3\n"]


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("a:\n  b:\n  - c: 1\n", Style(2, 2, 0)),
        ("a:\n  b:\n    - c: 1\n", Style(2, 4, 2)),
        ("a:\n    b:\n        -   c: 1\n", Style(4, 8, 4)),
        ("a:\n    b: 1\n", Style(4, 4, 2)),  # no sequence: "- " where a nested key would go
        ("a: 1\n", Style(2, 2, 0)),
    ],
)
def test_detect_style(text: str, style: Style) -> None:
    assert detect_style(text) == style


@pytest.mark.parametrize("value", ["192Mi", "500m", "nginx:1.25", "--flag=1", "hello world"])
def test_ordinary_strings_need_no_quotes(value: str) -> None:
    assert not needs_quotes(value)


def test_comment_keeps_its_distance_from_a_value_of_another_width(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("image: app:1   # pinned\nn: 5  # five\n")
    ops = [
        {"op": "replace", "path": "/image", "value": "registry.example.com/app:1.2.3"},
        {"op": "replace", "path": "/n", "value": 12345},
    ]
    [change] = apply_edits(tmp_path, [DocumentEdit(DocumentRef("c.yaml"), ops)])
    assert change.new_text == "image: registry.example.com/app:1.2.3   # pinned\nn: 12345  # five\n"


def test_replacing_a_block_keeps_the_lines_after_it(tmp_path: Path) -> None:
    text = "env:\n- name: A\n  value: a\n\n# next section\nports: []\n"
    (tmp_path / "r.yaml").write_text(text)
    ops = [{"op": "replace", "path": "/env", "value": [{"name": "B", "value": "b"}]}]
    [change] = apply_edits(tmp_path, [DocumentEdit(DocumentRef("r.yaml"), ops)])
    assert change.new_text == "env:\n- name: B\n  value: b\n\n# next section\nports: []\n"


def test_no_op_edit_yields_an_empty_diff(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("a: 1\n")
    ops = [{"op": "replace", "path": "/a", "value": 1}]
    [change] = apply_edits(tmp_path, [DocumentEdit(DocumentRef("s.yaml"), ops)])
    assert (change.new_text, change.diff) == ("a: 1\n", "")


def test_merged_key_edit_adds_a_local_key_and_leaves_the_anchor_alone(tmp_path: Path) -> None:
    text = "base: &b\n  x: 1  # x\n\n  # about y\n  y: 2\nm:\n  <<: *b\n  z: 3\n"
    (tmp_path / "m.yaml").write_text(text)
    ops = [{"op": "replace", "path": "/m/x", "value": 5}]
    [change] = apply_edits(tmp_path, [DocumentEdit(DocumentRef("m.yaml"), ops)])
    assert change.new_text == text + "  x: 5\n"


def test_error_messages_do_not_quote_the_document(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("password: hunter2\n")
    ops = [{"op": "remove", "path": "/nope/x"}]
    with pytest.raises(EditError) as info:
        apply_edits(tmp_path, [DocumentEdit(DocumentRef("s.yaml"), ops)])
    assert str(info.value) == "s.yaml (document 0): op 0 remove '/nope/x': does not apply: " + (
        "member 'nope' not found"
    )
