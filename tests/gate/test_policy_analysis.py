"""The static analysis of the loaded modules (unknown builtins, ignored deny rules) and the
summaries of the built-in modules shipped with the package (``analysis.SHIPPED``), used only for
the very texts and regorus release they were made from (real regorus throughout)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import regorus

from remediator import gate
from remediator.config import Validation
from remediator.gate import analysis, modules, policy, sources
from tests.support.edits import write
from tests.support.policies import deployment

BUILTIN = sources.builtin_sources(include_tests=True)


def whole_ast(srcs: list[sources.PolicySource]) -> list[analysis.Module]:
    """The summaries as the engine read them before the shipped data: one engine with every
    module, its whole AST dumped and walked."""
    engine = regorus.Engine()
    for src in srcs:
        modules.add_policy(engine, src)
    return analysis.modules(json.loads(engine.get_ast_as_json()))


def analysed(srcs: list[sources.PolicySource], shipped: Any = None) -> list[analysis.Module]:
    errors: list[str] = []
    mods = modules.analyse(srcs, errors, shipped)
    assert errors == []
    return mods


def test_the_shipped_analysis_is_up_to_date():
    shipped = analysis.SHIPPED.read_text(encoding="utf-8")
    assert shipped == modules.builtin_analysis(), "run: python scripts/policy_analysis.py"
    assert set(json.loads(shipped)["modules"]) == {s.name for s in BUILTIN}


def test_the_shipped_summaries_are_those_of_the_ast():
    srcs = list(BUILTIN)
    assert all(analysis.shipped_module(s.name, s.text, modules.regorus_version()) for s in srcs)
    assert analysed(srcs) == whole_ast(srcs)
    assert analysed(srcs, shipped={}) == whole_ast(srcs)  # nothing shipped: all from the AST


REPO = [
    sources.PolicySource("policy/images.rego", "package remediator.policies.images\n"
                         'import rego.v1\ndeny contains "acme" if input.after.kind == "X"\n'),
    sources.PolicySource("policy/lib.rego", "package acme.lib\nimport rego.v1\n"
                         "twice(x) := 2 * x\n"),
    sources.PolicySource("policy/owner.rego", "package remediator.policies.acme\nimport rego.v1\n"
                         "import data.acme.lib as helpers\n"
                         'deny contains msg if {\n\tmsg := sprintf("%d", [helpers.twice(1)])\n}\n'),
    sources.PolicySource("ct/main.rego", "package main\ndeny[msg] {\n\tmsg := \"v0\"\n}\n",
                         conftest=True),
]


def test_repository_modules_next_to_the_shipped_ones_read_as_from_one_engine():
    srcs = [*sources.builtin_sources(), *REPO]
    assert analysed(srcs) == whole_ast(srcs)
    assert [m.file for m in analysed(srcs)] == [s.name for s in srcs]


def _marked(name: str, text: str, version: str | None = None) -> dict[str, Any]:
    """Shipped data whose summary of ``name`` (made from ``text``) is recognisable."""
    return {"regorus": version or modules.regorus_version(), "modules": {name: {
        "crc32": analysis.digest(text), "package": "marked", "rules": [], "functions": [],
        "calls": [], "imports": {}}}}


def packages(srcs: list[sources.PolicySource], shipped: Any) -> list[str]:
    return [m.package for m in analysed(srcs, shipped)]


def test_a_shipped_summary_is_used_only_for_its_bundled_module_text_and_regorus_release():
    (images,) = [s for s in BUILTIN if s.name == "builtin/images.rego"]
    assert packages([images], _marked(images.name, images.text)) == ["marked"]
    real = ["remediator.policies.images"]
    # the bundled file changed since the data was written, or another regorus reads it
    assert packages([images], _marked(images.name, images.text + "\n")) == real
    assert packages([images], _marked(images.name, images.text, "0.0.1")) == real
    # not the bundled module: a changed text under its name (even with data made from that
    # text), the same text under another name or as a conftest file
    changed = sources.PolicySource(images.name, images.text + "\nextra := 1\n")
    copy = sources.PolicySource("policy/images.rego", images.text)
    as_conftest = sources.PolicySource(images.name, images.text, conftest=True)
    for src in (changed, copy, as_conftest):
        assert packages([src], _marked(src.name, src.text)) == real, src
    mod = analysed([changed])[0]
    assert "extra" in mod.rules and mod == whole_ast([changed])[0]


UNKNOWN_CALL = '\nunreached if {\n\tinput.after.kind == "NeverThisKind"\n\tnope.call(1)\n}\n'


def test_a_repo_file_that_changes_a_builtin_module_is_analysed_from_its_text(tmp_path: Path):
    """A repository file named like a built-in module (its text changed) and one adding to a
    built-in package: the call to an unknown function each makes, in a branch no input takes,
    is found only by reading their own text."""
    (images,) = [s for s in BUILTIN if s.name == "builtin/images.rego"]
    write(tmp_path, "builtin/images.rego", images.text + UNKNOWN_CALL)
    write(tmp_path, "policy/resources.rego", "package remediator.policies.resources\n"
          "import rego.v1\n" + UNKNOWN_CALL)
    engine = gate.policy_engine(Validation(policies=["builtin", "policy"]), tmp_path)
    lines = len(images.text.splitlines())
    assert engine.errors == [
        f"policy error: builtin/images.rego:{lines + 4}: unknown function or unsupported "
        "builtin nope.call",
        "policy error: policy/resources.rego:6: unknown function or unsupported builtin "
        "nope.call",
    ]
    result = gate.check_policy(engine, None, deployment())
    assert not result.passed and result.messages[:2] == engine.errors


def test_a_module_that_does_not_parse_is_reported_once_and_not_analysed():
    broken = sources.PolicySource("policy/broken.rego", "package remediator.policies.b\n"
                                  "deny contains msg if {\n")
    engine = policy.RegorusEngine([*sources.builtin_sources(), broken], {}, sandbox=False)
    assert len(engine.errors) == 1 and engine.errors[0].startswith("policy error: policy/broken")
    assert "policy/broken.rego" not in {m.file for m in engine.modules}


def test_only_the_builtin_modules_and_their_tests_run_outside_the_sandbox():
    assert policy.RegorusEngine(sources.builtin_sources(), {}).sandbox is None
    assert policy.RegorusEngine(BUILTIN, {}).sandbox is None
    engine = policy.RegorusEngine([*sources.builtin_sources(), REPO[1]], {})
    assert engine.sandbox is not None
    engine.sandbox.close()
