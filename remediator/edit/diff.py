"""Unified diffs the way ``git diff`` prints them (a/ b/ prefixes, /dev/null for new files)."""

from __future__ import annotations

import difflib

NO_NEWLINE = "\\ No newline at end of file\n"


def split_lines(text: str) -> list[str]:
    """Lines with their "\n" kept; unlike ``str.splitlines`` only "\n" ends a line (as in YAML
    and git), never "\x85", "\u2028" or a form feed inside a value."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_diff(path: str, old_text: str, new_text: str, *, new_file: bool = False) -> str:
    """Unified diff with 3 lines of context; "" when nothing changed."""
    if old_text == new_text and not new_file:
        return ""
    lines = difflib.unified_diff(
        split_lines(old_text),
        split_lines(new_text),
        fromfile="/dev/null" if new_file else f"a/{path}",
        tofile=f"b/{path}",
        n=3,
    )
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:  # the last line of a side without a final newline (difflib leaves it bare)
            out.append(line + "\n" + NO_NEWLINE)
    return "".join(out)
