"""Write constraints.txt: the exact versions of everything remediator installs — the runtime
dependencies, every extra (`llm`, `test`), the build backend and pip itself, with their own
dependencies — as installed in this Python. The README's test command, `.ci/run` and the
container image all install from it (`pip install -c constraints.txt`), so a fresh machine gets
what the suite ran with.

Refresh after a green run on the newest releases (see docs/development/testing.md):
    python -m pip install --upgrade -e '.[test]' hatchling pip && python -m pytest \
      && python scripts/pin_constraints.py
"""

from __future__ import annotations

import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("# Exact versions of the runtime dependencies, the extras (llm, test), the build\n"
          "# backend and pip (and theirs): what the test suite ran with. The README's test\n"
          "# command, .ci/run and the Dockerfile install with -c constraints.txt.\n"
          "# Refresh: python scripts/pin_constraints.py\n")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(requirements: list[str]) -> dict[str, str]:
    """Installed versions of the requirements and of everything they need, transitively,
    following the extras a requirement asks for (`pyjwt[crypto]` brings `cryptography`)."""
    seen: dict[str, str] = {}
    done: set[tuple[str, str]] = set()  # (package, extra) whose requirements were followed
    stack: list[tuple[Requirement, tuple[str, ...]]] = [(Requirement(r), ("",))
                                                       for r in requirements]
    while stack:
        req, asked = stack.pop()  # ``asked``: the extras of the package that requires it
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in asked):
            continue
        name = canonical(req.name)
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            sys.exit(f"{req.name} is not installed here: "
                     "python -m pip install -e '.[test]' hatchling first")
        seen[name] = dist.version
        extras = tuple(e for e in ("", *sorted(req.extras)) if (name, e) not in done)
        if not extras:
            continue
        done.update((name, e) for e in extras)
        stack.extend((Requirement(r), extras) for r in dist.requires or [])
    return seen


def wanted(pyproject: dict) -> list[str]:
    """Everything the project may install: runtime, every extra (an extra that names another,
    `remediator[llm]` in `test`, is already counted by that extra), build backend, pip."""
    project = pyproject["project"]
    extras = [r for reqs in project["optional-dependencies"].values() for r in reqs
              if canonical(Requirement(r).name) != canonical(project["name"])]
    return [*project["dependencies"], *extras, *pyproject["build-system"]["requires"], "pip"]


def main() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = closure(wanted(pyproject))
    (ROOT / "constraints.txt").write_text(
        HEADER + "".join(f"{k}=={v}\n" for k, v in sorted(pins.items())))
    print(f"constraints.txt: {len(pins)} packages")


if __name__ == "__main__":
    main()
