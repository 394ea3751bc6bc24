"""The edit stage on real YAML files: edits grouped per file, new files, line endings and
refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from remediator.edit import EditError, apply_edits
from remediator.model import DocumentEdit, DocumentRef
from tests.support.edits import CART, changed_lines, edit, write

# ------------------------------------------------------------------------ files and grouping


def test_several_edits_group_into_one_change_per_file_in_first_seen_order(
    tmp_path: Path,
) -> None:
    write(tmp_path, "b.yaml", "x: 1\n")
    write(tmp_path, "a.yaml", "y: 1\n---\nz: 1\n")
    edits = [
        DocumentEdit(DocumentRef("b.yaml"), [{"op": "replace", "path": "/x", "value": 2}]),
        DocumentEdit(DocumentRef("a.yaml", 1), [{"op": "replace", "path": "/z", "value": 2}]),
        DocumentEdit(DocumentRef("b.yaml"), [{"op": "add", "path": "/w", "value": 3}]),
        DocumentEdit(DocumentRef("./a.yaml", 0), [{"op": "test", "path": "/y", "value": 1}]),
    ]
    changes = apply_edits(tmp_path, edits)
    assert [(c.path, c.new_text) for c in changes] == [
        ("b.yaml", "x: 2\nw: 3\n"),
        ("a.yaml", "y: 1\n---\nz: 2\n"),
    ]


def test_create_a_new_file(tmp_path: Path) -> None:
    (tmp_path / "overlays/prod").mkdir(parents=True)
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "cart"},
        "spec": {"template": {"spec": {"containers": [{"name": "cart", "resources": {}}]}}},
    }
    edits = [
        DocumentEdit(
            DocumentRef("overlays/prod/cart-memory.yaml"),
            [{"op": "add", "path": "", "value": patch}],
            create=True,
        ),
        DocumentEdit(
            DocumentRef("overlays/prod/cart-memory.yaml"),
            [{"op": "add", "path": "/spec/template/spec/containers/0/resources/limits",
              "value": {"memory": "192Mi"}}],
        ),
    ]
    [change] = apply_edits(tmp_path, edits)
    assert change.old_text == ""
    assert change.new_text == (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: cart\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: cart\n"
        "        resources:\n"
        "          limits:\n"
        "            memory: 192Mi\n"
    )
    assert change.diff.splitlines()[:3] == [
        "--- /dev/null",
        "+++ b/overlays/prod/cart-memory.yaml",
        "@@ -0,0 +1,12 @@",
    ]
    assert not (tmp_path / "overlays/prod/cart-memory.yaml").exists()


def test_new_file_copies_the_style_of_a_file_edited_next_to_it(tmp_path: Path) -> None:
    write(tmp_path, "prod/kustomization.yaml", "resources:\n  - ../base\n")
    edits = [
        DocumentEdit(
            DocumentRef("prod/kustomization.yaml"),
            [{"op": "add", "path": "/patches", "value": [{"path": "mem.yaml"}]}],
        ),
        DocumentEdit(
            DocumentRef("prod/mem.yaml"),
            [{"op": "add", "path": "/spec", "value": {"containers": [{"name": "c"}]}}],
            create=True,
        ),
    ]
    kustomization, new = apply_edits(tmp_path, edits)
    assert kustomization.new_text == "resources:\n  - ../base\npatches:\n  - path: mem.yaml\n"
    # indented sequences, like the kustomization (the default would put "- " under "c")
    assert new.new_text == "spec:\n  containers:\n    - name: c\n"


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    write(tmp_path, "exists.yaml", "a: 1\n")
    ops = [{"op": "add", "path": "/b", "value": 1}]
    edit_ = DocumentEdit(DocumentRef("exists.yaml"), ops, create=True)
    with pytest.raises(EditError, match=r"exists\.yaml: refusing to create: .*already exists"):
        apply_edits(tmp_path, [edit_])


def test_crlf_file_stays_crlf(tmp_path: Path) -> None:
    write(tmp_path, "w.yaml", "a: 1  # one\nb:\n  c: 'x'\n", newline="\r\n")
    ops = [
        {"op": "replace", "path": "/b/c", "value": "y"},
        {"op": "add", "path": "/b/d", "value": 2},
    ]
    change = edit(tmp_path, "w.yaml", ops)
    assert change.new_text == "a: 1  # one\r\nb:\r\n  c: 'y'\r\n  d: 2\r\n"
    assert changed_lines(change.diff) == ["-  c: 'x'\r", "+  c: 'y'\r", "+  d: 2\r"]


def test_missing_final_newline_stays_missing(tmp_path: Path) -> None:
    write(tmp_path, "n.yaml", "a: 1\nb: 2")
    change = edit(tmp_path, "n.yaml", [{"op": "replace", "path": "/b", "value": 3}])
    assert change.new_text == "a: 1\nb: 3"
    assert change.diff.endswith("+b: 3\n\\ No newline at end of file\n")


def test_empty_document_after_separator_can_be_filled(tmp_path: Path) -> None:
    write(tmp_path, "e.yaml", "a: 1\n---\n")
    change = edit(tmp_path, "e.yaml", [{"op": "add", "path": "/b", "value": 2}], 1)
    assert change.new_text == "a: 1\n---\nb: 2\n"


# ---------------------------------------------------------------------------------- refusals


def test_op_that_does_not_apply_raises_and_returns_nothing(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "a: 1\n")
    write(tmp_path, "cart.yaml", CART)
    edits = [
        DocumentEdit(DocumentRef("a.yaml"), [{"op": "replace", "path": "/a", "value": 2}]),
        DocumentEdit(
            DocumentRef("cart.yaml", 1),
            [
                {"op": "replace", "path": "/spec/replicas", "value": 3},
                {"op": "replace", "path": "/spec/template/spec/containers/3/image", "value": "x"},
            ],
        ),
    ]
    with pytest.raises(EditError) as info:
        apply_edits(tmp_path, edits)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(
        "cart.yaml (document 1): op 1 replace '/spec/template/spec/containers/3/image': "
    )
    assert (tmp_path / "a.yaml").read_text() == "a: 1\n"


@pytest.mark.parametrize(
    ("ops", "index", "pattern"),
    [
        ([{"op": "test", "path": "/a", "value": 2}], 0, r"op 0 test '/a': test failed"),
        ([{"op": "move", "from": "/a", "path": "/b"}], 0, r"op 0 move '/b': unsupported"),
        ([{"op": "remove", "path": "/nope"}], 0, r"op 0 remove '/nope': does not apply"),
        ([{"op": "add", "path": "/a/b/c", "value": 1}], 0, r"op 0 add '/a/b/c': does not apply"),
        ([{"op": "replace", "path": "/a", "value": 1}], 5, r"has 1 document\(s\), no document 5"),
    ],
)
def test_invalid_edits_are_refused_with_a_clear_message(
    tmp_path: Path, ops: list[dict[str, Any]], index: int, pattern: str
) -> None:
    write(tmp_path, "f.yaml", "a: 1\n")
    with pytest.raises(EditError, match=pattern):
        edit(tmp_path, "f.yaml", ops, index)


def test_missing_file_without_create_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EditError, match=r"nope\.yaml: does not exist"):
        edit(tmp_path, "nope.yaml", [{"op": "add", "path": "/a", "value": 1}])


@pytest.mark.parametrize("path", ["../x.yaml", "/etc/x.yaml", "a/../../x.yaml", ""])
def test_paths_outside_the_repo_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(EditError, match="refused"):
        edit(tmp_path, path, [{"op": "add", "path": "/a", "value": 1}])


def test_edit_through_an_alias_is_refused_rather_than_changing_every_use(tmp_path: Path) -> None:
    write(tmp_path, "al.yaml", "base: &b\n  x: 1\nuse: *b\n")
    with pytest.raises(EditError, match="anchor/alias"):
        edit(tmp_path, "al.yaml", [{"op": "replace", "path": "/use/x", "value": 2}])


def test_content_on_the_separator_line_is_not_rewritten(tmp_path: Path) -> None:
    write(tmp_path, "s.yaml", "a: 1\n--- !!map\nb: 1\n")
    with pytest.raises(EditError, match=r"document 1\): content starts on the '---' line"):
        edit(tmp_path, "s.yaml", [{"op": "replace", "path": "/b", "value": 2}], 1)
    change = edit(tmp_path, "s.yaml", [{"op": "replace", "path": "/a", "value": 2}], 0)
    assert change.new_text == "a: 2\n--- !!map\nb: 1\n"
