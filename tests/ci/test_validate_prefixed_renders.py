"""`remediator validate --repo` on a base + overlays layout as kustomize's own examples write it
(`ldap`, `springboot`: overlays adding `namePrefix`), the objects named like real ones
(`session-db`, sock-shop's): a finding on a rendered object points at the line of the field in
the base document it comes from, although the render renamed it (it used to be line 1), and
reads as written (the redactor masked `container` after `Deployment/session-db:`)."""

from __future__ import annotations

from pathlib import Path

from tests.support.repos import commit
from tests.support.validate_repo import errors, findings, line_of, validate

DEPLOYMENT = """
    apiVersion: v1
    kind: Service
    metadata: {name: session-db}
    spec:
      selector: {name: session-db}
      ports: [{port: 6379}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: session-db
    spec:
      selector:
        matchLabels: {name: session-db}
      template:
        metadata:
          labels: {name: session-db}
        spec:
          containers:
            - name: session-db
              image: redis:7.2.4
    """


def test_a_prefixed_render_points_at_the_base_line_and_reads_as_written(tmp_path: Path):
    commit(tmp_path, {
        "apps/session/base/kustomization.yaml": "resources: [session-db.yaml]\n",
        "apps/session/base/session-db.yaml": DEPLOYMENT,
        "apps/session/production/kustomization.yaml":
            "resources: [../base]\nnamePrefix: production-\nnameSuffix: -v2\n",
    }, "init")
    code, found = findings(tmp_path)
    assert code == 1
    memory = [f for f in errors(found) if "no memory limit" in f["message"]]
    assert memory, found
    [f] = memory
    assert f["file"] == "apps/session/base/session-db.yaml"
    assert f["line"] == line_of(tmp_path, f["file"], "- name: session-db")
    assert f["message"].startswith('container "session-db" has no memory limit')
    text = validate(tmp_path, fmt="text").stdout
    assert (f'{f["file"]}:{f["line"]}: error [policy/resources] Deployment/production-session-db'
            '-v2: container "session-db" has no memory limit') in text, text
