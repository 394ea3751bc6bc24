"""Object names that contain a secret keyword (`session-db`, `token-api`, `auth`) are names,
not `key: value` assignments: the word after `Kind/name:` in a finding or a log line is kept
(validate's report used to print `Deployment/session-db: [REDACTED] "session-db" ...`)."""

from __future__ import annotations

import pytest

from remediator.kernel.redact import MASK, redact

KEPT = [
    'base/session-db-dep.yaml:21: error [policy/resources] Deployment/session-db: container '
    '"session-db" has no memory limit (spec.template.spec.containers[0].resources.limits.memory)',
    "StatefulSet/shop/user-session-store: container \"db\" adds capability CHOWN",
    "deployment.apps/token-api: container web restarted",
    "first line\nDeployment/auth: container \"auth\" is privileged",
]

MASKED = [
    ("Secret/db: password: hunter2-prod-pw", "hunter2-prod-pw"),
    ("reading secrets/db-password: hunter2-prod-pw", "hunter2-prod-pw"),
    ("Deployment/web: DB_PASSWORD=hunter2-prod-pw", "hunter2-prod-pw"),
    ("x" * 600 + " session: hunter2-prod-pw", "hunter2-prod-pw"),
]


@pytest.mark.parametrize("text", KEPT)
def test_an_object_name_with_a_keyword_is_not_an_assignment(text: str):
    assert redact(text) == (text, 0)


@pytest.mark.parametrize(("text", "secret"), MASKED)
def test_assignments_next_to_object_references_are_still_masked(text: str, secret: str):
    out, n = redact(text)
    assert secret not in out and MASK in out and n == 1
