"""Three-way line merge that keeps the original text wherever an edit did not reach.

ruamel normalises a few things even with the best settings (``key:   value`` spacing, ``True`` ->
``true``, comment columns, multi-line plain scalars, nested sequences of sequences, a block indented
differently from the rest of the document). So the document is dumped twice with the same
settings, before (``base``) and after (``new``) the edit: base -> new is the edit itself, base ->
original is normalisation. The result applies the edit to the original and keeps the original
everywhere else. Where both touch the same lines the edited lines win, shifted to the original's
indentation when the original merely indented that block differently. The caller verifies that the
result still means ``new`` and falls back to ``new`` when it does not.
"""

from __future__ import annotations

from difflib import SequenceMatcher

#: (base start, base end, replacement lines)
Hunk = tuple[int, int, list[str]]
OURS, THEIRS = "ours", "theirs"


def _hunks(base: list[str], other: list[str]) -> list[Hunk]:
    matcher = SequenceMatcher(None, base, other, autojunk=False)
    hunks: list[Hunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            # line-for-line rewrites (respaced keys, moved comment columns) are independent per
            # line: an edit of one of those lines must not drag its neighbours along
            hunks.extend((i1 + k, i1 + k + 1, [other[j1 + k]]) for k in range(i2 - i1))
        else:
            hunks.append((i1, i2, other[j1:j2]))
    return hunks


def _overlaps(a: Hunk, b: Hunk) -> bool:
    if a[0] == a[1] and b[0] == b[1]:  # two insertions at one place: their order is unknowable
        return a[0] == b[0]
    if a[0] == a[1] or b[0] == b[1]:  # an insertion collides with a hunk it falls strictly inside
        return a[0] < b[0] < a[1] or b[0] < a[0] < b[1]
    return a[0] < b[1] and b[0] < a[1]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _shifts(base: list[str], ours: list[Hunk]) -> dict[int, int]:
    """Base lines the original only re-spaced: base index -> indentation delta (original - base)."""
    shifts: dict[int, int] = {}
    for start, end, lines in ours:
        if end - start == 1 and len(lines) == 1 and lines[0].split() == base[start].split():
            shifts[start] = _indent(lines[0]) - _indent(base[start])
    return shifts


def _shifted(lines: list[str], delta: int) -> list[str] | None:
    out = []
    for line in lines:
        if line.strip() and _indent(line) + delta < 0:
            return None
        out.append(" " * (_indent(line) + delta) + line.lstrip(" ") if line.strip() else line)
    return out


def _anchor_shift(insertion: Hunk, base: list[str], shifts: dict[int, int]) -> int:
    """Shift for lines inserted at a point: that of the closest line above at the same or a lower
    indentation (the sibling or parent they belong with)."""
    lines = [line for line in insertion[2] if line.strip()]
    if not lines:
        return 0
    level = _indent(lines[0])
    for index in range(insertion[0] - 1, -1, -1):
        if base[index].strip() and _indent(base[index]) <= level:
            return shifts.get(index, 0)
    return 0


def _resolve(group: list[tuple[Hunk, str]], base: list[str], shifts: dict[int, int]) -> list[str]:
    """Lines replacing base[start:end] for one group of overlapping hunks."""
    start = group[0][0][0]
    end = max(hunk[1] for hunk, _ in group)
    theirs = [hunk for hunk, side in group if side == THEIRS]
    if len(theirs) == 1:
        # the edit of a line the original indented differently (conflict), or lines inserted
        # after such a line: keep the original's indentation for them
        hunk = theirs[0]
        delta = shifts.get(hunk[0], 0) if hunk[1] > hunk[0] else _anchor_shift(hunk, base, shifts)
        if delta and (len(group) == 1 or all(h[:2] == hunk[:2] for h, _ in group)):
            moved = _shifted(hunk[2], delta)
            if moved is not None:
                return moved
    # one side alone: take it; both: the edit wins (rebuild "new" over [start, end))
    winner = THEIRS if theirs else OURS
    out: list[str] = []
    cursor = start
    for (h_start, h_end, lines), side in group:
        if side == winner:
            out.extend(base[cursor:h_start])
            out.extend(lines)
            cursor = h_end
    out.extend(base[cursor:end])
    return out


def merge3(original: list[str], base: list[str], new: list[str]) -> list[str]:
    """Apply the base -> new change to ``original`` (base -> original being cosmetic)."""
    if original == base:
        return new
    ours = _hunks(base, original)
    shifts = _shifts(base, ours)
    changes = sorted(
        [(h, OURS) for h in ours] + [(h, THEIRS) for h in _hunks(base, new)],
        key=lambda c: (c[0][0], c[0][1]),
    )
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(changes):
        group = [changes[i]]
        i += 1
        while i < len(changes) and any(_overlaps(changes[i][0], g[0]) for g in group):
            group.append(changes[i])
            i += 1
        out.extend(base[pos : group[0][0][0]])
        out.extend(_resolve(group, base, shifts))
        pos = max(hunk[1] for hunk, _ in group)
    out.extend(base[pos:])
    return out
