from __future__ import annotations

import os
from pathlib import Path

import pytest

from remediator.kernel import yamlio
from remediator.kernel.redact import redact

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))


def test_alias_bomb_is_refused_before_expansion():
    with pytest.raises(yamlio.UnsafeYAML, match="aliases expand"):
        yamlio.load_documents(BOMB, "bomb.yaml")


def test_ordinary_anchors_are_fine():
    docs = yamlio.load_documents("base: &b {x: 1}\nother: *b\n")
    assert docs == [{"base": {"x": 1}, "other": {"x": 1}}]


def test_hostile_repo_is_scanned_with_warnings(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\n")
    repo = tmp_path / "repo"
    (repo / "apps").mkdir(parents=True)
    (repo / "apps" / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    (repo / "apps" / "empty.yaml").write_text("")
    (repo / "apps" / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    (repo / "apps" / "bomb.yaml").write_text(BOMB)
    (repo / "apps" / "broken.yml").write_text("a: [\n")
    os.symlink(outside / "secret.yaml", repo / "apps" / "link.yaml")
    os.symlink(outside, repo / "linkdir")
    (repo / "apps" / "huge.yaml").write_text("a: " + "x" * (yamlio.MAX_FILE_BYTES + 1))
    result = yamlio.scan_repo(repo)
    assert [f.path for f in result.files] == ["apps/ok.yaml"]
    joined = "\n".join(result.warnings)
    for expected in ("apps/empty.yaml: skipped: empty file", "apps/latin1.yaml: skipped: not UTF-8",
                     "apps/bomb.yaml: refused", "apps/broken.yml: line 2: invalid YAML",
                     "apps/link.yaml: skipped: symlink points outside",
                     "apps/huge.yaml: skipped"):
        assert expected in joined
    assert "secret" not in " ".join(f.text for f in result.files)


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("DATABASE_URL=postgres://cart:s3cr3t-pass@db:5432/cart", "s3cr3t-pass"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZXBvcnRzIn0.c2lnbmF0dXJl",
         "eyJzdWIiOiJyZXBvcnRzIn0"),
        ("password=hunter2 user=bob", "hunter2"),
        ('{"api_key": "abcd1234efgh"}', "abcd1234efgh"),
        ("token ghp_0123456789abcdefghijABCDEFGHIJ012345", "ghp_0123456789"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"),
        ("key AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
        ("Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
        ("DB_PASS=hunter2", "hunter2"),
        ("PASSPHRASE=correct-horse", "correct-horse"),
        ("mysql --password hunter2 -h db", "hunter2"),
        ("Cookie: session=abc123def456; theme=dark", "abc123def456"),
        ('password="correct horse battery"', "battery"),
        ("postgres://app:p@ss@db.internal:5432/app", "ss@db"),
        ("token glpat-AbCdEfGhIjKlMnOpQrSt", "glpat-AbCdEfGhIjKlMnOpQrSt"),
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXX", "T000/B000"),
        ("DefaultEndpointsProtocol=https;AccountKey=abc+def/ghi==;", "abc+def"),
    ],
)
def test_redaction(text: str, leaked: str):
    out, count = redact(text)
    assert leaked not in out
    assert count >= 1


def test_redaction_leaves_ordinary_text():
    text = "Started CheckoutApplication in 42.1 seconds (JVM running for 43.0)"
    assert redact(text) == (text, 0)


@pytest.mark.parametrize("text", [
    "[" * 30000,  # flow nesting: PyYAML >= 6.0.4 refuses it itself, our guard otherwise
    "{a: " * 5000,
    "a:\n" + "".join(" " * i + "k:\n" for i in range(1, 150)),  # block nesting past our limit
    "- " * 120 + "x\n",
])
def test_deep_nesting_is_refused_without_crashing(text: str):
    """Our contract, whichever layer notices: refused, one line, naming the file."""
    with pytest.raises(yamlio.UnsafeYAML) as caught:
        yamlio.load_documents(text, "deep.yaml")
    message = str(caught.value)
    assert message.startswith("deep.yaml: refused:") and "\n" not in message
    assert "nested" in message


def test_duplicate_keys_are_refused_with_their_line():
    with pytest.raises(yamlio.UnsafeYAML, match=r"x.yaml: line 4: duplicate key 'memory'"):
        yamlio.load_documents("limits:\n  cpu: 1\n  memory: 1Gi\n  memory: 2Gi\n", "x.yaml")


def test_a_redefined_anchor_names_the_newer_node_as_go_yaml_reads_it():
    # home-lab repositories reuse `&name` per list item; kubectl, Argo CD and Flux accept it
    text = ("env:\n  - name: &name CF_API_TOKEN\n    key: *name\n"
            "  - name: &name CF_ZONE_ID\n    key: *name\n")
    assert yamlio.load_documents(text, "hr.yaml") == [{"env": [
        {"name": "CF_API_TOKEN", "key": "CF_API_TOKEN"},
        {"name": "CF_ZONE_ID", "key": "CF_ZONE_ID"}]}]
    assert yamlio.load_documents(text, "hr.yaml", raw_scalars=True)[0]["env"][1]["key"] == \
        "CF_ZONE_ID"
    # the bomb guard still holds on that path
    with pytest.raises(yamlio.UnsafeYAML, match="aliases expand"):
        yamlio.load_documents("z: &a 1\nz2: &a 2\n" + BOMB, "bomb.yaml")


def test_yaml_1_1_value_key_is_a_string():
    # Alertmanager's `matchType: =`: PyYAML resolves `=` to a tag it cannot construct
    assert yamlio.load_documents("matchType: =\n") == [{"matchType": "="}]


def test_a_file_name_with_a_secret_word_keeps_its_line_number():
    # `sealedsecret.yaml:12: error ...` is a location, not `secret: value`
    for line in ("apps/db/sealedsecret.yaml:12: error [yaml] invalid YAML",
                 "kubernetes/apps/pushsecret.yaml:25: error x", "token-rotation.yml:3: note"):
        assert redact(line) == (line, 0)
    assert redact("secret: hunter2hunter2")[1] == 1


def test_files_plainly_no_manifests_are_not_warned_about(tmp_path: Path):
    # khuedoan/homelab: mkdocs.yml with a python tag, an Ansible role's Jinja template; a
    # broken manifest still warns
    (tmp_path / "metal/roles/cilium/templates").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Homelab\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n")
    (tmp_path / "metal/roles/cilium/templates/pool.yaml").write_text(
        "apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata:\n"
        "  name: default\nspec:\n  blocks:\n    - cidr: {{ cilium_lb_cidr }}\n")
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata: [\n")
    (tmp_path / "kustomization.yaml").write_text("resources: [\n")  # no apiVersion needed
    scanned = yamlio.scan_repo(tmp_path)
    assert sorted(scanned.not_manifests) == ["metal/roles/cilium/templates/pool.yaml",
                                             "mkdocs.yml"]
    assert sorted(w.split(":", 1)[0] for w in scanned.warnings) == ["broken.yaml",
                                                                    "kustomization.yaml"]
