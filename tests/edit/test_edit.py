"""The edit stage on real YAML files: minimal diffs, formatting kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.edit import apply_edits
from remediator.model import DocumentEdit, DocumentRef
from tests.support.edits import CART, MEMORY, changed_lines, edit, load_all, write

# ------------------------------------------------------------------------------ minimal diffs


def test_one_field_change_is_a_one_line_diff(tmp_path: Path) -> None:
    write(tmp_path, "apps/cart.yaml", CART)
    ops = [{"op": "replace", "path": MEMORY, "value": "192Mi"}]
    change = edit(tmp_path, "apps/cart.yaml", ops, 1)
    assert change.path == "apps/cart.yaml"
    assert change.old_text == CART
    assert change.new_text == CART.replace("memory: 128Mi", "memory: 192Mi")
    assert change.diff == (
        "--- a/apps/cart.yaml\n"
        "+++ b/apps/cart.yaml\n"
        "@@ -24,7 +24,7 @@\n"
        '                 args: ["--port", "8080"]\n'
        "                 resources:\n"
        "                     limits:\n"
        "-                        memory: 128Mi   # too small?\n"
        "+                        memory: 192Mi   # too small?\n"
        "                     requests:\n"
        "                         cpu: 100m\n"
        " \n"
    )
    assert (tmp_path / "apps/cart.yaml").read_text() == CART  # nothing written


def test_other_documents_header_comment_and_end_marker_kept_byte_for_byte(
    tmp_path: Path,
) -> None:
    write(tmp_path, "cart.yaml", CART)
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    change = edit(tmp_path, "cart.yaml", ops, 1)
    old_docs, new_docs = CART.split("\n---\n"), change.new_text.split("\n---\n")
    assert len(new_docs) == 4
    assert new_docs[0] == old_docs[0]  # the comment block before the first ---
    assert new_docs[1] == old_docs[1]  # first document
    assert new_docs[3] == old_docs[3]  # third document
    assert new_docs[2] == old_docs[2].replace("replicas: 2", "replicas: 3")
    assert new_docs[2].endswith("            volumes: []\n...")
    assert changed_lines(change.diff) == ["-    replicas: 2", "+    replicas: 3"]


def test_quoted_image_tag_keeps_its_double_quotes(tmp_path: Path) -> None:
    write(tmp_path, "cart.yaml", CART)
    image = "/spec/template/spec/containers/0/image"
    ops = [{"op": "replace", "path": image, "value": "ghcr.io/shop/cart:1.7.10"}]
    change = edit(tmp_path, "cart.yaml", ops, 1)
    assert changed_lines(change.diff) == [
        '-                image: "ghcr.io/shop/cart:1.7.3"   # pinned',
        '+                image: "ghcr.io/shop/cart:1.7.10"   # pinned',
    ]


def test_single_quoted_value_keeps_single_quotes(tmp_path: Path) -> None:
    write(tmp_path, "cart.yaml", CART)
    ops = [{"op": "replace", "path": "/data/LOG_LEVEL", "value": "debug"}]
    change = edit(tmp_path, "cart.yaml", ops)
    assert changed_lines(change.diff) == ["-    LOG_LEVEL: 'info'", "+    LOG_LEVEL: 'debug'"]


def test_nested_add_is_block_yaml_at_the_document_indent(tmp_path: Path) -> None:
    write(tmp_path, "cart.yaml", CART)
    ops = [
        {"op": "remove", "path": "/spec/template/spec/containers/0/resources"},
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/resources",
            "value": {"limits": {"memory": "192Mi"}},
        },
    ]
    change = edit(tmp_path, "cart.yaml", ops, 1)
    assert changed_lines(change.diff) == [
        "-                        memory: 128Mi   # too small?",
        "-                    requests:",
        "-                        cpu: 100m",
        "+                        memory: 192Mi",
    ]
    # the blank line and "# volumes below" still separate the containers from volumes
    assert "memory: 192Mi\n\n            # volumes below\n" in change.new_text


def test_new_key_goes_above_the_blank_line_that_ends_its_block(tmp_path: Path) -> None:
    write(tmp_path, "cart.yaml", CART)
    probe = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}
    ops = [{"op": "add", "path": "/spec/template/spec/containers/0/livenessProbe", "value": probe}]
    change = edit(tmp_path, "cart.yaml", ops, 1)
    assert change.diff.splitlines()[2:] == [
        "@@ -27,6 +27,11 @@",
        "                         memory: 128Mi   # too small?",
        "                     requests:",
        "                         cpu: 100m",
        "+                livenessProbe:",
        "+                    httpGet:",
        "+                        path: /healthz",
        "+                        port: 8080",
        "+                    periodSeconds: 10",
        " ",
        "             # volumes below",
        "             volumes: []",
    ]


def test_append_with_dash_to_block_and_flow_sequences(tmp_path: Path) -> None:
    write(tmp_path, "cart.yaml", CART)
    ops = [
        {"op": "add", "path": "/spec/ports/-", "value": {"port": 443, "name": "https"}},
    ]
    change = edit(tmp_path, "cart.yaml", ops, 2)
    assert changed_lines(change.diff) == ["+    -   port: 443", "+        name: https"]
    args = "/spec/template/spec/containers/0/args/-"
    change = edit(tmp_path, "cart.yaml", [{"op": "add", "path": args, "value": "--debug"}], 1)
    assert changed_lines(change.diff) == [
        '-                args: ["--port", "8080"]',
        '+                args: ["--port", "8080", "--debug"]',
    ]


def test_insert_into_a_sequence_by_index(tmp_path: Path) -> None:
    write(tmp_path, "list.yaml", "items:\n- a\n- b  # bee\n")
    change = edit(tmp_path, "list.yaml", [{"op": "add", "path": "/items/1", "value": "z"}])
    assert change.new_text == "items:\n- a\n- z\n- b  # bee\n"


def test_remove_keeps_the_surrounding_lines(tmp_path: Path) -> None:
    text = "spec:\n  a: 1   # one\n  b: 2   # two\n\n  # about c\n  c: 3\n"
    write(tmp_path, "r.yaml", text)
    change = edit(tmp_path, "r.yaml", [{"op": "remove", "path": "/spec/b"}])
    assert change.new_text == "spec:\n  a: 1   # one\n\n  # about c\n  c: 3\n"
    assert changed_lines(change.diff) == ["-  b: 2   # two"]


def test_remove_a_sequence_item(tmp_path: Path) -> None:
    write(tmp_path, "r.yaml", "args:\n  - --a\n  - --b\n  - --c\n")
    change = edit(tmp_path, "r.yaml", [{"op": "remove", "path": "/args/1"}])
    assert change.new_text == "args:\n  - --a\n  - --c\n"


def test_json_pointer_escapes(tmp_path: Path) -> None:
    text = "metadata:\n  annotations:\n    example.com/owner: shop\n    a~b: x\n"
    write(tmp_path, "p.yaml", text)
    ops = [
        {"op": "replace", "path": "/metadata/annotations/example.com~1owner", "value": "cart"},
        {"op": "remove", "path": "/metadata/annotations/a~0b"},
    ]
    change = edit(tmp_path, "p.yaml", ops)
    assert change.new_text == "metadata:\n  annotations:\n    example.com/owner: cart\n"


# ------------------------------------------------------------------------ indentation styles


@pytest.mark.parametrize(
    ("text", "expected_added"),
    [
        pytest.param(
            "spec:\n  containers:\n    - name: app\n      image: app:1\n",
            ["+      resources:", "+        limits:", "+          memory: 192Mi"],
            id="2-space, indented sequences",
        ),
        pytest.param(
            "spec:\n  containers:\n  - name: app\n    image: app:1\n",
            ["+    resources:", "+      limits:", "+        memory: 192Mi"],
            id="2-space, sequences at the parent's column",
        ),
        pytest.param(
            "spec:\n    containers:\n        - name: app\n          image: app:1\n",
            ["+          resources:", "+              limits:", "+                  memory: 192Mi"],
            id="4-space, indented sequences",
        ),
        pytest.param(
            "spec:\n    containers:\n    -   name: app\n        image: app:1\n",
            ["+        resources:", "+            limits:", "+                memory: 192Mi"],
            id="4-space, dash at the parent's column",
        ),
    ],
)
def test_indentation_style_is_detected_and_kept(
    tmp_path: Path, text: str, expected_added: list[str]
) -> None:
    write(tmp_path, "d.yaml", text)
    value = {"limits": {"memory": "192Mi"}}
    ops = [{"op": "add", "path": "/spec/containers/0/resources", "value": value}]
    change = edit(tmp_path, "d.yaml", ops)
    assert changed_lines(change.diff) == expected_added
    assert load_all(change.new_text)[0]["spec"]["containers"][0]["resources"] == value


def test_documents_of_one_file_keep_their_own_styles(tmp_path: Path) -> None:
    text = (
        "a:\n    list:\n    -   x: 1\n---\n"
        "b:\n  list:\n    - z: 1\n"
    )
    write(tmp_path, "m.yaml", text)
    edits = [
        DocumentEdit(DocumentRef("m.yaml", i), [{"op": "add", "path": path, "value": value}])
        for i, (path, value) in enumerate([("/a/list/-", {"x": 2}), ("/b/list/-", {"z": 2})])
    ]
    [change] = apply_edits(tmp_path, edits)
    assert change.new_text == (
        "a:\n    list:\n    -   x: 1\n    -   x: 2\n---\n"
        "b:\n  list:\n    - z: 1\n    - z: 2\n"
    )


def test_block_indented_unlike_the_rest_of_its_document_keeps_its_indentation(
    tmp_path: Path,
) -> None:
    # most of the document puts "- " two columns in; this one list does not, and has odd spacing
    text = (
        "spec:\n"
        "  ports:\n"
        "    - port: 80\n"
        "    - port: 81\n"
        "  containers:\n"
        "  - name: a     # first\n"
        "    image: a:1\n"
        "  -   name: b\n"
        "      image: b:1\n"
    )
    write(tmp_path, "odd.yaml", text)
    ops = [{"op": "add", "path": "/spec/containers/-", "value": {"name": "c", "image": "c:1"}}]
    change = edit(tmp_path, "odd.yaml", ops)
    assert change.new_text == text + "  - name: c\n    image: c:1\n"
    ops = [{"op": "replace", "path": "/spec/containers/0/image", "value": "a:2"}]
    change = edit(tmp_path, "odd.yaml", ops)
    assert changed_lines(change.diff) == ["-    image: a:1", "+    image: a:2"]


def test_spacing_ruamel_would_normalise_is_kept_on_untouched_lines(tmp_path: Path) -> None:
    text = (
        "kind:   Deployment\n"
        "enabled: True\n"
        "spec:\n"
        "  replicas: 1\n"
        "  text: a long\n"
        "    plain scalar\n"
    )
    write(tmp_path, "n.yaml", text)
    change = edit(tmp_path, "n.yaml", [{"op": "replace", "path": "/spec/replicas", "value": 2}])
    assert change.new_text == text.replace("replicas: 1", "replicas: 2")


# ------------------------------------------------------------------------------- new values


AMBIGUOUS = [
    "yes", "no", "on", "off", "y", "n", "Y", "NO", "true", "False", "null", "~", "1.10",
    "0755", "1e3", "12:30", "0x1F", ".inf", "", " padded", "trailing ", "*", "&anchor",
    "!tag", "# not a comment", "key: value", "2024-01-01", "-", "=", "<<", "100",
]


@pytest.mark.parametrize("value", AMBIGUOUS)
def test_ambiguous_new_strings_are_quoted_and_read_back_as_strings(
    tmp_path: Path, value: str
) -> None:
    write(tmp_path, "cm.yaml", "data:\n  A: a\n")
    change = edit(tmp_path, "cm.yaml", [{"op": "add", "path": "/data/B", "value": value}])
    [added] = changed_lines(change.diff)
    assert added.startswith(('+  B: "', "+  B: '")), added
    for version in ((1, 1), (1, 2)):
        assert load_all(change.new_text, version)[0]["data"]["B"] == value


def test_plain_looking_strings_stay_plain_and_numbers_stay_numbers(tmp_path: Path) -> None:
    write(tmp_path, "cm.yaml", "spec:\n  a: 1\n")
    value = {"memory": "192Mi", "cpu": "500m", "image": "nginx:1.25", "n": 3, "on": True, "x": 0.5}
    change = edit(tmp_path, "cm.yaml", [{"op": "add", "path": "/spec/b", "value": value}])
    assert changed_lines(change.diff) == [
        "+  b:",
        "+    memory: 192Mi",
        "+    cpu: 500m",
        "+    image: nginx:1.25",
        '+    "n": 3',  # keys a YAML 1.1 reader takes for booleans are quoted too
        '+    "on": true',
        "+    x: 0.5",
    ]


def test_ambiguous_new_keys_are_quoted(tmp_path: Path) -> None:
    write(tmp_path, "k.yaml", "a: 1\n")
    ops = [
        {"op": "add", "path": "/on", "value": {"yes": 1, "1.10": "x", "ok": 2}},
        {"op": "add", "path": "/on/n", "value": 3},
    ]
    change = edit(tmp_path, "k.yaml", ops)
    assert change.new_text == 'a: 1\n"on":\n  "yes": 1\n  "1.10": x\n  ok: 2\n  "n": 3\n'
    assert load_all(change.new_text, (1, 1))[0]["on"] == {"yes": 1, "1.10": "x", "ok": 2, "n": 3}


def test_multi_line_string_becomes_a_literal_block(tmp_path: Path) -> None:
    write(tmp_path, "cm.yaml", "data:\n  a: b\n")
    ops = [{"op": "add", "path": "/data/conf", "value": "line one\nline two\n"}]
    change = edit(tmp_path, "cm.yaml", ops)
    assert change.new_text == "data:\n  a: b\n  conf: |\n    line one\n    line two\n"


def test_new_quotes_follow_the_document_habit(tmp_path: Path) -> None:
    write(tmp_path, "cm.yaml", "data:\n  a: 'x'\n  b: 'y'\n")
    change = edit(tmp_path, "cm.yaml", [{"op": "add", "path": "/data/c", "value": "on"}])
    assert changed_lines(change.diff) == ["+  c: 'on'"]


def test_yaml_1_1_values_elsewhere_in_the_document_survive(tmp_path: Path) -> None:
    text = "enabled: yes\nmode: 0755\nat: 12:30\nreplicas: 1\n"
    write(tmp_path, "v.yaml", text)
    change = edit(tmp_path, "v.yaml", [{"op": "replace", "path": "/replicas", "value": 2}])
    assert change.new_text == text.replace("replicas: 1", "replicas: 2")
    change = edit(tmp_path, "v.yaml", [{"op": "replace", "path": "/enabled", "value": False}])
    assert changed_lines(change.diff) == ["-enabled: yes", "+enabled: false"]


def test_unused_anchor_is_kept_when_its_node_is_edited(tmp_path: Path) -> None:
    text = "items:\n- &first\n  name: a\n  value: 1\n"
    write(tmp_path, "an.yaml", text)
    # the edited line is the one ruamel would otherwise fold the dropped anchor into
    change = edit(tmp_path, "an.yaml", [{"op": "replace", "path": "/items/0/name", "value": "b"}])
    assert change.new_text == text.replace("name: a", "name: b")
