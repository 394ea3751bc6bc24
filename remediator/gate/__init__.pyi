# The names `remediator.gate` exports: the type checker reads this file, and `__init__.py`
# loads each name's module on first use (lazy_loader.attach_stub reads these imports).

from .answers import Evaluation, PolicyEngine, PolicyTest
from .checks import PRE_EXISTING, WARN, check_objects, check_policy, policy_engine
from .coverage import Coverage
from .dryrun import check_dry_run
from .inputs import policy_input
from .opa_server import OPA_TOKEN_ENV, OPA_URL_ENV, OpaServerEngine
from .policy import RegorusEngine
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
