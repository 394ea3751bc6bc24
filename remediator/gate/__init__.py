"""Gate: validate a changed Kubernetes object before a pull request is opened (see ``run``)."""

from __future__ import annotations

from .checks import PRE_EXISTING, WARN, check_objects, check_policy, policy_engine
from .coverage import Coverage
from .dryrun import check_dry_run
from .inputs import policy_input
from .opa_server import TOKEN_ENV as OPA_TOKEN_ENV
from .opa_server import URL_ENV as OPA_URL_ENV
from .opa_server import OpaServerEngine
from .policy import Evaluation, PolicyEngine, PolicyTest, RegorusEngine
from .run import check_change, run_policy_tests, run_repo_policy_tests
from .schema import check_schema
from .sources import PolicySource

__all__ = [
    "OPA_TOKEN_ENV",
    "OPA_URL_ENV",
    "PRE_EXISTING",
    "WARN",
    "Coverage",
    "Evaluation",
    "OpaServerEngine",
    "PolicyEngine",
    "PolicySource",
    "PolicyTest",
    "RegorusEngine",
    "check_change",
    "check_dry_run",
    "check_objects",
    "check_policy",
    "check_schema",
    "policy_engine",
    "policy_input",
    "run_policy_tests",
    "run_repo_policy_tests",
]
