"""Static checks on loaded Rego modules, from the engine's AST (regorus ``get_ast_as_json``).

regorus resolves a function only when evaluation reaches the call, so a call to an unknown
builtin in a branch the current input does not take would be silently skipped. Failing closed
needs the check up front: every call must name a builtin the engine has (``opa.runtime()``
lists them) or a function defined in the loaded modules.

A module's summary (``Module``) is a function of its text and of the regorus release that parses
it, and reading it from the AST costs about 20 ms for the built-in modules (a 1.8 MB JSON dump,
parsed and walked). So the built-in modules' summaries ship with the package (``SHIPPED``,
written by ``python scripts/policy_analysis.py``; a test fails when it is stale), each with the
checksum of the text it summarises: ``shipped_module`` gives one only for a module of that name
and text under that regorus release. The engine asks only for the bundled modules themselves
(``modules.analyse``): any other module (a repository's, a changed copy of a built-in one) is
summarised from its own AST. So the checksum only has to notice a bundled file changed since the
summaries were written (by accident, never by an adversary): CRC-32, as zlib computes it, which
is already loaded (hashlib would load OpenSSL at start for it).
"""

from __future__ import annotations

import functools
import json
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: builtins the engine lists but that cannot do their job here (http.send answers {} offline)
UNSUPPORTED = {"http.send": "makes network calls; the embedded engine answers {} silently"}
#: calls the parser accepts that are not listed as builtins
SPECIAL_CALLS = {"print"}
POLICY_ROOT = "remediator.policies"
#: the built-in modules' summaries (``shipped_data``), prepared once per release
SHIPPED = Path(__file__).with_name("builtin_analysis.json")
#: what a file prepared once per release says of itself (the summaries, ``compiled.PROGRAM``'s
#: record)
GENERATED = ("by python scripts/policy_analysis.py: do not edit by hand (a test fails when it "
             "is stale)")

JSONish = dict[str, Any]


@dataclass
class Module:
    """The static summary of one Rego module: its package, rules, functions, calls and imports."""

    file: str
    package: str  # dotted, without "data."
    rules: set[str] = field(default_factory=set)  # dotted rule names relative to the package
    functions: set[str] = field(default_factory=set)
    calls: list[tuple[str, int]] = field(default_factory=list)  # (dotted name, line)
    imports: dict[str, str] = field(default_factory=dict)  # alias -> dotted path ("data.x.y")

    @property
    def evaluated(self) -> bool:
        return self.package == POLICY_ROOT or self.package.startswith(POLICY_ROOT + ".")

    @property
    def tests(self) -> list[str]:
        return sorted(r for r in self.rules if r.startswith("test_"))


def ref_name(node: Any) -> str | None:
    """Dotted name of a Var/RefDot chain ("a.b.c"); None for anything dynamic."""
    if not isinstance(node, dict):
        return None
    if "Var" in node:
        return str(node["Var"]["value"])
    if "RefDot" in node:
        inner = ref_name(node["RefDot"]["refr"])
        fld = node["RefDot"]["field"]
        name = fld[-1] if isinstance(fld, list) else fld
        return None if inner is None else f"{inner}.{name}"
    if "RefBrack" in node:  # obj[k] := ... : the rule is obj
        return ref_name(node["RefBrack"]["refr"])
    return None


def _calls(node: Any, out: list[tuple[str, int]]) -> None:
    if isinstance(node, dict):
        call = node.get("Call")
        if isinstance(call, dict):
            name = ref_name(call.get("fcn"))
            if name is not None:
                out.append((name, int(call.get("span", {}).get("line", 0))))
        for value in node.values():
            _calls(value, out)
    elif isinstance(node, list):
        for value in node:
            _calls(value, out)


def _rule_head(rule: JSONish) -> tuple[str | None, bool]:
    """(dotted rule name, is a function) of one AST rule."""
    if "Default" in rule:
        return ref_name(rule["Default"].get("refr")), False
    head = rule.get("Spec", {}).get("head", {})
    for kind, body in head.items():
        return ref_name(body.get("refr")), kind == "Func"
    return None, False


def modules(ast: list[JSONish]) -> list[Module]:
    """Summaries of the modules in a regorus AST dump."""
    out = []
    for entry in ast:
        text = entry["source"]["contents"]
        tree = entry["ast"]
        package = ref_name(tree["package"]["refr"]) or ""
        package = package.removeprefix("data.")
        mod = Module(file=entry["source"]["file"], package=package)
        for imp in tree.get("imports", []):
            path = ref_name(imp.get("refr"))
            if path is None or not path.startswith("data."):
                continue  # rego.v1, future.keywords, input
            alias = imp.get("as")
            name = text[alias["start"] : alias["end"]] if alias else path.rsplit(".", 1)[-1]
            mod.imports[name] = path
        for rule in tree.get("rules", []):
            name, is_function = _rule_head(rule)
            if name is not None:
                mod.rules.add(name)
                if is_function:
                    mod.functions.add(name)
        _calls(tree.get("rules", []), mod.calls)
        out.append(mod)
    return out


def digest(text: str | bytes) -> str:
    """The checksum a shipped summary carries of its module's text (and the shipped program of
    its own bytes, ``compiled.PROGRAM``)."""
    return f"{zlib.crc32(text.encode('utf-8') if isinstance(text, str) else text):08x}"


def shipped_data(summaries: Collection[tuple[str, Module]], version: str) -> JSONish:
    """The content of ``SHIPPED``: each (module text, summary) under its file name, for the
    regorus release ``version`` (``opa.runtime()["regorus-version"]``)."""
    return {
        "_generated": GENERATED,
        "regorus": version,
        "modules": {mod.file: {"crc32": digest(text), "package": mod.package,
                               "rules": sorted(mod.rules), "functions": sorted(mod.functions),
                               "calls": [list(c) for c in mod.calls], "imports": mod.imports}
                    for text, mod in summaries},
    }


def read_shipped(path: Path) -> JSONish:
    """A JSON object prepared once per release; {} when it is missing or not one (then what it
    would have given is computed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@functools.cache
def _shipped() -> JSONish:
    return read_shipped(SHIPPED)  # {}: every module is summarised from its AST


def shipped_module(name: str, text: str, version: str | None,
                   data: JSONish | None = None) -> Module | None:
    """The shipped summary of module ``name`` (from ``data``, by default ``SHIPPED``), only when
    it was made from this very ``text`` by this regorus release; None: summarise it from its
    AST."""
    data = _shipped() if data is None else data
    if version is None or data.get("regorus") != version:
        return None
    modules = data.get("modules")
    entry = modules.get(name) if isinstance(modules, dict) else None
    if not isinstance(entry, dict) or entry.get("crc32") != digest(text):
        return None
    try:
        return Module(file=name, package=entry["package"], rules=set(entry["rules"]),
                      functions=set(entry["functions"]),
                      calls=[(str(n), int(line)) for n, line in entry["calls"]],
                      imports=dict(entry["imports"]))
    except (KeyError, TypeError, ValueError):
        return None


def problems(mods: list[Module], builtins: Collection[str],
             conftest_files: Collection[str] = ()) -> list[str]:
    """One line per unknown or unsupported function call, and per ignored deny rule (conftest
    files choose their evaluated packages with namespaces: theirs are not checked for that)."""
    defined = {f"data.{m.package}.{f}" for m in mods for f in m.functions}
    out: list[str] = []
    for mod in mods:
        for name, line in mod.calls:
            where = f"{mod.file}:{line}"
            if name in UNSUPPORTED:
                out.append(f"{where}: builtin {name} is not supported: {UNSUPPORTED[name]}")
                continue
            if name in builtins or name in SPECIAL_CALLS:
                continue
            if _resolve(mod, name) not in defined:
                out.append(f"{where}: unknown function or unsupported builtin {name}")
        if (not mod.evaluated and "deny" in mod.rules and not mod.file.endswith("_test.rego")
                and mod.file not in conftest_files):
            out.append(
                f"{mod.file}: package {mod.package} defines deny but is never evaluated: "
                f"policies must be in a package under {POLICY_ROOT}, or be conftest policies "
                f"(validation.conftest)."
            )
    return sorted(set(out))


def _resolve(mod: Module, name: str) -> str:
    if name.startswith("data."):
        return name
    head, _, rest = name.partition(".")
    if head in mod.imports:
        return f"{mod.imports[head]}.{rest}" if rest else mod.imports[head]
    return f"data.{mod.package}.{name}"
