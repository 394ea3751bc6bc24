"""Remediations merged earlier into this repository, as short examples for the model.

A merged remediation PR leaves its commit in the branch's history with the bot's trailer
(`Remediator-Signature: <cluster>/<namespace>/<kind>/<name>/<class>/<container>/<detail>`, as the
forge writes it): the history itself says which fixes of a class reviewers accepted. Each example
is the commit's title and its changed lines, redacted, a few lines long. PRs closed without
merging leave nothing in the history: their hidden records (read by the service from the forge)
are the counter-examples, changes reviewers did not want.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ...kernel import gitio
from ...kernel.redact import redact
from ...model import SIGNATURE_TRAILER, Incident

MAX_COMMITS = 200
MAX_EXAMPLES = 2
MAX_LINES = 10


def _signature_class(message: str) -> str:
    for line in message.splitlines():
        if line.startswith(SIGNATURE_TRAILER):
            return Incident.class_of_signature(line[len(SIGNATURE_TRAILER):])
    return ""


def merged_examples(repo_root: Path, failure_class: str) -> list[str]:
    """Up to MAX_EXAMPLES examples of merged fixes for ``failure_class``, newest first."""
    if not (repo_root / ".git").exists():  # not a checkout (git would ask a folder above)
        return []
    try:  # git processes within the deadline, never GitPython's Repo() or object reads
        head = gitio.run(repo_root, "rev_parse", "--verify", "HEAD").strip()  # ids only
    except (gitio.GitError, ValueError):
        return []  # a repository without commits, or one git cannot read in time
    return list(_examples_at(str(repo_root), head, failure_class))


@functools.lru_cache(maxsize=32)
def _examples_at(repo_root: str, head: str, failure_class: str) -> tuple[str, ...]:
    """The examples as of commit ``head``: a pass drafts many incidents of one class against
    the same history, which is read (up to MAX_COMMITS commits and their diffs) once."""
    try:
        return _from_history(repo_root, gitio.commits(repo_root, head, max_count=MAX_COMMITS),
                             failure_class)
    except (gitio.GitError, ValueError):
        return ()


def _from_history(repo: str, commits: list[gitio.Commit], failure_class: str
                  ) -> tuple[str, ...]:
    out: list[str] = []
    for commit in commits:
        message = str(commit.message)
        if _signature_class(message) != failure_class or not commit.parents:
            continue
        lines = _changed_lines(gitio.diff(repo, commit.parents[0], commit.hexsha))
        if len(lines) < 2:
            continue
        text = "\n".join([message.splitlines()[0][:200], *lines[:MAX_LINES]])
        out.append(redact(text)[0])
        if len(out) == MAX_EXAMPLES:
            break
    return tuple(out)


def _changed_lines(patch: str) -> list[str]:
    """``path:`` per file, each followed by the patch's added and removed lines."""
    lines: list[str] = []
    for ln in patch.splitlines():
        if ln.startswith("diff --git "):
            lines.append(ln.rpartition(" b/")[2] + ":")
        elif ln[:1] in "+-" and not ln.startswith(("+++", "---")):
            lines.append(ln)
    return lines


def closed_examples(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Counter-examples per failure class from the hidden records of PRs closed unmerged."""
    out: dict[str, list[str]] = {}
    for rec in records:
        cls, changes = str(rec.get("class", "")), rec.get("changes")
        if not cls or not isinstance(changes, list) or len(out.get(cls, [])) >= MAX_EXAMPLES:
            continue
        lines = [f"{c.get('file')}: {c.get('field')}: {json.dumps(c.get('old'))[:120]} -> "
                 f"{json.dumps(c.get('new'))[:120]}" for c in changes[:3] if isinstance(c, dict)]
        if lines:
            out.setdefault(cls, []).append(redact("\n".join(lines))[0])
    return out
