"""The edit stage on real YAML files: minimal diffs, formatting kept, refusals."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from remediator.edit import EditError, apply_edits
from remediator.model import DocumentEdit, DocumentRef, FileChange
from tests.support.edits import changed_lines, write

# A commented, multi-document file with quotes, 4-space indentation and sequences whose dash sits
# at the parent's column with the content 4 columns in ("-   name").
CART = """\
# Cart service, owned by team-shop.
# Do not edit by hand on Fridays.
---
apiVersion: v1
kind: ConfigMap
metadata:
    name: cart-config   # read at start-up
data:
    LOG_LEVEL: 'info'
---
apiVersion: apps/v1
kind: Deployment
metadata:
    name: cart
    labels:
        app: cart   # the app label
spec:
    replicas: 2
    template:
        spec:
            containers:
            -   name: cart
                image: "ghcr.io/shop/cart:1.7.3"   # pinned
                args: ["--port", "8080"]
                resources:
                    limits:
                        memory: 128Mi   # too small?
                    requests:
                        cpu: 100m

            # volumes below
            volumes: []
...
---
apiVersion: v1
kind: Service
metadata:
    name: cart
spec:
    ports:
    -   port: 80
"""

MEMORY = "/spec/template/spec/containers/0/resources/limits/memory"


def edit(root: Path, rel: str, ops: list[dict[str, Any]], index: int = 0) -> FileChange:
    changes = apply_edits(root, [DocumentEdit(DocumentRef(rel, index), ops)])
    assert len(changes) == 1
    return changes[0]


def load_all(text: str, version: tuple[int, int] | None = None) -> list[Any]:
    yaml = YAML(typ="safe", pure=True)
    if version:
        yaml.version = version
    return list(yaml.load_all(io.StringIO(text)))


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
