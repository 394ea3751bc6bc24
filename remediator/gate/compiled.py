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

Compiling takes about 8 ms, the time of five or six interpreted evaluations of a small object:
an engine compiles its program only once the interpreter has answered a few evaluations
(``policy.COMPILE_AFTER``), so `validate` of one file does not pay for it, a plan does once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import regorus

from .sources import builtin_sources

if TYPE_CHECKING:
    from ..model import JSON
    from .analysis import Module
    from .sources import PolicySource

#: how the RVM renders an undefined value that reached a result
UNDEFINED = "<undefined>"


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


class CompiledPolicies:
    """An RVM program for the built-in packages, compiled once per thread (``Program`` and
    ``Rvm`` are unsendable, like the interpreter's ``Engine``: about 5 ms each)."""

    def __init__(self, sources: Sequence[PolicySource], packages: Sequence[str], data: JSON):
        self.packages = list(packages)
        self._modules = [(s.name, s.text) for s in sources]
        self._entry_points = [f"data.{p}.deny" for p in self.packages]
        self._data = json.dumps(data)
        self._local = threading.local()
        self._vm()  # compile now: a program that does not compile is not used at all

    def _vm(self) -> Any:
        vm = getattr(self._local, "vm", None)
        if vm is None:
            program = regorus.Program.compile_from_modules(self._data, self._modules,
                                                           self._entry_points)
            vm = regorus.Rvm()
            vm.load_program(program)
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

