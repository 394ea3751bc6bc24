"""ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1) in the API emulator
(tests/kube_api.py): the policies and bindings stored in it are applied to every write, the way
the API server's admission chain does after schema validation, their CEL evaluated by cel-python.

Implemented: `matchConstraints` (`resourceRules` and `excludeResourceRules`: groups, versions,
operations, resources with `*`, `*/*`, `<resource>/*`, `*/<sub>`, `resourceNames`, `scope`;
`namespaceSelector` / `objectSelector` by `matchLabels`), a binding's `matchResources` (the
same), `matchConditions`, `variables`, `validations` (`expression`, `message`,
`messageExpression`, `reason`), `failurePolicy`, and `validationActions: [Deny]` (`Warn` and
`Audit` deny nothing). The CEL variables are `object`, `oldObject`, `request` (an
`AdmissionRequest`: operation, userInfo, dryRun, resource, subResource, name, namespace...),
`params` (null), `namespaceObject` and `variables`. A denial is the API server's: `... denied
request: <message>` with the status of the validation's `reason` (default `Invalid`, 422).

Not done (extend when needed): `paramKind` / `paramRef`, `auditAnnotations`, `matchExpressions`
in selectors, the `authorizer` variable, type checking of expressions before use.
"""

from __future__ import annotations

import functools
from typing import Any

import celpy

from tests.support.kube_objects import JSON, Resource
from tests.support.kube_writes import ApiError

#: who sends a request whose bearer token the emulator does not know (a cluster admin)
ADMIN: JSON = {"username": "kubernetes-admin", "groups": ["system:masters",
                                                          "system:authenticated"]}
CODES = {"Unauthorized": 401, "Forbidden": 403, "Invalid": 422, "RequestEntityTooLarge": 413}


def admission_request(r: Resource, operation: str, name: str, namespace: str, user: JSON,
                      dry_run: bool, subresource: str = "") -> JSON:
    """The `AdmissionRequest` a policy sees as `request`."""
    kind = {"group": r.group, "version": r.version, "kind": r.kind}
    resource = {"group": r.group, "version": r.version, "resource": r.plural}
    return {"uid": f"emulator-{operation.lower()}-{name}", "kind": kind, "resource": resource,
            "subResource": subresource, "requestKind": kind, "requestResource": resource,
            "requestSubResource": subresource, "name": name, "namespace": namespace,
            "operation": operation, "userInfo": user, "dryRun": dry_run, "options": {}}


class Evaluation(Exception):
    """An expression that does not compile or evaluate, or is not a bool where one is due."""


@functools.lru_cache(maxsize=256)
def _program(expression: str) -> Any:
    env = celpy.Environment()
    try:
        return env.program(env.compile(expression))
    except celpy.CELParseError as exc:
        raise Evaluation(f"compilation failed: {str(exc).splitlines()[0]}") from None


def _evaluate(expression: str, activation: dict[str, Any]) -> Any:
    try:
        result = _program(expression).evaluate(activation)
    except celpy.CELEvalError as exc:
        raise Evaluation(f"expression '{expression}' resulted in error: {exc.args[0]}") from None
    if isinstance(result, celpy.CELEvalError):
        raise Evaluation(f"expression '{expression}' resulted in error: {result.args[0]}")
    return result


def _true(expression: str, activation: dict[str, Any]) -> bool:
    result = _evaluate(expression, activation)
    if not isinstance(result, celpy.celtypes.BoolType):
        raise Evaluation(f"expression '{expression}' must evaluate to bool")
    return bool(result)


def _labels_match(selector: JSON | None, labels: dict[str, str]) -> bool:
    if not selector:
        return True
    if selector.get("matchExpressions"):
        raise NotImplementedError("the emulator reads matchLabels only")
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _rule_matches(rule: JSON, request: JSON) -> bool:
    res, sub = request["resource"], request["subResource"]

    def listed(values: list[str] | None, value: str) -> bool:
        return bool(values) and ("*" in values or value in values)

    if not (listed(rule.get("operations"), request["operation"])
            and listed(rule.get("apiGroups"), res["group"])
            and listed(rule.get("apiVersions"), res["version"])):
        return False
    wanted = res["resource"] + (f"/{sub}" if sub else "")
    if not any(p in ("*/*", wanted) or (p == "*" and not sub)
               or (sub and p in (f"{res['resource']}/*", f"*/{sub}"))
               for p in rule.get("resources") or []):
        return False
    if rule.get("resourceNames") and request["name"] not in rule["resourceNames"]:
        return False
    scope = rule.get("scope", "*")
    return scope == "*" or (scope == "Namespaced") == bool(request["namespace"])


def _matches(constraints: JSON | None, request: JSON, labels: dict[str, str],
             namespace_labels: dict[str, str], unset_matches: bool) -> bool:
    if constraints is None:
        return unset_matches
    rules = constraints.get("resourceRules")
    if rules is not None and not any(_rule_matches(r, request) for r in rules):
        return False
    if rules is None and not unset_matches:
        return False
    if any(_rule_matches(r, request) for r in constraints.get("excludeResourceRules") or []):
        return False
    if request["namespace"] and not _labels_match(constraints.get("namespaceSelector"),
                                                  namespace_labels):
        return False
    return _labels_match(constraints.get("objectSelector"), labels)


def admit(policies: list[JSON], bindings: list[JSON], request: JSON, obj: JSON | None,
          old: JSON | None, namespace: JSON | None) -> None:
    """Raise the API server's denial when a bound policy refuses ``request``."""
    labels = ((obj or old or {}).get("metadata") or {}).get("labels") or {}
    ns_labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    by_name = {p["metadata"]["name"]: p for p in policies}
    for binding in bindings:
        spec = binding.get("spec") or {}
        policy = by_name.get(spec.get("policyName", ""))
        if policy is None or "Deny" not in (spec.get("validationActions") or []):
            continue
        pspec = policy.get("spec") or {}
        if pspec.get("paramKind") or spec.get("paramRef"):
            raise NotImplementedError("the emulator evaluates policies without params")
        if not (_matches(pspec.get("matchConstraints"), request, labels, ns_labels, False)
                and _matches(spec.get("matchResources"), request, labels, ns_labels, True)):
            continue
        where = (f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' with binding "
                 f"'{binding['metadata']['name']}'")
        try:
            _validate(pspec, request, obj, old, namespace, where)
        except Evaluation as exc:
            if pspec.get("failurePolicy", "Fail") == "Fail":
                raise ApiError(403, "Forbidden", f"{where} denied request: {exc}") from None


def _validate(spec: JSON, request: JSON, obj: JSON | None, old: JSON | None,
              namespace: JSON | None, where: str) -> None:
    activation: dict[str, Any] = {
        name: celpy.json_to_cel(value) for name, value in (
            ("object", obj), ("oldObject", old), ("request", request), ("params", None),
            ("namespaceObject", namespace))}
    variables: dict[str, Any] = {}
    activation["variables"] = celpy.json_to_cel(variables)
    for v in spec.get("variables") or []:  # in order: each may read the ones before it
        variables[v["name"]] = _evaluate(v["expression"], activation)
        activation["variables"] = celpy.celtypes.MapType(
            {celpy.celtypes.StringType(k): val for k, val in variables.items()})
    for condition in spec.get("matchConditions") or []:
        if not _true(condition["expression"], activation):
            return  # not a request this policy is about
    for check in spec.get("validations") or []:
        if _true(check["expression"], activation):
            continue
        message = check.get("message") or f"failed expression: {check['expression']}"
        if check.get("messageExpression"):
            message = str(_evaluate(check["messageExpression"], activation))
        reason = check.get("reason", "Invalid")
        raise ApiError(CODES.get(reason, 422), reason, f"{where} denied request: {message}")
