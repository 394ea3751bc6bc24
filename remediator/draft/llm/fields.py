"""What a model may change, per failure class, and how its answer becomes JSON Patch operations.

The model names a field of the failing container ("resources.limits.memory", "env") and a value;
which document, which list position and the `test` of the old value are computed here from the
located document with the rules' own helpers. Values are checked for shape and for what they
may reference: a model reading untrusted logs must not point a container at another image,
another Secret, a new volume or a shell.
"""

from __future__ import annotations

import re
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from ...k8s import dig, get_container, pod_spec, split_image
from ...model import DocumentEdit, Incident, Location, TargetKind
from ...redact import MASK
from ..paths import field_ops

_MEMORY = ("resources.limits.memory", "resources.requests.memory")
_START = ("env", "command", "args", "volumeMounts", "workingDir")
#: container fields per failure class (each also allow-listed in draft/allowlist.py)
FIELDS: dict[str, tuple[str, ...]] = {
    "OOMKilled": _MEMORY,
    "ProbeFailure": ("startupProbe", "livenessProbe.initialDelaySeconds",
                     "livenessProbe.failureThreshold", "livenessProbe.periodSeconds",
                     "livenessProbe.timeoutSeconds"),
    "ImagePullBackOff": ("image",),
    "CrashLoopBackOff": ("env", "command", "args", "volumeMounts", *_MEMORY),
    "RunContainerError": _START,
    "CreateContainerError": _START,
    "CreateContainerConfigError": ("env",),
    "JobFailed": ("env", "command", "args", *_MEMORY),
    "Unschedulable": ("resources.requests.memory", "resources.requests.cpu"),
    "Evicted": (*_MEMORY, "resources.requests.ephemeral-storage",
                "resources.limits.ephemeral-storage"),
}
#: Helm values carry only what the chart's known keys feed (see allowlist.HELM_ALLOWED)
_HELM = {*_MEMORY, "image"}
_PROBE_INTS = {"initialDelaySeconds", "failureThreshold", "periodSeconds", "timeoutSeconds",
               "successThreshold"}
_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]{0,127}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
#: shell syntax a model has no business adding to a command line
_SHELLISH = re.compile(r"[`;|&<>\n]|\$\(")
_SENSITIVE_MOUNTS = ("/", "/proc", "/sys", "/dev", "/etc", "/var/run", "/run", "/root")
#: nothing may be mounted under these (the service account token, kernel interfaces)
_SENSITIVE_TREES = ("/proc", "/sys", "/dev", "/var/run/secrets", "/run/secrets")
#: volume sources that reach the node rather than the pod's own data
_HOST_VOLUMES = {"hostPath"}
#: variables that load code, redirect traffic or weaken TLS: as good as another executable
_HOOK_VARS = re.compile(
    r"(?i)LD_[A-Z_]+|DYLD_[A-Z_]+|PATH|BASH_ENV|ENV|PROMPT_COMMAND|NODE_OPTIONS|NODE_PATH"
    r"|NODE_EXTRA_CA_CERTS|NODE_TLS_REJECT_UNAUTHORIZED|_JAVA_OPTIONS|JDK_JAVA_OPTIONS"
    r"|JAVA_TOOL_OPTIONS|PYTHON(?:PATH|STARTUP|HOME|HTTPSVERIFY|INSPECT)|PERL5(?:OPT|LIB)"
    r"|PERLLIB|RUBY(?:OPT|LIB)|DOTNET_STARTUP_HOOKS|CORECLR_[A-Z_]+|GCONV_PATH"
    r"|(?:HTTPS?|ALL|NO|FTP)_PROXY|SSL_CERT_(?:FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE"
    r"|GIT_SSL_NO_VERIFY|GODEBUG")
#: interpreter options whose next word is code to run
_INLINE_CODE = {"-c", "-e", "--eval", "-p", "--print", "-r", "--require", "-Command",
                "-EncodedCommand", "-javaagent"}
MAX_LIST = 64
MAX_VALUE_CHARS = 1024


class Rejected(ValueError):
    """The model's answer cannot become a proposal; the message says why (for the record)."""


#: lists merged by key with what the located document already has: they need the container as
#: a document, not a JSON 6902 operation's value or a Flux variable
_MERGED_LISTS = {"env", "volumeMounts"}


def fields_for(failure_class: str, loc: Location) -> tuple[str, ...]:
    fields = FIELDS.get(failure_class, ())
    if loc.source == "helm":
        fields = tuple(f for f in fields if f in _HELM and f.split(".")[0] in loc.value_keys)
    if loc.op_index >= 0 or loc.substitution is not None:
        fields = tuple(f for f in fields if f not in _MERGED_LISTS)
    return fields


def located_files(failure_class: str, loc: Location) -> list[str]:
    files = [loc.target.path]
    ov = loc.image_override
    if failure_class == "ImagePullBackOff" and ov is not None and ov.target is not None:
        files.append(ov.target.path)
    return files


def file_of(field: str, failure_class: str, loc: Location) -> str:
    """The one file a field is changed in (an image override layer wins for images)."""
    ov = loc.image_override
    if field == "image" and ov is not None and ov.target is not None and \
            failure_class == "ImagePullBackOff":
        return ov.target.path
    return loc.target.path


def _text(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Rejected(f"{what}: expected a string, got {type(value).__name__}")
    s = str(value)
    if MASK in s:
        raise Rejected(f"{what}: contains a redacted value")
    if len(s) > MAX_VALUE_CHARS or not s.strip():
        raise Rejected(f"{what}: empty or longer than {MAX_VALUE_CHARS} characters")
    return s


def _quantity(value: Any, what: str) -> str:
    s = _text(value, what)
    try:
        q = parse_quantity(s)
    except ValueError:
        raise Rejected(f"{what}: {s!r} is not a Kubernetes quantity") from None
    if q <= 0:
        raise Rejected(f"{what}: must be positive")
    return s


def _seconds(value: Any, what: str, high: int = 3600) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise Rejected(f"{what}: expected whole seconds/count between 0 and {high}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise Rejected(f"{what}: expected a list of at most {MAX_LIST} items")
    return value


def _referenced(spec: dict[str, Any], kind: str) -> set[str]:
    """Names of ConfigMaps ("configMap") or Secrets ("secret") the pod already references."""
    names: set[str] = set()
    ref_key = {"configMap": "configMapKeyRef", "secret": "secretKeyRef"}[kind]
    from_key = {"configMap": "configMapRef", "secret": "secretRef"}[kind]
    for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for e in c.get("env") or []:
            ref = ((e or {}).get("valueFrom") or {}).get(ref_key) or {}
            if ref.get("name"):
                names.add(str(ref["name"]))
        for e in c.get("envFrom") or []:
            if ((e or {}).get(from_key) or {}).get("name"):
                names.add(str(e[from_key]["name"]))
    for v in spec.get("volumes") or []:
        src = (v or {}).get(kind) or {}
        name = src.get("name") if kind == "configMap" else src.get("secretName")
        if name:
            names.add(str(name))
        for p in ((v or {}).get("projected") or {}).get("sources") or []:
            if ((p or {}).get(kind) or {}).get("name"):
                names.add(str(p[kind]["name"]))
    return names


class Converter:
    """Turns the model's edits for one incident into changes of the failing container."""

    def __init__(self, incident: Incident, loc: Location, max_startup_seconds: int) -> None:
        self.incident, self.loc = incident, loc
        self.container = incident.container
        self.rendered = get_container(loc.rendered, self.container)
        self.pod = pod_spec(loc.rendered)
        # the container as this document has it (a patch may not mention it, or not fully)
        self.here = get_container(loc.document, self.container) if loc.source != "helm" else {}
        self.is_patch = loc.kind != TargetKind.MANIFEST
        self.max_startup_seconds = max_startup_seconds

    def changes(self, field: str, value: Any) -> dict[tuple[str, ...], Any]:
        what = f"{field} of {self.container}"
        if field.startswith("resources."):
            return {tuple(field.split(".")): _quantity(value, what)}
        if field.startswith("livenessProbe."):
            if not isinstance(self.rendered.get("livenessProbe"), dict):
                raise Rejected(f"{self.container} has no livenessProbe to adjust")
            return {tuple(field.split(".")): _seconds(value, what)}
        handler = getattr(self, "_" + field, None)
        if handler is None:  # pragma: no cover - FIELDS and the handlers are one table
            raise Rejected(f"field {field!r} is not supported")
        return {(field,): handler(value, what)}

    def _image(self, value: Any, what: str) -> str:
        new = _text(value, what)
        failing = self.incident.detail or str(self.rendered.get("image", ""))
        name, tag = split_image(new)
        if "@" in new or not tag or not _TAG.fullmatch(tag):
            raise Rejected(f"{what}: {new!r} must be the same image with a plain tag")
        if name != split_image(failing)[0]:
            raise Rejected(f"{what}: {new!r} is another image than {split_image(failing)[0]} "
                           "(only the tag may change)")
        if new == failing:
            raise Rejected(f"{what}: {new!r} is the image that fails")
        return new

    def _startupProbe(self, value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Rejected(f"{what}: expected a probe object")
        handlers = [k for k in value if k in _HANDLERS]
        others = set(value) - set(_HANDLERS)
        if len(handlers) != 1 or others - _PROBE_INTS:
            raise Rejected(f"{what}: one handler and timing fields only")
        known = [p.get(handlers[0]) for p in (self.rendered.get("livenessProbe"),
                                              self.rendered.get("readinessProbe"))
                 if isinstance(p, dict)]
        if value[handlers[0]] not in known:
            raise Rejected(f"{what}: the check must be the container's own liveness or "
                           "readiness check")
        for k in others:
            _seconds(value[k], f"{what}.{k}")
        budget = int(value.get("periodSeconds", 10)) * int(value.get("failureThreshold", 3)) \
            + int(value.get("initialDelaySeconds", 0))
        if budget > self.max_startup_seconds:
            raise Rejected(f"{what}: allows {budget}s to start, more than the configured "
                           f"{self.max_startup_seconds}s")
        return value

    def _env(self, value: Any, what: str) -> list[Any]:
        """The container's env with the model's entries set by name. A removed variable's place
        goes to the first new one (a rename stays a one-line change)."""
        current = [dict(e) for e in self.here.get("env") or [] if isinstance(e, dict)]
        names = [str(e.get("name")) for e in current]
        # as rendered and as written (a generator's hash suffix exists only in the render)
        allowed = {kind: _referenced(self.pod, kind) | _referenced(pod_spec(self.loc.document),
                                                                   kind)
                   for kind in ("configMap", "secret")}
        removed: set[str] = set()
        upserts: dict[str, dict[str, Any]] = {}
        for entry in _list(value, what):
            if not isinstance(entry, dict) or not _ENV_NAME.fullmatch(
                    str(entry.get("name", ""))):
                raise Rejected(f"{what}: every entry needs a valid variable name")
            name = str(entry["name"])
            if _HOOK_VARS.fullmatch(name):
                raise Rejected(f"{what}: {name} changes what runs or where traffic goes")
            keys = set(entry) - {"name"}
            if name in removed or name in upserts:
                raise Rejected(f"{what}: {name} is given twice")
            if keys == {"remove"} and entry["remove"] is True:
                if self.is_patch:
                    raise Rejected(f"{what}: cannot remove {name} through a patch")
                if name not in names:
                    raise Rejected(f"{what}: {name} is not set in this document")
                removed.add(name)
            elif keys == {"value"}:
                upserts[name] = {"name": name, "value": _text(entry["value"], f"{what} {name}")}
            elif keys == {"valueFrom"}:
                upserts[name] = {"name": name, "valueFrom": self._value_from(
                    entry["valueFrom"], allowed, f"{what} {name}")}
            else:
                raise Rejected(f"{what}: {name} needs exactly one of value, valueFrom, remove")
        added = [e for n, e in upserts.items() if n not in names]
        out: list[Any] = []
        for e in current:
            name = str(e.get("name"))
            if name in removed:
                if added:
                    out.append(added.pop(0))
            else:
                out.append(upserts.get(name, e))
        return out + added

    @staticmethod
    def _value_from(ref: Any, allowed: dict[str, set[str]], what: str) -> dict[str, Any]:
        kinds = {"configMapKeyRef": "configMap", "secretKeyRef": "secret"}
        if not isinstance(ref, dict) or len(ref) != 1 or next(iter(ref)) not in kinds:
            raise Rejected(f"{what}: valueFrom must be one configMapKeyRef or secretKeyRef")
        key, body = next(iter(ref.items()))
        if not isinstance(body, dict) or set(body) - {"name", "key", "optional"} or \
                not body.get("name") or not body.get("key"):
            raise Rejected(f"{what}: {key} needs name and key")
        if str(body["name"]) not in allowed[kinds[key]]:
            raise Rejected(f"{what}: {kinds[key]} {body['name']!r} is not one the pod already "
                           "uses")
        if "optional" in body and not isinstance(body["optional"], bool):
            raise Rejected(f"{what}: optional must be true or false")
        return {key: {k: body[k] for k in ("name", "key", "optional") if k in body}}

    def _words(self, value: Any, what: str, current: list[Any], before: list[Any],
               after: list[Any]) -> list[str]:
        """The new words; ``before``/``after``: the rest of the command line around them (the
        command before args, the args after a command)."""
        words = [_text(w, what) for w in _list(value, what)]
        argv = [*map(str, before), *words, *map(str, after)]
        for i, w in enumerate(words):
            if w in current:
                continue
            if _SHELLISH.search(w):
                raise Rejected(f"{what}: {w[:60]!r} adds shell syntax")
            at = len(before) + i
            option = re.split("[=:]", w, maxsplit=1)[0]  # `--require=x`, `-javaagent:x`
            if (at and argv[at - 1] in _INLINE_CODE) or (option != w and option in _INLINE_CODE):
                # `sh -c <script>`, `python -c`, `node -e`: new code is another executable
                raise Rejected(f"{what}: {w[:60]!r} is new code for an interpreter")
        return words

    def _command(self, value: Any, what: str) -> list[str]:
        current = self.rendered.get("command") or []
        words = self._words(value, what, current, [], self.rendered.get("args") or [])
        if not current or not words or words[0] != current[0]:
            raise Rejected(f"{what}: the executable cannot change (only its arguments)")
        return words

    def _args(self, value: Any, what: str) -> list[str]:
        return self._words(value, what, self.rendered.get("args") or [],
                           self.rendered.get("command") or [], [])

    def _volumeMounts(self, value: Any, what: str) -> list[Any]:
        volumes = {str(v.get("name")): v for v in self.pod.get("volumes") or []
                   if isinstance(v, dict)}
        current = [dict(m) for m in self.here.get("volumeMounts") or [] if isinstance(m, dict)]
        # what the container already mounts (as rendered: a patch may show only part of it)
        mounted = {str(m.get("name")) for m in [*(self.rendered.get("volumeMounts") or []),
                                                *current] if isinstance(m, dict)}
        for m in _list(value, what):
            if not isinstance(m, dict) or set(m) - {"name", "mountPath", "readOnly", "subPath"}:
                raise Rejected(f"{what}: entries have name, mountPath, readOnly, subPath only")
            name = str(m.get("name"))
            if name not in volumes:
                raise Rejected(f"{what}: volume {m.get('name')!r} is not a volume of the pod")
            if name not in mounted and set(volumes[name]) & _HOST_VOLUMES:
                # another container's host access is not this container's to take
                raise Rejected(f"{what}: volume {name!r} reaches the node; only a container "
                               "that already mounts it may keep it")
            path = _text(m.get("mountPath"), what)
            if not path.startswith("/") or ".." in path or path.rstrip("/") in (
                    "", *_SENSITIVE_MOUNTS) or any(
                    (path.rstrip("/") + "/").startswith(p + "/") for p in _SENSITIVE_TREES):
                raise Rejected(f"{what}: mountPath {path!r} is not allowed")
            if ".." in str(m.get("subPath", "")) or not isinstance(m.get("readOnly", False), bool):
                raise Rejected(f"{what}: invalid subPath or readOnly")
            at = next((i for i, c in enumerate(current) if c.get("mountPath") == path), None)
            if at is None:
                current.append(dict(m))
            else:
                current[at] = dict(m)
        return current

    def _workingDir(self, value: Any, what: str) -> str:
        path = _text(value, what)
        if not path.startswith("/") or ".." in path:
            raise Rejected(f"{what}: must be an absolute path")
        return path


def override_edit(loc: Location, new_image: str) -> DocumentEdit:
    """An image tag set in the image-override layer (kustomize `images:`, Argo CD settings)."""
    ov = loc.image_override
    assert ov is not None and ov.target is not None
    tag = split_image(new_image)[1]
    if ov.style == "argo":  # `[name=]new-image:tag` as one string: keep all but the tag
        current = str(dig(ov.document, ov.path))
        head = current.split("@", 1)[0]
        stem = head.rsplit(":", 1)[0] if ":" in head.rpartition("/")[2] else head
        return DocumentEdit(ov.target, field_ops(ov.document, ov.path, f"{stem}:{tag}"))
    return DocumentEdit(ov.target, field_ops(ov.document, ov.path, tag))

