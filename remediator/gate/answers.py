"""What a policy engine answers, and how an answer is read: the same for the embedded engine
(``policy.RegorusEngine``) and the OPA server engine (``opa_server.OpaServerEngine``).

A package's ``deny`` set becomes its violations (each with the rule id validate's findings and
SARIF rules carry), a conftest namespace's document its failures and warnings; anything that is
not an answer is an error, and any error fails the check (fail closed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..kernel.k8s import dig
from . import analysis, conftest

if TYPE_CHECKING:
    from ..model import JSON

_ROOT_DEPTH = len(analysis.POLICY_ROOT.split("."))


@dataclass
class Evaluation:
    """What the policies say of one input: violations, errors and warnings, each with its rule."""

    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # any error fails the check (fail closed)
    warnings: list[str] = field(default_factory=list)  # conftest `warn` rules: never fail
    #: the rule id of each violation or warning: "policy/<package below remediator.policies>"
    #: or "conftest/<namespace>" (validate's findings and SARIF rules)
    rules: dict[str, str] = field(default_factory=dict)


class PolicyTest(NamedTuple):
    name: str  # "data.remediator.policies.security_test.test_privileged_container_denied"
    passed: bool
    message: str  # why it failed; "" when it passed


class PolicyEngine(Protocol):
    """What the gate needs from a Rego engine: embedded (``RegorusEngine``) or an OPA server
    (``opa_server.OpaServerEngine``)."""

    name: str

    def evaluate(self, input: JSON) -> Evaluation:
        """The deny messages of every policy package for this input, and any errors."""
        ...


def rule_id(package: str) -> str:
    return "policy/" + package.removeprefix(analysis.POLICY_ROOT + ".")


def add_conftest(out: Evaluation, namespace: str, document: Any) -> None:
    """One conftest namespace's document (``data.<namespace>`` for the object) into ``out``."""
    reading = conftest.read(namespace, document)
    out.violations += reading.failures
    out.warnings += reading.warnings
    out.errors += reading.errors
    for message in reading.failures + reading.warnings:
        out.rules.setdefault(message, f"conftest/{namespace}")


def deny_messages(package: str, deny: Any) -> tuple[list[str], list[str]]:
    if deny is None:
        return [], []
    if not isinstance(deny, list):  # a set arrives as a JSON array; anything else is a mistake
        kind = type(deny).__name__
        return [], [f"policy error: package {package}: deny must be a set of messages, not {kind}"]
    out = []
    for item in deny:
        if isinstance(item, dict) and isinstance(item.get("msg"), str):
            item = item["msg"]
        out.append(item if isinstance(item, str) else json.dumps(item, sort_keys=True))
    return out, []


def package_node(tree: Any, package: str) -> Any:
    """One package's document in the ``data.remediator.policies`` tree (None: not there)."""
    return dig(tree, package.split(".")[_ROOT_DEPTH:])  # below data.remediator.policies


def lookup(tree: Any, package: str) -> Any:
    """The ``deny`` of one package in the ``data.remediator.policies`` tree (None: undefined)."""
    node = package_node(tree, package)
    return node.get("deny") if isinstance(node, dict) else None
