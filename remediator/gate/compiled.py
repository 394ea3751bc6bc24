"""The built-in policies compiled for regorus's virtual machine (RVM): the fast path of the
embedded engine.

The RVM runs the same Rego about 2.5 times faster than the tree-walking interpreter (the
``policy_eval_ms`` of ``bench/gate.py``), but it is younger and does not yet match the
interpreter everywhere: it does not compile ``with`` or ``print``, answers a conflict between two
values of a complete rule with "undefined" instead of an error (that would fail open), carries
on past an undefined lookup (and may answer "<undefined>"), and stops at 25,000 instructions.
So it runs only the built-in policy packages, whose answers the conformance suite compares with
the interpreter, OPA and the OPA server on every case; a repo's own policies, and any built-in
package a repo's module adds rules to, stay on the interpreter. Any RVM error is not an answer:
the interpreter evaluates that input again.

Compiling takes about 8 ms, the time of five or six interpreted evaluations of a small object.
So the program of the built-in packages ships with the package (``PROGRAM``: regorus's own
serialization, ~65 KB, loaded in about 0.3 ms), written by ``python scripts/policy_analysis.py``
like the modules' summaries (``analysis.SHIPPED``; a test fails when it is stale), with a record
of what it was compiled from (``PROGRAM_RECORD``). It is used only for the very modules (names
and texts, by CRC-32 as there, in the same order), entry points and regorus release it was made
from, and only when its bytes are those it was written with (a changed byte can still read as a
complete program) and regorus deserializes it completely (a partial program, which regorus says
must be recompiled, still runs and can answer empty sets: fail open). Anything else is compiled.
The program does not depend on ``data`` (a test holds that it is the same bytes for any data
document): the data is set on each ``Rvm``. Without a shipped program an engine compiles only
once the interpreter has answered a few evaluations (``policy.COMPILE_AFTER``).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import regorus

from .analysis import GENERATED, digest, read_shipped
from .modules import analyse, regorus_version
from .sources import builtin_sources

if TYPE_CHECKING:
    from ..model import JSON
    from .analysis import JSONish, Module
    from .sources import PolicySource

#: how the RVM renders an undefined value that reached a result
UNDEFINED = "<undefined>"
#: the built-in packages' program (``builtin_program``), and what it was compiled from
PROGRAM = Path(__file__).with_name("builtin_program.bin")
PROGRAM_RECORD = Path(__file__).with_name("builtin_program.json")

#: a shipped program: (its record, its bytes)
Shipped = tuple[dict[str, Any], bytes]


def _overlaps(a: str, b: str) -> bool:
    """True when one dotted package is the other or inside it ("x.y" and "x.y.z")."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def compilable_packages(modules: Sequence[Module], sources: Collection[PolicySource]
                        ) -> tuple[list[PolicySource], list[str]]:
    """(the built-in sources to compile, the evaluated packages the program answers for).

    Nothing when a module that is not built-in declares a package that is, or that contains or
    is inside a built-in one: its rules would change what the built-in package means.
    """
    builtin = [s for s in builtin_sources() if s in sources]
    names = {s.name for s in builtin}
    if any(s.name in names for s in sources if s not in builtin):
        return [], []  # a repo file named like a built-in one: modules cannot be told apart
    ours = {m.package for m in modules if m.file in names}
    theirs = {m.package for m in modules if m.file not in names}
    if not builtin or any(_overlaps(a, b) for a in ours for b in theirs):
        return [], []
    return builtin, sorted({m.package for m in modules if m.file in names and m.evaluated})


def entry_points(packages: Sequence[str]) -> list[str]:
    return [f"data.{p}.deny" for p in packages]


def _made_from(sources: Sequence[PolicySource], packages: Sequence[str], version: str | None
               ) -> JSONish:
    """What a program is made from: the regorus release, the modules (name and checksum of the
    text, in the order they are compiled) and the entry points."""
    return {"regorus": version, "modules": {s.name: digest(s.text) for s in sources},
            "entry_points": entry_points(packages)}


def builtin_program() -> tuple[bytes, str]:
    """(``PROGRAM``, the text of ``PROGRAM_RECORD``) for the bundled policies and the installed
    regorus: the packages ``compilable_packages`` picks for the built-in sources alone, compiled
    without data. ``python scripts/policy_analysis.py`` writes them."""
    version = regorus_version()
    if version is None:
        raise RuntimeError("this regorus does not say its version (opa.runtime())")
    srcs = builtin_sources()
    errors: list[str] = []
    modules = analyse(srcs, errors, shipped={})  # from the modules' own AST
    if errors:
        raise RuntimeError("; ".join(errors))
    builtin, packages = compilable_packages(modules, srcs)
    program = regorus.Program.compile_from_modules(
        "{}", [(s.name, s.text) for s in builtin], entry_points(packages)).serialize_binary()
    record = {"_generated": GENERATED, **_made_from(builtin, packages, version),
              "crc32": digest(program)}
    return program, json.dumps(record, indent=1) + "\n"


@functools.cache
def _shipped() -> Shipped | None:
    record = read_shipped(PROGRAM_RECORD)
    try:
        return record, PROGRAM.read_bytes()
    except OSError:
        return None  # the program is compiled


def shipped_program(sources: Sequence[PolicySource], packages: Sequence[str],
                    shipped: Shipped | None = None) -> bytes | None:
    """The shipped program (``shipped``, by default ``PROGRAM``) when it was compiled from these
    very modules, in this order, for these packages by this regorus release, and its bytes are
    those it was written with; None: compile."""
    shipped = _shipped() if shipped is None else shipped
    version = regorus_version()
    if shipped is None or version is None:
        return None
    record, program = shipped
    wanted = _made_from(sources, packages, version)
    modules = record.get("modules")
    if (not isinstance(modules, dict) or list(modules.items()) != list(wanted["modules"].items())
            or any(record.get(k) != wanted[k] for k in ("regorus", "entry_points"))
            or record.get("crc32") != digest(program)):
        return None
    return program


class CompiledPolicies:
    """An RVM program for the built-in packages, loaded once per thread (``Program`` and ``Rvm``
    are unsendable, like the interpreter's ``Engine``): ``program`` (the shipped one,
    ``shipped_program``) when regorus deserializes it completely, else compiled (about 8 ms).
    ``origin`` says which: "shipped" or "compiled"."""

    def __init__(self, sources: Sequence[PolicySource], packages: Sequence[str], data: JSON,
                 program: bytes | None = None):
        self.packages = list(packages)
        self._modules = [(s.name, s.text) for s in sources]
        self._entry_points = entry_points(self.packages)
        self._data = json.dumps(data)
        self._serialized = program
        self.origin = "compiled" if program is None else "shipped"
        self._local = threading.local()
        self._vm()  # load now: a program that does not compile is not used at all

    def _shipped_vm(self) -> Any:
        """An ``Rvm`` with the shipped program, None when regorus cannot load all of it (what it
        could not read is left empty: a partial program can answer empty sets)."""
        assert self._serialized is not None
        try:
            program, partial = regorus.Program.deserialize_binary(self._serialized)
            if not partial:
                vm = regorus.Rvm()
                vm.load_program(program)
                return vm
        except BaseException as exc:  # a Rust panic (pyo3 PanicException) is a BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
        self._serialized, self.origin = None, "compiled"
        return None

    def _vm(self) -> Any:
        vm = getattr(self._local, "vm", None)
        if vm is None:
            vm = self._shipped_vm() if self._serialized is not None else None
            if vm is None:
                vm = regorus.Rvm()
                vm.load_program(regorus.Program.compile_from_modules(
                    self._data, self._modules, self._entry_points))
            vm.set_data_json(self._data)
            self._local.vm = vm
        return vm

    def denies(self, input_json: str) -> dict[str, Any]:
        """package -> its ``deny`` value for this input; raises when the RVM cannot answer."""
        vm = self._vm()
        vm.set_input_json(input_json)
        out = {}
        for package, entry in zip(self.packages, self._entry_points, strict=True):
            deny = json.loads(vm.execute_entry_point(entry))
            # the built-in rules make sets of message strings; anything else (the RVM's
            # "<undefined>" placeholder above all) means it went where the interpreter would not
            if not isinstance(deny, list) or not all(
                    isinstance(m, str) and m != UNDEFINED for m in deny):
                raise RuntimeError(f"the RVM's answer for {package} is not a set of messages")
            out[package] = deny
        return out

