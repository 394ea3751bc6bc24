"""The bundled example repository's full `validate` fails on purpose, and says so: exactly the
violations its README lists, each on a line marked `# on purpose`; nothing else."""

from __future__ import annotations

import json

from remediator.cli.demo import example_paths
from tests.support.cli import cli

EXAMPLE, _ = example_paths()
ON_PURPOSE = "apps/search/statefulset.yaml"


def test_the_example_fails_validate_only_where_it_says_it_does_on_purpose():
    out = cli("validate", "--repo", str(EXAMPLE), "--format", "json")
    assert out.returncode == 1  # violations
    report = json.loads(out.stdout)
    errors = [f for f in report["findings"] if f["severity"] != "note"]
    assert report["summary"]["errors"] == len(errors) == 2
    lines = (EXAMPLE / ON_PURPOSE).read_text().splitlines()
    for f in errors:
        assert f["file"] == ON_PURPOSE and f["rule"] == "policy/resources", f
        assert "# on purpose" in lines[f["line"] - 1], f  # the flagged line says it
    readme = (EXAMPLE / "README.md").read_text()
    section = readme[readme.index("## Validating it: two errors, on purpose"):]
    assert "remediator validate --repo gitops-repo-example" in section
    assert ON_PURPOSE in section and "exit code 1" in section


def test_everything_else_in_the_example_passes():
    folders = sorted(p.name for p in EXAMPLE.iterdir()
                     if p.is_dir() and not p.name.startswith(".") and p.name != "demo-snapshot")
    paths = [str(EXAMPLE / f) for f in folders if f != "apps"]
    paths += [str(p) for p in sorted((EXAMPLE / "apps").iterdir()) if p.name != "search"]
    out = cli("validate", "--repo", str(EXAMPLE), *paths)
    assert out.returncode == 0, out.stdout + out.stderr
