"""`promtool` (Debian's `prometheus` package ships it; `.ci/run` installs it): found on the PATH.
Missing on a developer's machine, the test is skipped with how to get it; missing in CI (``CI``
set), the test fails, so a broken install cannot pass silently."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool is not installed (apt-get install prometheus)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def run(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *map(str, args)], input=stdin, capture_output=True,
                          text=True, check=False, timeout=120)
