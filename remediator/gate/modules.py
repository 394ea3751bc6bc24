"""Reading Rego modules with regorus: what this regorus build has (builtins, release), a module
loaded in the dialect it is written in, a parse error as one line, and each module's static
summary (``analysis``), shipped for the bundled modules or read from the module's own AST.

Apart from ``policy`` (the engine that evaluates) because the script that writes the shipped
summaries (``scripts/policy_analysis.py``) and its drift test need only this part.
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

import regorus

from . import analysis, conftest
from .sources import builtin_sources

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .sources import PolicySource


def one_line(exc: BaseException) -> str:
    """A regorus error as "file:line:col: message" (it comes with a code frame and a backtrace)."""
    text = str(exc).split("Stack backtrace:")[0]
    where = re.search(r"-->\s*(\S+?:\d+:\d+)", text)
    found = [m.strip() for m in re.findall(r"^error:(.*)$", text, re.MULTILINE) if m.strip()]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    message = found[0] if found else (lines[-1] if lines else type(exc).__name__)
    return f"{where.group(1)}: {message}" if where else message


@functools.cache
def _runtime() -> dict[str, Any]:
    value = regorus.Engine().eval_query("opa.runtime()")["result"][0]["expressions"][0]["value"]
    return value if isinstance(value, dict) else {}


def regorus_builtins() -> frozenset[str]:
    """Names of the builtins this regorus build has (the static check compares calls to them)."""
    return frozenset(_runtime().get("builtins", []))


def regorus_version() -> str | None:
    """The release of regorus that parses the policies (the shipped analysis is for one)."""
    version = _runtime().get("regorus-version")
    return version if isinstance(version, str) else None


def _shipped_summary(src: PolicySource, version: str | None,
                     shipped: analysis.JSONish | None = None) -> analysis.Module | None:
    bundled = src in builtin_sources(include_tests=True)  # the tests and the others
    return analysis.shipped_module(src.name, src.text, version, shipped) if bundled else None


def shipped_summaries(sources: Sequence[PolicySource]) -> list[analysis.Module] | None:
    """Every module's shipped summary (``analyse``), or None when one has none. Each was read
    from the module's own AST under this regorus release: a module that has one parses."""
    version = regorus_version()
    out = []
    for src in sources:
        known = _shipped_summary(src, version)
        if known is None:
            return None
        out.append(known)
    return out


def analyse(sources: Sequence[PolicySource], errors: list[str],
            shipped: analysis.JSONish | None = None) -> list[analysis.Module]:
    """The summary of each module, in order: shipped for a bundled module (``analysis.SHIPPED``,
    or ``shipped``) when its text and the regorus release are those it was made from, else read
    from the module's own AST (every other module: a repository's, one named like a built-in
    one). ``sources`` are those the engine loaded: one that no longer parses on its own is an
    error (it would go unchecked)."""
    version = regorus_version()
    out = []
    for src in sources:
        known = _shipped_summary(src, version, shipped)
        if known is not None:
            out.append(known)
            continue
        engine = regorus.Engine()
        try:
            add_policy(engine, src)
        except RuntimeError as exc:
            errors.append(f"policy error: {one_line(exc)}")
            continue
        out += analysis.modules(json.loads(engine.get_ast_as_json()))
    return out


def builtin_analysis() -> str:
    """The text of ``analysis.SHIPPED`` for the bundled policies and the installed regorus (every
    module read from its AST): ``python scripts/policy_analysis.py`` writes it."""
    version = regorus_version()
    if version is None:
        raise RuntimeError("this regorus does not say its version (opa.runtime())")
    srcs = builtin_sources(include_tests=True)
    errors: list[str] = []
    summaries = analyse(srcs, errors, shipped={})
    if errors:
        raise RuntimeError("; ".join(errors))
    data = analysis.shipped_data(list(zip((s.text for s in srcs), summaries, strict=True)),
                                 version)
    # one line per field of a module: a change to a policy shows as a readable diff
    modules = ",\n".join(
        f"  {json.dumps(name)}: {{\n" + ",\n".join(
            f"   {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in entry.items())
        + "\n  }" for name, entry in data.pop("modules").items())
    head = "".join(f" {json.dumps(k)}: {json.dumps(v)},\n" for k, v in data.items())
    return f'{{\n{head} "modules": {{\n{modules}\n }}\n}}\n'


def add_policy(engine: Any, src: PolicySource) -> None:
    """Load one module; a conftest file that v1 refuses is read as v0 Rego (as conftest before
    v0.56 did). Raises RuntimeError with the error of the dialect the file is written in."""
    try:
        engine.add_policy(src.name, src.text)
        return
    except RuntimeError as exc:
        if not src.conftest:
            raise
        first = exc
    engine.set_rego_v0(True)
    try:
        engine.add_policy(src.name, src.text)
    except RuntimeError as exc:
        raise (exc if any(h in str(first) for h in conftest.V0_HINTS) else first) from None
    finally:
        engine.set_rego_v0(False)
