"""Gate: validate a changed Kubernetes object before a pull request is opened.

Public surface:
- ``check_objects(before, after, settings, repo_root)`` -> ``[CheckResult("policy"),
  CheckResult("schema")]``: Rego policies (built-in and the repo's own; only violations the
  change introduces fail, pre-existing ones are reported) and strict Kubernetes schema validation.
- ``check_change(repo_root, location, changes, ref, settings, announced)`` -> ``Validation``:
  render the change (plain file, kustomize overlay, Helm values), then ``check_objects``, the
  post-condition (``postcondition``: the render has exactly the announced values, nothing else
  of the workload changed) and the dry-run on the rendered object.
- ``run_policy_tests(paths)`` -> ``[PolicyTest(name, passed, message)]``: every ``test_`` rule of
  the built-in policies and of the given files or folders; ``run_repo_policy_tests`` for the
  built-in ones and a repo's ``validation.policies``.
- ``check_dry_run(obj, mode)`` -> ``CheckResult("dry-run")``: the object sent to the cluster's API
  server with ``dryRun=All`` (``check_change`` does this for the rendered object).

The engine behind the policy check is ``PolicyEngine``: embedded (``RegorusEngine``) or an OPA
server (``OpaServerEngine``), chosen by ``validation.policyEngine``. The rendered object is also
sent to the cluster's API server with ``dryRun=All`` when one is reachable (``dryrun``;
``validation.dryRun``), else that check is reported as not run. See docs/policy-engine.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import change, conftest
from .answers import Evaluation, PolicyEngine, PolicyTest
from .checks import PRE_EXISTING, WARN, check_objects, check_policy, policy_engine
from .coverage import Coverage
from .dryrun import check_dry_run
from .opa_server import OpaServerEngine
from .policy import RegorusEngine
from .schema import check_schema
from .sources import PolicySource, builtin_sources, file_sources, repo_sources

if TYPE_CHECKING:
    from ..model import FieldValue, FileChange, Location, ObjectRef, Validation
    from ..model.settings import ValidationSettings
    from ..render.renders import Renders


def check_change(
    repo_root: Path,
    location: Location,
    changes: list[FileChange],
    ref: ObjectRef,
    settings: ValidationSettings,
    announced: Sequence[FieldValue],
    renders: Renders | None = None,
) -> Validation:
    """Render, policy, schema, post-condition and dry-run results for one applied change;
    ``announced``: the values the proposal says the workload gets (``Proposal.announced``);
    ``renders``: the pass's kustomize renders of ``repo_root`` (shared with locate)."""
    return change.check_change(repo_root, location, changes, ref, settings, check_objects,
                               announced, renders)


def run_policy_tests(paths: Iterable[Path] = (), *, builtin: bool = True,
                     coverage: Coverage | None = None) -> list[PolicyTest]:
    """Run the ``test_`` rules of the built-in policies (unless ``builtin=False``) and of
    ``paths`` (``.rego`` files or folders; tests and the policies they test are loaded together);
    with ``coverage``, collect the lines they evaluate into it.
    """
    sources = [*(builtin_sources(include_tests=True) if builtin else ()), *file_sources(paths)]
    return RegorusEngine(sources, data={}, compiled=False).run_tests(coverage)


def run_repo_policy_tests(repo_root: Path, settings: ValidationSettings,
                          coverage: Coverage | None = None) -> list[PolicyTest]:
    """The ``test_`` rules of the built-in policies, of the repo's ``validation.policies`` and
    of its conftest policies (``conftest verify``); read with the repo safety rules, an
    unusable path is a failed "(load)" test."""
    repo, problems = repo_sources(repo_root, settings.policies, include_tests=True)
    theirs, more = repo_sources(repo_root, settings.conftest.policies, include_tests=True,
                                conftest=True)
    problems += more
    sources = [*builtin_sources(include_tests=True), *repo, *theirs]
    engine = RegorusEngine(sources, data={}, errors=problems, compiled=False,
                           namespaces=conftest.namespaces_of(settings.conftest))
    return engine.run_tests(coverage)


__all__ = [
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
    "run_policy_tests",
    "run_repo_policy_tests",
]
