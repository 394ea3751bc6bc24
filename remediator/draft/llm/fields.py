"""What a model may change, per failure class, and how its answer becomes JSON Patch operations.

The model names a field of the failing container ("resources.limits.memory", "env") and a value;
which document, which list position and the `test` of the old value are computed here from the
located document with the rules' own helpers. Values are checked for shape and for what they
may reference: a model reading untrusted logs must not point a container at another image,
another Secret, a new volume or a shell. Every new literal must be justified by the located
documents or the configuration (draft/literals.py: no new host, credential or executable path);
env names and references are judged in env.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...kernel.k8s import dig, get_container, pod_spec, split_image
from ...kernel.quantity import parse_quantity
from ...model import (
    CLASS_TABLE,
    DocumentEdit,
    FailureClass,
    FluxVariable,
    HelmValues,
    OwnerPatchOp,
    TargetKind,
)
from ..literals import Known
from ..paths import field_ops
from .env import EnvContext, merge_env, references
from .shapes import Rejected, text_value, values_list

if TYPE_CHECKING:
    from ...model import (
        Evidence,
        Incident,
        Location,
    )

__all__ = ["Converter", "Rejected", "fields_for", "file_of", "located_files", "override_edit"]

_MEMORY = ("resources.limits.memory", "resources.requests.memory")
#: container fields per failure class (the class table's model fields; each allow-listed too)
FIELDS: dict[FailureClass, tuple[str, ...]] = {r.name: r.model_fields for r in CLASS_TABLE
                                               if r.model_fields}
#: Helm values carry only what the chart's known keys feed (see allowlist.HELM_ALLOWED)
_HELM = {*_MEMORY, "image"}
_PROBE_INTS = {"initialDelaySeconds", "failureThreshold", "periodSeconds", "timeoutSeconds",
               "successThreshold"}
_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
#: shell syntax a model has no business adding to a command line
_SHELLISH = re.compile(r"[`;|&<>\n]|\$\(")
_SENSITIVE_MOUNTS = ("/", "/proc", "/sys", "/dev", "/etc", "/var/run", "/run", "/root")
#: nothing may be mounted under these (the service account token, kernel interfaces)
_SENSITIVE_TREES = ("/proc", "/sys", "/dev", "/var/run/secrets", "/run/secrets")
#: volume sources that reach the node rather than the pod's own data
_HOST_VOLUMES = {"hostPath"}
#: interpreter options whose next word is code to run
_INLINE_CODE = {"-c", "-e", "--eval", "-p", "--print", "-r", "--require", "-Command",
                "-EncodedCommand", "-javaagent"}

#: lists merged by key with what the located document already has: they need the container as
#: a document, not a JSON 6902 operation's value or a Flux variable
_MERGED_LISTS = {"env", "volumeMounts"}


def fields_for(failure_class: FailureClass, loc: Location) -> tuple[str, ...]:
    fields = FIELDS.get(failure_class, ())
    match loc.layer:
        case HelmValues(value_keys=keys):
            return tuple(f for f in fields if f in _HELM and f.split(".")[0] in keys)
        case OwnerPatchOp() | FluxVariable():
            return tuple(f for f in fields if f not in _MERGED_LISTS)
        case _:
            return fields


def located_files(failure_class: FailureClass, loc: Location) -> list[str]:
    files = [loc.target.path]
    ov = loc.image_override
    if failure_class == FailureClass.IMAGE_PULL_BACK_OFF and ov is not None and \
            ov.target is not None:
        files.append(ov.target.path)
    return files


def file_of(field: str, failure_class: FailureClass, loc: Location) -> str:
    """The one file a field is changed in (an image override layer wins for images)."""
    ov = loc.image_override
    if field == "image" and ov is not None and ov.target is not None and \
            failure_class == FailureClass.IMAGE_PULL_BACK_OFF:
        return ov.target.path
    return loc.target.path


def _quantity(value: Any, what: str) -> str:
    s = text_value(value, what)
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


class Converter:
    """Turns the model's edits for one incident into changes of the failing container."""

    def __init__(self, incident: Incident, loc: Location, max_startup_seconds: int, *,
                 allowed_hosts: Iterable[str] = (), allowed_env: Iterable[str] = ()) -> None:
        self.incident, self.loc = incident, loc
        self.container = incident.container
        self.rendered = get_container(loc.rendered, self.container)
        self.pod = pod_spec(loc.rendered)
        # the container as this document has it (a patch may not mention it, or not fully)
        self.here = {} if isinstance(loc.layer, HelmValues) else get_container(
            loc.document, self.container)
        self.is_patch = loc.kind != TargetKind.MANIFEST
        self.max_startup_seconds = max_startup_seconds
        # what justifies a new literal: the located documents (never the evidence) and config
        self.known = Known.of([loc.document, loc.rendered], incident.workload.namespace,
                              allowed_hosts)
        self.allowed_env = tuple(allowed_env)
        self.evidence = evidence_text(incident)

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
        new = text_value(value, what)
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
        # references as rendered and as written (a generator's hash suffix is only rendered)
        refs = {kind: references(self.pod, kind) | references(pod_spec(self.loc.document), kind)
                for kind in ("configMap", "secret")}
        return merge_env(value, what, EnvContext(
            self.container, _entries(self.here.get("env")), _entries(self.rendered.get("env")),
            refs, self.known, self.allowed_env, self.evidence, self.is_patch))

    def _words(self, value: Any, what: str, current: list[Any], before: list[Any],
               after: list[Any]) -> list[str]:
        """The new words; ``before``/``after``: the rest of the command line around them (the
        command before args, the args after a command)."""
        words = [text_value(w, what) for w in values_list(value, what)]
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
            self._justified(w, what)
        return words

    def _justified(self, literal: str, what: str, name: str = "") -> None:
        problem = self.known.problem(literal, name)
        if problem:
            raise Rejected(f"{what}: {problem}")

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
        for m in values_list(value, what):
            if not isinstance(m, dict) or set(m) - {"name", "mountPath", "readOnly", "subPath"}:
                raise Rejected(f"{what}: entries have name, mountPath, readOnly, subPath only")
            name = str(m.get("name"))
            if name not in volumes:
                raise Rejected(f"{what}: volume {m.get('name')!r} is not a volume of the pod")
            if name not in mounted and set(volumes[name]) & _HOST_VOLUMES:
                # another container's host access is not this container's to take
                raise Rejected(f"{what}: volume {name!r} reaches the node; only a container "
                               "that already mounts it may keep it")
            path = text_value(m.get("mountPath"), what)
            if not path.startswith("/") or ".." in path or path.rstrip("/") in (
                    "", *_SENSITIVE_MOUNTS) or any(
                    (path.rstrip("/") + "/").startswith(p + "/") for p in _SENSITIVE_TREES):
                raise Rejected(f"{what}: mountPath {path!r} is not allowed")
            if ".." in str(m.get("subPath", "")) or not isinstance(m.get("readOnly", False), bool):
                raise Rejected(f"{what}: invalid subPath or readOnly")
            for literal in (path, m.get("subPath")):
                if isinstance(literal, str) and literal:
                    self._justified(literal, what)
            at = next((i for i, c in enumerate(current) if c.get("mountPath") == path), None)
            if at is None:
                current.append(dict(m))
            else:
                current[at] = dict(m)
        return current

    def _workingDir(self, value: Any, what: str) -> str:
        path = text_value(value, what)
        if not path.startswith("/") or ".." in path:
            raise Rejected(f"{what}: must be an absolute path")
        self._justified(path, what)
        return path


def _entries(env: Any) -> list[dict[str, Any]]:
    return [dict(e) for e in env if isinstance(e, dict)] if isinstance(env, list) else []


def evidence_text(incident: Incident) -> str:
    """Everything the failure showed, as one text (to confirm a rename; never to justify a
    value)."""
    ev: Evidence = incident.evidence
    term = ev.last_termination
    return "\n".join([incident.detail, *ev.status, ev.log_excerpt,
                      *(e.message for e in ev.events), term.message if term else ""])


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

