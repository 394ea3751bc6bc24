"""What the API emulator (kube_api.py) checks on a write, kept apart so the server stays
readable: the ``Status`` of a refusal, validation (the Kubernetes schema through
kubernetes-validate, and a few rules no schema expresses), the bot's read-only RBAC answered to
``SelfSubjectAccessReview``, and the merge patch."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import kubernetes_validate
from kubernetes.utils.quantity import parse_quantity

from tests.support.kube_objects import JSON, Resource

POD_SPEC = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}
#: a validating webhook: ``(obj) -> message | None`` (a message denies the request)
Admission = Callable[[JSON], "str | None"]


class ApiError(Exception):
    """An API error answered as a ``Status`` with ``code``."""

    def __init__(self, code: int, reason: str, message: str, details: JSON | None = None):
        super().__init__(message)
        self.status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": message, "reason": reason, "code": code}
        if details:
            self.status["details"] = details
        self.code = code


def too_large(version: str, current: int) -> JSON:
    """The API server's Status for a resourceVersion it has not reached (the watch cache's
    `NewTooLargeResourceVersionError`: a `Timeout` with the `ResourceVersionTooLarge` cause)."""
    return ApiError(504, "Timeout", f"Timeout: Too large resource version: {version}, "
                    f"current: {current}", {"causes": [
                        {"reason": "ResourceVersionTooLarge",
                         "message": "Too large resource version"}],
                        "retryAfterSeconds": 1}).status


def validate(r: Resource, obj: JSON, kubernetes_version: str,
             admission: list[tuple[str, Admission]]) -> None:
    """Raise the API server's 422 ``Invalid`` or an admission webhook's 403 for ``obj``."""
    name = (obj.get("metadata") or {}).get("name", "")
    causes = []
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", str(name)):
        causes.append(("metadata.name", "FieldValueInvalid",
                       f'Invalid value: "{name}": a lowercase RFC 1123 subdomain'))
    try:
        kubernetes_validate.validate(obj, kubernetes_version, strict=False)
    except kubernetes_validate.ValidationError as exc:
        field = ".".join(str(p) for p in exc.path) or "(root)"
        causes.append((field, "FieldValueInvalid", f"Invalid value: {exc.message}"))
    except kubernetes_validate.SchemaNotFoundError:
        pass  # a CRD (Argo CD, Flux): the API server checks its openAPIV3Schema, we do not
    causes += _semantic_causes(obj)
    if causes:
        group = f".{r.group}" if r.group else ""
        message = f'{r.kind}{group} "{name}" is invalid: ' + ", ".join(
            f"{f}: {m}" for f, _, m in causes)
        raise ApiError(422, "Invalid", message, {
            "name": name, "group": r.group, "kind": r.kind,
            "causes": [{"reason": why, "message": m, "field": f} for f, why, m in causes]})
    for webhook, check in admission:
        denied = check(obj)
        if denied:
            raise ApiError(403, "Forbidden", f'admission webhook "{webhook}" denied the '
                                             f"request: {denied}")


def read_only(verb: str, group: str, resource: str, subresource: str) -> bool:
    """The bot's ClusterRole: get/list/watch on everything but Secrets, pods/log get."""
    if resource == "secrets":
        return False
    if subresource:
        return (resource, subresource, verb) == ("pods", "log", "get")
    return verb in ("get", "list", "watch")


def _pod_spec(obj: JSON) -> tuple[str, JSON] | None:
    path = POD_SPEC.get(str(obj.get("kind")), ("spec", "template", "spec"))
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return (".".join(path), node) if isinstance(node, dict) else None


def _semantic_causes(obj: JSON) -> list[tuple[str, str, str]]:
    """A few of the API server's validations that no JSON schema expresses."""
    causes = []
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        causes.append(("spec.replicas", "FieldValueInvalid",
                       f"Invalid value: {replicas}: must be greater than or equal to 0"))
    selector = (spec.get("selector") or {}).get("matchLabels") if isinstance(
        spec.get("selector"), dict) else None
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if isinstance(selector, dict) and any(labels.get(k) != v for k, v in selector.items()):
        causes.append(("spec.template.metadata.labels", "FieldValueInvalid",
                       f"Invalid value: {json.dumps(labels)}: `selector` does not match "
                       "template `labels`"))
    located = _pod_spec(obj)
    if located is None:
        return causes
    path, pod = located
    for field in ("initContainers", "containers"):
        for i, c in enumerate(pod.get(field) or []):
            if not isinstance(c, dict):
                continue
            where = f"{path}.{field}[{i}]"
            if not c.get("name"):
                causes.append((f"{where}.name", "FieldValueRequired", "Required value"))
            if not c.get("image"):
                causes.append((f"{where}.image", "FieldValueRequired", "Required value"))
            res = c.get("resources") or {}
            for resource, request in (res.get("requests") or {}).items():
                limit = (res.get("limits") or {}).get(resource)
                try:
                    above = limit is not None and parse_quantity(request) > parse_quantity(limit)
                except ValueError:
                    continue
                if above:
                    causes.append((f"{where}.resources.requests", "FieldValueInvalid",
                                   f'Invalid value: "{request}": must be less than or equal '
                                   f"to {resource} limit of {limit}"))
    return causes


def merge(base: Any, patch: Any) -> Any:
    """RFC 7386 merge patch (lists are replaced, null deletes)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out
