"""A model's env edit, checked by meaning: which names it may set, what it may set them to.

Names are an allow-list: the variables the container already has, the ones
`drafting.allowedEnv` lists, and a rename the evidence asks for (`DATABSE_URL` removed and
`DATABASE_URL` added with the same value or reference, when the failure's evidence names
`DATABASE_URL` and the two are spelt alike). Variables that load code or redirect traffic stay
refused unless the configuration lists them by name. Values: a reference (`valueFrom`) only to a
ConfigMap or Secret the pod already uses, and never replaced by a literal; a literal must be
justified (draft/literals.py: no new host, credential or executable path).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .shapes import Rejected, text_value, values_list

if TYPE_CHECKING:
    from ..literals import Known

ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]{0,127}$")
#: variables that load code, redirect traffic or weaken TLS: as good as another executable
HOOK_VARS = re.compile(
    r"(?i)LD_[A-Z_]+|DYLD_[A-Z_]+|PATH|BASH_ENV|ENV|PROMPT_COMMAND|NODE_OPTIONS|NODE_PATH"
    r"|NODE_EXTRA_CA_CERTS|NODE_TLS_REJECT_UNAUTHORIZED|_JAVA_OPTIONS|JDK_JAVA_OPTIONS"
    r"|JAVA_TOOL_OPTIONS|PYTHON(?:PATH|STARTUP|HOME|HTTPSVERIFY|INSPECT)|PERL5(?:OPT|LIB)"
    r"|PERLLIB|RUBY(?:OPT|LIB)|DOTNET_STARTUP_HOOKS|CORECLR_[A-Z_]+|GCONV_PATH"
    r"|(?:HTTPS?|ALL|NO|FTP)_PROXY|SSL_CERT_(?:FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE"
    r"|GIT_SSL_NO_VERIFY|GODEBUG|KUBERNETES_[A-Z_]+")
#: how alike a renamed variable's names must be (DATABSE_URL → DATABASE_URL: 0.96)
RENAME_SIMILARITY = 0.8
_KINDS = {"configMapKeyRef": "configMap", "secretKeyRef": "secret"}


def listed(name: str, patterns: Iterable[str]) -> bool:
    """``name`` is one of ``patterns`` (exact names, or prefixes ending in `*`)."""
    return any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns)


@dataclass
class EnvContext:
    """What an env edit of one container is judged against."""

    container: str
    current: list[dict[str, Any]]  # the container's env as the located document has it
    rendered: list[dict[str, Any]]  # ... and as the render shows it (a patch may show less)
    references: dict[str, set[str]]  # "configMap"/"secret" -> names the pod already uses
    known: Known
    allowed_env: tuple[str, ...]
    evidence: str  # what the failure showed (for a rename the evidence asks for)
    is_patch: bool


def _source(entry: dict[str, Any]) -> Any:
    return entry.get("valueFrom") if "valueFrom" in entry else entry.get("value")


def value_from(ref: Any, allowed: dict[str, set[str]], what: str) -> dict[str, Any]:
    if not isinstance(ref, dict) or len(ref) != 1 or next(iter(ref)) not in _KINDS:
        raise Rejected(f"{what}: valueFrom must be one configMapKeyRef or secretKeyRef")
    key, body = next(iter(ref.items()))
    if not isinstance(body, dict) or set(body) - {"name", "key", "optional"} or \
            not isinstance(body.get("name"), str) or not isinstance(body.get("key"), str) or \
            not body["name"] or not body["key"]:
        raise Rejected(f"{what}: {key} needs name and key")
    if body["name"] not in allowed[_KINDS[key]]:
        raise Rejected(f"{what}: {_KINDS[key]} {body['name'][:80]!r} is not one the pod already "
                       "uses")
    if "optional" in body and not isinstance(body["optional"], bool):
        raise Rejected(f"{what}: optional must be true or false")
    return {key: {k: body[k] for k in ("name", "key", "optional") if k in body}}


def merge_env(value: Any, what: str, ctx: EnvContext) -> list[Any]:
    """The container's env with the model's entries set by name. A removed variable's place
    goes to the first new one (a rename stays a one-line change)."""
    current = [dict(e) for e in ctx.current]
    names = [str(e.get("name")) for e in current]
    before = {str(e.get("name")): e for e in [*ctx.rendered, *current]}
    removed: set[str] = set()
    upserts: dict[str, dict[str, Any]] = {}
    for entry in values_list(value, what):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or \
                not ENV_NAME.fullmatch(entry["name"]):
            raise Rejected(f"{what}: every entry needs a valid variable name")
        name = entry["name"]
        if HOOK_VARS.fullmatch(name) and name not in ctx.allowed_env:
            raise Rejected(f"{what}: {name} changes what runs or where traffic goes")
        keys = set(entry) - {"name"}
        if name in removed or name in upserts:
            raise Rejected(f"{what}: {name} is given twice")
        if keys == {"remove"} and entry["remove"] is True:
            if ctx.is_patch:
                raise Rejected(f"{what}: cannot remove {name} through a patch")
            if name not in names:
                raise Rejected(f"{what}: {name} is not set in this document")
            removed.add(name)
        elif keys == {"value"}:
            literal = text_value(entry["value"], f"{what} {name}")
            if isinstance(before.get(name, {}).get("valueFrom"), dict):
                raise Rejected(f"{what}: {name} takes its value from a reference (valueFrom); "
                               "a literal never replaces it")
            upserts[name] = {"name": name, "value": literal}
        elif keys == {"valueFrom"}:
            upserts[name] = {"name": name, "valueFrom": value_from(
                entry["valueFrom"], ctx.references, f"{what} {name}")}
        else:
            raise Rejected(f"{what}: {name} needs exactly one of value, valueFrom, remove")
    _check_names(upserts, removed, before, what, ctx)
    for name, entry in upserts.items():  # then what the names are set to
        if "value" in entry and entry["value"] != before.get(name, {}).get("value"):
            problem = ctx.known.problem(entry["value"], name)
            if problem:
                raise Rejected(f"{what}: {name} {problem}")
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


def _check_names(upserts: dict[str, dict[str, Any]], removed: set[str],
                 before: dict[str, dict[str, Any]], what: str, ctx: EnvContext) -> None:
    """Every new name is on the allow-list; no reference gives way to a literal."""
    lost_reference = [n for n in removed if "valueFrom" in before.get(n, {})]
    for name, entry in upserts.items():
        if name in before:
            continue
        if lost_reference and "value" in entry:
            raise Rejected(f"{what}: {name} would replace the reference (valueFrom) of "
                           f"{lost_reference[0]} with a literal")
        if listed(name, ctx.allowed_env) or _renamed(name, entry, removed, before, ctx):
            continue
        raise Rejected(f"{what}: {name} is not a variable {ctx.container} already has, nor one "
                       "drafting.allowedEnv lists")


def _renamed(name: str, entry: dict[str, Any], removed: set[str],
             before: dict[str, dict[str, Any]], ctx: EnvContext) -> bool:
    """A typo fixed: a removed variable spelt alike gives ``name`` its very value, and the
    evidence names ``name`` (logs cannot widen this: they only confirm a rename)."""
    if not re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", ctx.evidence):
        return False
    return any(_source(before[old]) == _source(entry) and difflib.SequenceMatcher(
        None, old, name).ratio() >= RENAME_SIMILARITY for old in removed if old in before)


def references(spec: dict[str, Any], kind: str) -> set[str]:
    """Names of ConfigMaps ("configMap") or Secrets ("secret") the pod already references."""
    names: set[str] = set()
    ref_key = {"configMap": "configMapKeyRef", "secret": "secretKeyRef"}[kind]
    from_key = {"configMap": "configMapRef", "secret": "secretRef"}[kind]

    def dicts(items: Any) -> list[dict[str, Any]]:
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    def name_of(node: Any, key: str = "name") -> str:
        return str(node[key]) if isinstance(node, dict) and node.get(key) else ""

    for c in [*dicts(spec.get("containers")), *dicts(spec.get("initContainers"))]:
        for e in dicts(c.get("env")):
            vf = e.get("valueFrom")
            names.add(name_of(vf.get(ref_key)) if isinstance(vf, dict) else "")
        for e in dicts(c.get("envFrom")):
            names.add(name_of(e.get(from_key)))
    for v in dicts(spec.get("volumes")):
        names.add(name_of(v.get(kind), "name" if kind == "configMap" else "secretName"))
        projected = v.get("projected")
        for p in dicts(projected.get("sources") if isinstance(projected, dict) else None):
            names.add(name_of(p.get(kind)))
    return names - {""}
