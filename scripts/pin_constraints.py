"""Write constraints.txt: the exact versions of remediator's runtime dependencies (and theirs)
installed in this Python, for the container image (`pip install -c constraints.txt`).

Run after upgrading dependencies and a green test suite: python scripts/pin_constraints.py
"""

from __future__ import annotations

import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("# Exact versions the image installs (pip -c): the versions the test suite ran with.\n"
          "# Refresh: python scripts/pin_constraints.py\n")


def closure(requirements: list[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    stack = [Requirement(r) for r in requirements]
    while stack:
        req = stack.pop()
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name in seen:
            continue
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            sys.exit(f"{req.name} is not installed here: pip install -e . first")
        seen[name] = dist.version
        stack.extend(Requirement(r) for r in dist.requires or [])
    return seen


def main() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = closure(deps)
    (ROOT / "constraints.txt").write_text(
        HEADER + "".join(f"{k}=={v}\n" for k, v in sorted(pins.items())))
    print(f"constraints.txt: {len(pins)} packages")


if __name__ == "__main__":
    main()
