"""Rego policy evaluation: the embedded engine (regorus); the interface every engine answers
through is in ``answers``.

Policies are the built-in set (``policies/`` of this project) plus the repo's own files
(``validation.policies``: repo-relative ``.rego`` files or folders; ``*_test.rego`` files are only
loaded to run tests). Every package under ``remediator.policies.`` is evaluated and its ``deny``
set is the list of violations; other packages are libraries. A repo's conftest policies
(``validation.conftest``) are evaluated the way conftest does it (``conftest``): the object as
``input``, ``deny``/``violation``/``warn`` rules in the selected namespaces.

Everything that stops us from knowing the answer fails closed: a file that does not parse, a call
to a function or builtin the engine does not have, a runtime error. Each becomes a one-line error
naming the file (and the builtin) that the check reports as a failure.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import regorus

from . import analysis, conftest
from .answers import Evaluation, PolicyTest, add_conftest, deny_messages, lookup, rule_id
from .compiled import CompiledPolicies, compilable_packages, shipped_program
from .modules import add_policy, analyse, one_line, regorus_builtins, shipped_summaries
from .sandbox import PolicySandbox
from .sources import builtin_sources

if TYPE_CHECKING:
    from ..model import JSON
    from .coverage import Coverage
    from .sources import PolicySource

QUERY = "data." + analysis.POLICY_ROOT
#: evaluations of an engine (``embedded_engine``) the interpreter answers before the built-in
#: packages are compiled for the RVM, when the shipped program cannot be used (``compiled``):
#: compiling takes about 8 ms, the time of five or six interpreted evaluations of a small object
#: (~1.5 ms), and each compiled one then saves about 1.2 ms. `validate` of a file judges one or a
#: few objects; a plan, a CI run or the service many.
COMPILE_AFTER = 6


class RegorusEngine:
    """The embedded engine: policies parsed and checked once, cloned for each evaluation.

    The built-in packages run compiled on regorus's virtual machine (``compiled``) unless
    ``compiled=False``; the repo's own packages, and every package when an RVM run fails, on the
    interpreter. The program shipped with the package is loaded when the engine is made, when it
    is the program of these built-in modules; any other is compiled then, or with
    ``compile_after=N`` at the evaluation that follows the first N (``embedded_engine``:
    ``COMPILE_AFTER``): the interpreter answers those, as it answers any input the RVM cannot.

    A regorus ``Engine`` is "unsendable": using one from another thread than the one that made
    it panics. So each thread builds its own base engine from the same sources on first use;
    the engine's own thread builds it when the engine is made (its parse errors are the
    engine's), unless every module is a bundled one with a shipped summary, so known to parse:
    then the shipped program may answer every evaluation (``validate`` of a file with the
    built-in policies) and no thread builds one before something needs the interpreter.

    When a source is not built-in (the repository's own policies), the interpreter's
    evaluations run in a ``PolicySandbox``: a child process with a memory limit and a deadline
    (``sandbox`` passes one, e.g. with other limits; ``sandbox=False`` evaluates in process).
    """

    name = "regorus"

    def __init__(self, sources: Sequence[PolicySource], data: JSON, errors: Sequence[str] = (),
                 *, compiled: bool = True, compile_after: int = 0,
                 namespaces: conftest.Namespaces = conftest.MAIN,
                 sandbox: PolicySandbox | bool | None = None):
        self._sources = list(sources)
        self._data = data
        self._local = threading.local()
        self.errors = list(errors)
        if sandbox is None:
            trusted = builtin_sources()
            if any(s not in trusted for s in self._sources):  # the tests are read only then
                trusted = builtin_sources(include_tests=True)
            sandbox = any(s not in trusted for s in self._sources)
        self.sandbox = PolicySandbox(self._sources, data) if sandbox is True else sandbox or None
        # a module with a shipped summary is a bundled one known to parse under this regorus:
        # when every module is, the base engine waits for its first use (``_base``); the shipped
        # program may answer every evaluation
        known = shipped_summaries(self._sources)
        self._lazy = known is not None
        if known is None:
            loaded: list[PolicySource] = []
            self._base(self.errors, loaded)  # which modules parse, and why the others do not
            known = analyse(loaded, self.errors)
        self.modules = known
        conftest_files = {s.name for s in self._sources if s.conftest}
        problems = analysis.problems(self.modules, regorus_builtins(), conftest_files)
        self.errors += [f"policy error: {p}" for p in problems]
        theirs = [m for m in self.modules if m.file not in conftest_files]
        self.packages = sorted({m.package for m in theirs if m.evaluated})
        #: the conftest namespaces evaluated (packages of the conftest files, as selected)
        declared = {m.package for m in self.modules if m.file in conftest_files
                    and not m.file.endswith("_test.rego")}
        self.conftest_packages = namespaces.select(declared)
        self.errors += namespaces.errors(declared)
        #: the compiled built-in packages, or None and why not (``interpreted``)
        self.compiled: CompiledPolicies | None = None
        self.interpreted = "compiled=False"
        #: what is compiled after ``compile_after`` evaluations (None: nothing left to compile):
        #: sources, packages, the shipped program
        self._pending: tuple[list[PolicySource], list[str], bytes | None] | None = None
        self._compile_after = compile_after
        self._evaluations = 0
        self._lock = threading.Lock()
        if compiled:
            builtin, packages = compilable_packages(self.modules, self._sources)
            if not packages:
                self.interpreted = "no built-in policy package apart from the repo's own modules"
            else:
                program = shipped_program(builtin, packages)
                self._pending = builtin, packages, program
                if program is not None:  # it loads in ~0.3 ms: the RVM answers from the first
                    self._compile_after = 0
                self.interpreted = (f"not compiled yet: the interpreter answers the first "
                                    f"{self._compile_after} evaluations")
                if self._compile_after <= 0:
                    self._program()

    def _program(self) -> CompiledPolicies | None:
        """The compiled program that answers this evaluation (None: the interpreter does),
        compiled once ``compile_after`` evaluations have been answered without it."""
        if self._pending is not None:
            with self._lock:
                if self._pending is None:
                    pass  # another thread compiled it meanwhile
                elif self._evaluations < self._compile_after:
                    self._evaluations += 1
                else:
                    builtin, packages, program = self._pending
                    self._pending = None
                    self.compiled, self.interpreted = self._compile(builtin, packages, program)
        return self.compiled

    def _compile(self, builtin: list[PolicySource], packages: list[str], program: bytes | None
                 ) -> tuple[CompiledPolicies | None, str]:
        try:
            return CompiledPolicies(builtin, packages, self._data, program), ""
        except BaseException as exc:  # a Rust panic (pyo3 PanicException) is a BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return None, f"the built-in policies do not compile for the RVM: {one_line(exc)}"

    def _base(self, errors: list[str] | None = None, loaded: list[PolicySource] | None = None
              ) -> Any:
        """This thread's engine with the policies and data loaded (parse errors go to
        ``errors``, the sources that loaded to ``loaded``). Raises RuntimeError when a module
        known to parse (``_lazy``) does not: nothing else would report it."""
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = regorus.Engine()
            engine.set_gather_prints(True)  # print() in a policy must not reach our stdout
            for src in self._sources:
                try:
                    add_policy(engine, src)
                except RuntimeError as exc:
                    if errors is not None:
                        errors.append(f"policy error: {one_line(exc)}")
                    elif self._lazy:
                        raise RuntimeError(f"policy error: {one_line(exc)}") from None
                    continue  # reported when the engine was made (in its first thread)
                if loaded is not None:
                    loaded.append(src)
            engine.add_data(self._data)
            # the first query prepares the loaded modules; clones made after it inherit that
            # work (about 0.6 ms per evaluation with the built-in policies)
            engine.eval_query("true")
            self._local.engine = engine
        return engine

    @property
    def interpreter_ready(self) -> bool:
        """Whether this thread's interpreter engine is built (``_base``)."""
        return getattr(self._local, "engine", None) is not None

    def query(self, query: str, input: JSON | None = None) -> Any:
        """The value of one Rego expression (None when undefined); raises RuntimeError."""
        engine = self._base().clone()
        if input is not None:
            engine.set_input(input)
        return self._query(engine, query, input)

    def _query(self, engine: Any, query: str, input: JSON | None = None) -> Any:
        """``query``'s value on ``engine`` (with its input set), or in the sandbox with
        ``input`` when there is one (``engine`` is then unused)."""
        if self.sandbox is None:
            return _in_process(engine, query)
        result = self.sandbox.query(query, input)  # none: undefined
        return result[0]["expressions"][0]["value"] if result else None

    def evaluate(self, input: JSON) -> Evaluation:
        out = Evaluation(errors=list(self.errors))
        denies = self._compiled_denies(input)
        rest = [p for p in self.packages if p not in denies]
        if rest:
            denies.update(self._interpreted_denies(input, rest, out.errors))
        for package, deny in denies.items():
            messages, errors = deny_messages(package, deny)
            out.violations += messages
            out.errors += errors
            for message in messages:
                out.rules.setdefault(message, rule_id(package))
        if self.conftest_packages:
            self._conftest(input, out)
        out.errors = list(dict.fromkeys(out.errors))  # a library error shows in every package
        return out

    def _conftest(self, input: JSON, out: Evaluation) -> None:
        """conftest's namespaces, with the object being judged as ``input``."""
        engine = self._base().clone()
        engine.set_input(input.get("after"))
        for namespace in self.conftest_packages:
            try:
                document = self._query(engine, f"data.{namespace}", input.get("after"))
            except RuntimeError as exc:
                out.errors.append(f"policy error: {one_line(exc)}")
                continue
            add_conftest(out, namespace, document)

    def _compiled_denies(self, input: JSON) -> dict[str, Any]:
        """The built-in packages' deny values from the RVM; {} when it cannot answer."""
        program = self._program()
        if program is None:
            return {}
        try:
            return program.denies(json.dumps(input))
        except BaseException as exc:  # a Rust panic (pyo3 PanicException) is a BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return {}  # not an answer: the interpreter evaluates this input again

    def _interpreted_denies(self, input: JSON, packages: list[str], errors: list[str]
                            ) -> dict[str, Any]:
        engine = None
        if self.sandbox is None:
            try:
                engine = self._base().clone()
            except RuntimeError as exc:  # a built-in module does not parse after all (_base)
                errors.append(str(exc))
                return {}
            engine.set_input(input)
        if len(packages) == len(self.packages):
            try:  # one query: rules the packages share (k8s.after_containers) evaluate once
                tree = self._query(engine, QUERY, input) or {}
                return {p: lookup(tree, p) for p in packages}
            except RuntimeError as exc:  # find which package failed; still report the others
                if self.sandbox is not None and "stopped" in str(exc):
                    # out of memory or time: asking each package again would take as long
                    errors.append(f"policy error: {one_line(exc)}")
                    return {}
        denies = {}
        for package in packages:
            try:
                denies[package] = self._query(engine, f"data.{package}.deny", input)
            except RuntimeError as exc:
                errors.append(f"policy error: {one_line(exc)}")
        return denies

    def _test_value(self, name: str, coverage: Coverage | None) -> Any:
        """The value of test rule ``name``; with ``coverage``, the lines it evaluated are
        merged into it. A repository's tests run in the sandbox, with coverage or without
        (`policy test --coverage` evaluates the same untrusted Rego as the gate)."""
        if coverage is None:
            return self._query(self._base().clone(), name)
        if self.sandbox is not None:
            result, report, error = self.sandbox.covered(name, None)
            if report is not None:
                coverage.add(report)
            if error:
                raise RuntimeError(error)
            return result[0]["expressions"][0]["value"] if result else None
        engine = self._base().clone()
        engine.set_enable_coverage(True)
        try:
            return _in_process(engine, name)
        finally:
            coverage.add(engine.get_coverage_report_as_json())

    def run_tests(self, coverage: Coverage | None = None) -> list[PolicyTest]:
        """Every ``test_`` rule of every loaded module (OPA semantics: defined and not false);
        with ``coverage``, the lines the tests evaluated are merged into it."""
        results = [PolicyTest("(load)", False, e) for e in self.errors]
        seen = set()
        for module in self.modules:
            for rule in module.tests:
                name = f"data.{module.package}.{rule}"
                if name in seen:
                    continue
                seen.add(name)
                try:
                    value = self._test_value(name, coverage)
                except RuntimeError as exc:
                    results.append(PolicyTest(name, False, one_line(exc)))
                    continue
                if value is None:
                    results.append(PolicyTest(name, False, "undefined: a condition did not hold"))
                elif value is False:
                    results.append(PolicyTest(name, False, "false"))
                else:
                    results.append(PolicyTest(name, True, ""))
        return results


def _in_process(engine: Any, query: str) -> Any:
    result = json.loads(engine.eval_query_as_json(query)).get("result")  # none: undefined
    return result[0]["expressions"][0]["value"] if result else None


@functools.lru_cache(maxsize=16)
def _cached_engine(
    sources: tuple[PolicySource, ...], data: str, errors: tuple[str, ...],
    namespaces: conftest.Namespaces,
) -> RegorusEngine:
    return RegorusEngine(sources, json.loads(data), errors, namespaces=namespaces,
                         compile_after=COMPILE_AFTER)


def embedded_engine(
    sources: Sequence[PolicySource], data: JSON, errors: Sequence[str] = (),
    namespaces: conftest.Namespaces = conftest.MAIN,
) -> RegorusEngine:
    """An engine for these sources and data, reused while they stay the same; its built-in
    packages run the shipped RVM program, or are compiled for the RVM once it has answered
    ``COMPILE_AFTER`` evaluations."""
    return _cached_engine(tuple(sources), json.dumps(data, sort_keys=True), tuple(errors),
                          namespaces)
