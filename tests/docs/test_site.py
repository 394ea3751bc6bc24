"""The documentation site builds with `mkdocs build --strict` (broken links and anchors, pages
missing from the nav, bad configuration: all errors), and its links into the repository point at
files that exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import docs

ROOT = docs.ROOT
REPO_LINK = re.compile(
    r"https://github\.com/remediator-dev/remediator/(blob|tree)/main/([^)#\s`'\"]+)")


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "s")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "s" / "quickstart" / "index.html").is_file()


def test_every_page_is_in_the_nav() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s+(\S+\.md)\s*$", config, re.M))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert sorted(pages - listed) == []
    assert sorted(listed - pages) == []


def test_links_into_the_repository_point_at_what_exists() -> None:
    broken = []
    for page in docs.pages():
        text = page.read_text(encoding="utf-8")
        for kind, path in REPO_LINK.findall(text):
            target = ROOT / path
            if not (target.is_dir() if kind == "tree" else target.is_file()):
                broken.append(f"{page.relative_to(ROOT)}: {kind}/main/{path}")
        if page.name == "README.md" and page.parent == ROOT:  # GitHub resolves these
            for path in re.findall(r"\]\((?!https?:|#|mailto:)([^)#\s]+)", text):
                if not (ROOT / path).exists():
                    broken.append(f"README.md: {path}")
    assert broken == []


def test_the_readme_stays_short() -> None:
    # the README is the front door (what it is, the demo, the adoption steps, links); the rest
    # belongs to a page of the site
    assert len((ROOT / "README.md").read_text().splitlines()) <= 170
