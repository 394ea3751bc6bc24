"""The gate's checks on one changed object: policy (before vs after) and schema."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import CheckResult
from . import conftest, inputs, schema
from .opa_server import OPA_TOKEN_ENV, OPA_URL_ENV, server_engine
from .policy import embedded_engine
from .sources import builtin_sources, repo_sources

if TYPE_CHECKING:
    from ..model import JSON
    from ..model.settings import ValidationSettings
    from .answers import PolicyEngine

PRE_EXISTING = "pre-existing: "
WARN = "warning: "  # a conftest `warn` result: reported, never failing


def policy_engine(settings: ValidationSettings, repo_root: Path) -> PolicyEngine:
    """The configured engine (``validation.policyEngine``: embedded regorus or an OPA server)
    with the built-in policies, the repo's own, its conftest policies and the configured limits.

    Problems with the configuration (a missing policy path, an unparsable ceiling, no OPA URL)
    become errors of the engine, so every evaluation fails closed with them.
    """
    repo, problems = repo_sources(repo_root, settings.policies)
    ct = settings.conftest
    theirs, more = repo_sources(repo_root, ct.policies, conftest=True)
    errors = [f"policy error: {p}" for p in [*problems, *more]]
    try:
        data = inputs.config_data(settings)
    except inputs.SettingsError as exc:
        errors.append(f"policy error: {exc}")
        data = {}
    try:
        extra = conftest.load_data(repo_root, ct.data)
    except conftest.DataError as exc:
        errors.append(f"policy error: {exc}")
        extra = {}
    if "remediator" in extra:
        errors.append("policy error: conftest data must not set data.remediator (remediator's "
                      "own settings are there)")
    data = {**extra, **data}
    namespaces = conftest.namespaces_of(ct)
    sources = [*builtin_sources(), *repo, *theirs]
    if settings.policy_engine == "opa":
        # the environment is read here, once per engine asked for, not in the engine
        url = settings.opa.url or os.environ.get(OPA_URL_ENV, "")
        token = os.environ.get(OPA_TOKEN_ENV) or None
        return server_engine(sources, data, settings.opa, url, errors, namespaces, token)
    return embedded_engine(sources, data, errors, namespaces)


def check_policy(engine: PolicyEngine, before: JSON | None, after: JSON) -> CheckResult:
    """Judge the change, not the object: only violations the change introduces fail.

    ``after`` is evaluated as it is; ``before`` (when there is one) is evaluated the same way, as
    if it were the object being judged. A violation found in both is pre-existing: reported with a
    ``pre-existing:`` prefix, but it does not fail the check (a fix must not be blocked by an
    unrelated old problem). A violation only in ``after`` is new and fails the check. Messages
    carry the offending value, so making an existing violation worse (a limit already over the
    ceiling raised further) reads as a new violation. Any engine error fails the check. conftest
    ``warn`` results of ``after`` are listed with a ``warning:`` prefix and never fail it.
    """
    now = engine.evaluate(inputs.policy_input(before, after))
    errors = list(now.errors)
    old: set[str] = set()
    if before is not None:
        then = engine.evaluate(inputs.policy_input(None, before))
        old = set(then.violations)
        errors += [e for e in then.errors if e not in errors]
    violations = sorted(set(now.violations))
    new = [v for v in violations if v not in old]
    kept = [PRE_EXISTING + v for v in violations if v in old]
    warned = [WARN + w for w in sorted(set(now.warnings))]
    return CheckResult("policy", passed=not errors and not new,
                       messages=errors + new + kept + warned)


def check_objects(
    before: JSON | None, after: JSON, settings: ValidationSettings, repo_root: Path
) -> list[CheckResult]:
    """Policy and schema checks of one changed object (render and dry-run are done elsewhere)."""
    engine = policy_engine(settings, repo_root)
    return [
        check_policy(engine, before, after),
        schema.check_schema(after, settings.kubernetes_version, before,
                            [repo_root / p for p in settings.schema_locations]),
    ]
