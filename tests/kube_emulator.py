"""A small Kubernetes API server for tests: real HTTP on loopback, spoken to by the official
``kubernetes`` client (typed APIs and the dynamic client).

What it does as the API server does:
- discovery (``/version``, ``/api``, ``/apis``, ``/api/v1``, ``/apis/{group}/{version}``) for the
  kinds in ``KINDS``;
- optimistic concurrency: a replace (PUT) carrying a ``metadata.resourceVersion`` other than the
  stored one is a 409 ``Conflict`` (leader election on a Lease relies on it), and so is a create
  racing another one;
- get / list / create (POST) / replace (PUT) / patch (merge, JSON patch, strategic merge read as
  merge, server-side apply with ``application/apply-patch+yaml``, which needs ``fieldManager``)
  / delete; ``resourceVersion`` counts writes;
- ``dryRun=All`` on every write: validated and admitted, answered, nothing stored; any other
  ``dryRun`` value is a 400;
- validation: an invalid object is a 422 ``Status`` (``reason: Invalid``, ``details.causes``,
  message ``Deployment.apps "web" is invalid: <field>: <why>``). Checked: metadata.name, a
  namespace that exists, container name and image, requests not above limits, replicas not
  negative, selector matching the template labels, and the object's shape against the Kubernetes
  schema (kubernetes-validate, not strict: the API server drops unknown fields);
- ``SelfSubjectAccessReview``: answered by ``authorize`` (default: the bot's read-only role);
- ``admission``: callables ``(obj) -> message | None`` standing in for validating webhooks; a
  message is a 403 ``admission webhook "..." denied the request: ...``.

Not done (extend when needed; issue 6 wants watch): watch, label/field selectors, status
subresources, defaulting, real strategic merge of lists, managedFields.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonpatch
import kubernetes_validate
import yaml
from kubernetes.utils.quantity import parse_quantity

JSON = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


KINDS = [
    Kind("", "v1", "Namespace", "namespaces", namespaced=False),
    Kind("", "v1", "Pod", "pods"),
    Kind("", "v1", "ConfigMap", "configmaps"),
    Kind("", "v1", "Service", "services"),
    Kind("apps", "v1", "Deployment", "deployments"),
    Kind("apps", "v1", "StatefulSet", "statefulsets"),
    Kind("apps", "v1", "DaemonSet", "daemonsets"),
    Kind("apps", "v1", "ReplicaSet", "replicasets"),
    Kind("batch", "v1", "Job", "jobs"),
    Kind("batch", "v1", "CronJob", "cronjobs"),
    Kind("coordination.k8s.io", "v1", "Lease", "leases"),
]
POD_SPEC = {"Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec")}
Admission = Callable[[JSON], "str | None"]


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: JSON | None = None):
        super().__init__(message)
        self.status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": message, "reason": reason, "code": code}
        if details:
            self.status["details"] = details
        self.code = code


class KubeEmulator:
    """``with KubeEmulator() as kube: kube.kubeconfig(tmp_path)`` -> a kubeconfig file path."""

    def __init__(self, kubernetes_version: str = "1.31"):
        self.version = kubernetes_version
        self.objects: dict[tuple[str, str, str, str], JSON] = {}  # (apiVersion, kind, ns, name)
        self.admission: list[tuple[str, Admission]] = []  # (webhook name, check)
        self.requests: list[tuple[str, str]] = []  # (method, path with query)
        #: SelfSubjectAccessReview answers: (verb, group, resource, subresource) -> allowed
        self.authorize: Callable[[str, str, str, str], bool] = read_only
        self._rv = itertools.count(1)
        self._lock = threading.Lock()
        for ns in ("default", "kube-system"):
            self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> KubeEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def kubeconfig(self, folder: Path, token: str = "test-token") -> Path:
        path = folder / "kubeconfig"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": token}}],
            "contexts": [{"name": "emulator",
                          "context": {"cluster": "emulator", "user": "tester"}}],
        }))
        return path

    # ----------------------------------------------------------------------------- the store

    def add(self, obj: JSON) -> JSON:
        """Store an object as if it had been created (no validation)."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        kind = self.kind_of(obj["apiVersion"], obj["kind"])
        if kind.namespaced:
            meta.setdefault("namespace", "default")
        meta["resourceVersion"] = str(next(self._rv))
        meta.setdefault("uid", f"uid-{meta['resourceVersion']}")
        self.objects[self._key(obj)] = obj
        return copy.deepcopy(obj)

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> JSON | None:
        found = self.objects.get((api_version, kind, namespace, name))
        return copy.deepcopy(found) if found else None

    def kind_of(self, api_version: str, kind: str) -> Kind:
        return next(k for k in KINDS if (k.api_version, k.kind) == (api_version, kind))

    @staticmethod
    def _key(obj: JSON) -> tuple[str, str, str, str]:
        meta = obj["metadata"]
        return obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]

    # ------------------------------------------------------------------------- validation

    def validate(self, kind: Kind, obj: JSON) -> None:
        name = (obj.get("metadata") or {}).get("name", "")
        causes = []
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", str(name)):
            causes.append(("metadata.name", "FieldValueInvalid",
                           f'Invalid value: "{name}": a lowercase RFC 1123 subdomain'))
        try:
            kubernetes_validate.validate(obj, self.version, strict=False)
        except kubernetes_validate.ValidationError as exc:
            field = ".".join(str(p) for p in exc.path) or "(root)"
            causes.append((field, "FieldValueInvalid", f"Invalid value: {exc.message}"))
        causes += _semantic_causes(obj)
        if causes:
            group = f".{kind.group}" if kind.group else ""
            message = f'{kind.kind}{group} "{name}" is invalid: ' + ", ".join(
                f"{f}: {m}" for f, _, m in causes)
            raise ApiError(422, "Invalid", message, {
                "name": name, "group": kind.group, "kind": kind.kind,
                "causes": [{"reason": r, "message": m, "field": f} for f, r, m in causes]})
        for webhook, check in self.admission:
            denied = check(obj)
            if denied:
                raise ApiError(403, "Forbidden", f'admission webhook "{webhook}" denied the '
                                                 f"request: {denied}")

    def write(self, kind: Kind, obj: JSON, dry_run: bool, existing: JSON | None) -> JSON:
        """Validate, admit and (unless dry run) store ``obj``; the answer the server sends."""
        meta = obj.setdefault("metadata", {})
        if kind.namespaced and ("v1", "Namespace", "", meta.get("namespace", "")) \
                not in self.objects:
            raise ApiError(404, "NotFound", f'namespaces "{meta.get("namespace")}" not found',
                           {"name": meta.get("namespace"), "kind": "namespaces"})
        self.validate(kind, obj)
        meta["uid"] = (existing or {}).get("metadata", {}).get("uid") or f"uid-{id(obj)}"
        if dry_run:
            meta["resourceVersion"] = (existing or {}).get("metadata", {}).get(
                "resourceVersion", "")
            return obj
        with self._lock:  # check and store at once: two writers cannot both win
            stored = self.objects.get(self._key(obj))
            expected = meta.get("resourceVersion")
            if existing is None and stored is not None:
                raise ApiError(409, "AlreadyExists", f'{kind.plural} "{meta["name"]}" already '
                                                     "exists")
            if stored is not None and expected and expected != \
                    stored["metadata"].get("resourceVersion"):
                group = f".{kind.group}" if kind.group else ""
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on '
                               f'{kind.plural}{group} "{meta["name"]}": the object has been '
                               "modified; please apply your changes to the latest version and "
                               "try again")
            meta["resourceVersion"] = str(next(self._rv))
            self.objects[self._key(obj)] = copy.deepcopy(obj)
        return obj


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


def _merge(base: Any, patch: Any) -> Any:
    """RFC 7386 merge patch (lists are replaced, null deletes)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


def _handler(state: KubeEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: JSON) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self, method: str) -> None:
            state.requests.append((method, self.path))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            try:
                status, body = self._route(method, parts.path.rstrip("/") or "/", query, raw)
            except ApiError as exc:
                status, body = exc.code, exc.status
            self._send(status, body)

        def _route(self, method: str, path: str, query: dict[str, str], raw: bytes
                   ) -> tuple[int, JSON]:
            if method == "GET" and re.fullmatch(r"/version|/apis?|/api/v1|/apis/[^/]+/[^/]+",
                                                path):
                return 200, _discovery(state, path)
            if method == "POST" and path == "/apis/authorization.k8s.io/v1/" \
                    "selfsubjectaccessreviews":
                review = self._body(raw)
                attrs = (review.get("spec") or {}).get("resourceAttributes") or {}
                allowed = state.authorize(attrs.get("verb", ""), attrs.get("group", ""),
                                          attrs.get("resource", ""),
                                          attrs.get("subresource", ""))
                return 201, {**review, "status": {"allowed": allowed}}
            match = re.fullmatch(r"/(?:api/(v1)|apis/([^/]+)/([^/]+))"
                                 r"(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?", path)
            if not match:
                raise ApiError(404, "NotFound", f"the server could not find {path}")
            core, group, version, namespace, plural, name = match.groups()
            api_version = core or f"{group}/{version}"
            kind = next((k for k in KINDS if k.api_version == api_version
                         and k.plural == plural), None)
            if kind is None:
                raise ApiError(404, "NotFound", "the server could not find the requested "
                                                "resource")
            namespace = namespace or ""
            dry = query.get("dryRun")
            if dry not in (None, "All"):
                raise ApiError(400, "BadRequest", f'invalid dry run value: "{dry}"')
            key = (api_version, kind.kind, namespace, name or "")
            existing = state.objects.get(key) if name else None
            if method == "GET":
                if name:
                    if existing is None:
                        raise ApiError(404, "NotFound", f'{plural} "{name}" not found')
                    return 200, existing
                items = [o for k, o in state.objects.items()
                         if k[:2] == key[:2] and (not namespace or k[2] == namespace)]
                return 200, {"kind": f"{kind.kind}List", "apiVersion": api_version,
                             "metadata": {"resourceVersion": "1"}, "items": items}
            if method == "DELETE":
                if existing is None:
                    raise ApiError(404, "NotFound", f'{plural} "{name}" not found')
                if dry is None:
                    del state.objects[key]
                return 200, existing
            body = self._body(raw)
            if method == "PATCH":
                ctype = (self.headers.get("Content-Type") or "").split(";")[0]
                if ctype == "application/apply-patch+yaml":
                    if not query.get("fieldManager"):
                        raise ApiError(400, "BadRequest", "PatchOptions.meta.k8s.io "
                                       '"" is invalid: fieldManager: Required value: is '
                                       "required for apply patch")
                    obj = _merge(existing or {}, body)
                elif existing is None:
                    raise ApiError(404, "NotFound", f'{plural} "{name}" not found')
                elif ctype == "application/json-patch+json":
                    obj = jsonpatch.apply_patch(existing, body)
                else:
                    obj = _merge(existing, body)
            elif method in ("POST", "PUT"):
                obj = body
                if method == "POST" and ("metadata" not in obj or not isinstance(
                        obj["metadata"], dict)):
                    raise ApiError(422, "Invalid", "metadata: Required value")
                name = name or obj["metadata"].get("name", "")
                key = (*key[:3], name)
                existing = state.objects.get(key)
                if method == "POST" and existing is not None:
                    raise ApiError(409, "AlreadyExists", f'{plural} "{name}" already exists')
                if method == "PUT" and existing is None:
                    raise ApiError(404, "NotFound", f'{plural} "{name}" not found')
            else:
                raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")
            obj = copy.deepcopy(obj)
            obj.setdefault("apiVersion", api_version)
            obj.setdefault("kind", kind.kind)
            meta = obj.setdefault("metadata", {})
            if meta.get("name") not in (None, name):
                raise ApiError(400, "BadRequest", "the name of the object "
                               f"({meta.get('name')}) does not match the name on the URL "
                               f"({name})")
            meta["name"] = name
            if kind.namespaced:
                if meta.get("namespace") not in (None, namespace):
                    raise ApiError(400, "BadRequest", "the namespace of the provided object "
                                   "does not match the namespace sent on the request")
                meta["namespace"] = namespace
            answer = state.write(kind, obj, dry is not None, existing)
            return (201 if existing is None and method != "PUT" else 200), answer

        def _body(self, raw: bytes) -> Any:
            try:
                return yaml.safe_load(raw.decode("utf-8")) if raw else {}
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise ApiError(400, "BadRequest", f"the body could not be decoded: "
                                                  f"{exc}") from None

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

    return Handler


def _discovery(state: KubeEmulator, path: str) -> JSON:
    if path == "/version":
        major, minor = state.version.split(".")[:2]
        return {"major": major, "minor": minor, "gitVersion": f"v{major}.{minor}.0",
                "gitCommit": "0" * 40, "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0",
                "compiler": "gc", "platform": "linux/amd64"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": "127.0.0.1"}]}
    if path == "/apis":
        groups: dict[str, list[str]] = {}
        for k in KINDS:
            if k.group and k.version not in groups.setdefault(k.group, []):
                groups[k.group].append(k.version)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
             "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
            for g, vs in groups.items()]}
    group_version = path.removeprefix("/api/").removeprefix("/apis/")
    resources = [{"name": k.plural, "singularName": k.kind.lower(), "namespaced": k.namespaced,
                  "kind": k.kind, "verbs": ["create", "delete", "get", "list", "patch",
                                            "update"]}
                 for k in KINDS if k.api_version == group_version]
    if not resources:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": resources}
