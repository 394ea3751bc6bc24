"""Strict Kubernetes schema validation of a changed object.

The schemas are the ones kubernetes-validate bundles (``kubernetes_validate/kubernetes-json-schema
/v<version>-local-strict/<kind>-<group>-<version>.json`` plus ``_definitions.json``, found with
``importlib.resources`` as kubernetes-validate does). Its own ``validate()`` re-reads and re-parses
both files on every call and stops at the first error; here the definitions are loaded once per
Kubernetes version and a compiled validator is kept per (version, kind, apiVersion), and every
error is reported with the JSON path it is at.

The validator is jsonschema-rs (compiled, in Rust): about 5 µs for a Deployment against about
2 ms for the pure-Python ``jsonschema`` with the same schemas (``bench/gate.py``). Formats are
not asserted (``int-or-string``, ``byte``...), as JSON Schema 2020-12 specifies by default.

Kinds with no bundled schema (CRDs) are looked up in ``validation.schemaLocations``: folders of
JSON schemas named as kubeconform's CRD catalogues name them (``<group>/<kind>_<version>.json``,
``<kind>_<version>.json``, kind in lower case) or as kubernetes-validate does; then in the
schemas remediator bundles for the Argo CD and Flux kinds it reads and edits (``crd-schemas/``,
made from the projects' CRDs by ``scripts/crd_schemas.py``; a repo's own location comes first, so
it can pin another release's). A kind found nowhere (a CRD without a schema, a typo in
apiVersion) passes with a note: the server-side dry-run, where a cluster is reachable, is the
check for those.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import jsonschema_rs

from ..kernel.bundled import bundled
from ..model import CheckResult
from . import inputs

MAX_MESSAGE = 240


@functools.cache
def schema_root() -> Path:
    """kubernetes-validate's folder of schemas, found without importing the package: its
    ``__init__`` loads the pure-Python ``jsonschema``, ``referencing`` and PyYAML (~40 ms at
    every start of `remediator validate`: bench/startup.py), none of which we use."""
    spec = find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("kubernetes-validate is not installed (its schemas are needed)")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def all_versions() -> list[str]:
    """The bundled Kubernetes versions ("1.31.0"), as kubernetes-validate lists them."""
    return [m.group(1) for folder in schema_root().iterdir()
            if (m := re.match(r"^v([^-]*)", folder.name))]


_MINOR = re.compile(r"v?(\d+)(?:\.(\d+)(?:[.+-].*)?)?")


def _minor(version: str) -> tuple[int, int]:
    """(major, minor) of "1.31", "v1.30.4" or "1.29.0-gke.1"; ValueError for anything else. (A
    regular expression, not `packaging`: ~8 ms of every `validate`'s start for two numbers.)"""
    m = _MINOR.fullmatch(version)
    if m is None:
        raise ValueError(f"not a Kubernetes version: {version!r}")
    return int(m.group(1)), int(m.group(2) or 0)


@functools.lru_cache(maxsize=16)
def schema_version(requested: str) -> tuple[str, str]:
    """(bundled schema version to use, note) for a requested Kubernetes version like "1.31".

    The newest bundled version not newer than the request; the nearest one (with a note) when the
    request is outside the bundled range.
    """
    versions = sorted(all_versions(), key=_minor)
    fitting = [v for v in versions if _minor(v) <= _minor(requested)]
    chosen = fitting[-1] if fitting else versions[0]
    if fitting and _minor(requested) <= _minor(versions[-1]):
        return chosen, ""
    major, minor = _minor(chosen)
    return chosen, f"no schemas for Kubernetes {requested}; validated against {major}.{minor}"


@functools.lru_cache(maxsize=4)
def _definitions(version: str) -> dict[str, Any]:
    """The shared definitions of one Kubernetes version (1.3 MB of JSON), parsed once."""
    text = schema_root().joinpath(f"v{version}-local-strict", "_definitions.json").read_text()
    definitions: dict[str, Any] = json.loads(text)
    return definitions


#: how a kind's schema and the definitions point at a definition: ".../_definitions.json#/$defs/X"
_DEFINITION_REF = re.compile(r"(?:/api/_definitions\.json)?#/\$defs/([A-Za-z0-9_.-]+)")


def _refs(node: Any, out: set[str]) -> None:
    """Every ``$ref`` string in ``node`` (a property named "$ref", in a CRD's schema of schemas,
    is a mapping: it is walked, not taken)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                out.add(ref)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))


def _reached(schema: Any, every: dict[str, Any]) -> dict[str, Any]:
    """The definitions (of ``every``) that ``schema`` reaches through its references, directly
    or through other definitions; ``every`` itself when a reference is not one to follow."""
    reached: dict[str, Any] = {}
    pending: set[str] = set()
    _refs(schema, pending)
    while pending:
        m = _DEFINITION_REF.fullmatch(pending.pop())
        if m is None or m.group(1) not in every:
            return every  # the validator gets all of them rather than miss one
        if m.group(1) not in reached:
            reached[m.group(1)] = every[m.group(1)]
            _refs(every[m.group(1)], pending)
    return reached


def _registry(version: str, schema: Any) -> jsonschema_rs.Registry:
    """The definitions ``schema`` reaches, as the resource they come from. A Deployment reaches
    about 110 of some 640: a registry costs in proportion to what it holds (~6 ms for all of
    them, at every start of `remediator validate`), and the validator looks nothing else up."""
    definitions = _definitions(version)
    reached = _reached(schema, definitions.get("$defs") or {})
    return jsonschema_rs.Registry([(definitions["$id"], {**definitions, "$defs": reached})])


_GROUP_DOMAIN = re.compile(r"^([^./]*)(?:\.[^/]*)?/")


def _file_name(kind: str, api_version: str) -> str:
    # as kubernetes-validate names them: rbac.authorization.k8s.io/v1 -> rbac-v1
    group_version = _GROUP_DOMAIN.sub(r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


@functools.lru_cache(maxsize=256)
def validator(version: str, kind: str, api_version: str) -> jsonschema_rs.Validator | None:
    """The compiled strict validator for one kind, or None when there is no schema for it."""
    path = schema_root().joinpath(f"v{version}-local-strict", _file_name(kind, api_version))
    try:
        schema = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    # the file name drops the group's domain (apps.example.com/v1 -> apps-v1): make sure the
    # schema really is for this group, version and kind
    group, _, ver = api_version.rpartition("/")
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if {"group": group, "kind": kind, "version": ver} not in gvks:
        return None
    return jsonschema_rs.Draft202012Validator(schema, registry=_registry(version, schema),
                                              validate_formats=False)


@functools.cache
def bundled_schemas() -> Path:
    """The folder of the bundled Argo CD and Flux schemas (crd-schemas/README.md)."""
    return bundled("crd-schemas")


def _candidates(kind: str, api_version: str) -> list[str]:
    group, _, ver = api_version.rpartition("/")
    names = [f"{kind.lower()}_{ver}.json", _file_name(kind, api_version)]
    return [f"{group}/{names[0]}", *names] if group else names


@functools.lru_cache(maxsize=256)
def located_validator(locations: tuple[str, ...], kind: str,
                      api_version: str) -> tuple[jsonschema_rs.Validator | None, str]:
    """(validator, problem) from the first schema file of ``locations`` for this kind; a file
    that is not a usable JSON schema is a problem (reported as an error: fail closed)."""
    for folder in locations:
        for name in _candidates(kind, api_version):
            path = Path(folder) / name
            if not path.is_file():
                continue
            try:
                return jsonschema_rs.validator_for(json.loads(path.read_text()),
                                                   validate_formats=False), ""
            except (ValueError, OSError) as exc:  # JSONDecodeError, a schema it cannot compile
                return None, f"{path.name}: not a usable JSON schema: {str(exc)[:MAX_MESSAGE]}"
    return None, ""


def json_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _messages(error: jsonschema_rs.ValidationError) -> list[str]:
    path = list(error.instance_path)
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        extra = sorted(error.kind.unexpected)
        return [f"{json_path([*path, k])}: unknown field {k!r}" for k in extra]
    message = error.message
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return [f"{json_path(path)}: {message}"]


def validate(obj: Any, kubernetes_version: str,
             locations: Sequence[Path] = ()) -> tuple[list[str], list[str]]:
    """(errors, notes) for one object. No errors means valid, or skipped (see the notes)."""
    try:
        obj = inputs.plain(obj)
    except (ValueError, RecursionError) as exc:
        return [f"(root): cannot be validated: {exc}"], []
    if not isinstance(obj, dict):
        return [f"(root): expected an object, got {type(obj).__name__}"], []
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if not isinstance(kind, str) or not kind or not isinstance(api_version, str) or not api_version:
        return ["(root): the object needs a kind and an apiVersion"], []
    try:
        version, note = schema_version(kubernetes_version)
    except ValueError:
        return [f"kubernetes version {kubernetes_version!r} is not a version like 1.31"], []
    notes = [note] if note else []
    checker = validator(version, kind, api_version)
    if checker is None:
        folders = (*(str(p) for p in locations), str(bundled_schemas()))
        checker, problem = located_validator(folders, kind, api_version)
        if problem:
            return [f"(root): {problem}"], notes
    if checker is None:
        return [], [*notes, f"no schema for {kind} {api_version}, skipped"]
    try:
        return [m for e in checker.iter_errors(obj) for m in _messages(e)], notes
    except ValueError as exc:  # not JSON-shaped (nested too deep, a key that is not a string)
        return [f"(root): cannot be validated: {exc}"], notes


def check_schema(obj: Any, kubernetes_version: str, before: Any = None,
                 locations: Sequence[Path] = ()) -> CheckResult:
    """Strict validation of ``obj`` (CRDs against the schemas in ``locations``); with ``before``,
    errors it already had are reported as pre-existing and do not fail the check (the change is
    judged, not the object)."""
    errors, notes = validate(obj, kubernetes_version, locations)
    old: set[str] = (set(validate(before, kubernetes_version, locations)[0])
                     if before is not None else set())
    new = [e for e in errors if e not in old]
    kept = [f"pre-existing: {e}" for e in errors if e in old]
    return CheckResult("schema", passed=not new, messages=new + kept + notes)
