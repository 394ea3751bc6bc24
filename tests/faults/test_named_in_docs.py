"""The documentation (README and docs/) backs its promises about restarts, leader election and
faults with named tests: every test file and test function it names must exist (a renamed test
must not leave a promise unbacked)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import docs

ROOT = Path(__file__).parent.parent.parent


def test_every_test_the_readme_names_exists():
    readme = docs.text()
    files = set(re.findall(r"\btests/[\w/]+\.py\b", readme))
    names = set(re.findall(r"(?<![\w/.])test_\w+(?![\w.])", readme))
    assert "tests/faults/test_stale_leader.py" in files and names  # the reading still works
    assert sorted(f for f in files if not (ROOT / f).is_file()) == []
    defined = {m for path in (ROOT / "tests").rglob("test_*.py")
               for m in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)}
    assert sorted(names - defined) == []
