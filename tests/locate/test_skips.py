"""One `Skip` family: every reason locate (or one of its helpers) gives up for is a `Skip`,
raised where the reason is known and reported as it was written, with no translation on the
way out (the pipeline catches `Skip` once)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import remediator.locate as locate_pkg
from remediator.locate.argo_helm import ArgoHelmSkip
from remediator.locate.artifacts import ArtifactSkip
from remediator.locate.errors import LocateDiagnosis, LocateSkip, NotInSource
from remediator.locate.helm import HelmSkip
from remediator.locate.source import SourceSkip
from remediator.locate.variables import OnTopSkip
from remediator.model.skip import Skip


@pytest.mark.parametrize("cls", [LocateSkip, LocateDiagnosis, NotInSource, ArtifactSkip,
                                 SourceSkip, OnTopSkip, ArgoHelmSkip, HelmSkip])
def test_every_locate_skip_is_a_skip_of_locate(cls: type[Skip]):
    assert issubclass(cls, LocateSkip) and issubclass(cls, Skip) and cls.stage == "locate"


def test_no_skip_is_caught_only_to_be_raised_again_as_another():
    """`except XSkip as exc: raise LocateSkip(str(exc))` loses the type and adds nothing (a
    render error becoming a skip is a translation, and stays)."""
    package = Path(locate_pkg.__file__).parent
    found = []
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and len(node.body) == 1 \
                    and isinstance(node.body[0], ast.Raise) and node.body[0].exc is not None \
                    and node.type is not None and "Skip" in ast.unparse(node.type):
                raised = ast.unparse(node.body[0].exc)
                if raised.endswith(f"({node.name})") or raised.endswith(f"(str({node.name}))"):
                    found.append(f"{path.name}:{node.lineno}: {raised}")
    assert found == []
