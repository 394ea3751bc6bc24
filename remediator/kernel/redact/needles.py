"""The needles of a regular expression, for the redactor's prefilter (`lazy.LazyRegex`).

Needles are lowercase ASCII strings such that every text the expression can match in contains
at least one of them once lowercased (gitleaks' `keywords`, the literal prefilters of RE2 and
Hyperscan): a text that contains none cannot match, and the expression is neither compiled nor
run on it. No needles, `()`, means the expression always runs.

They are derived from the parse tree `re.compile` builds (`re._parser`) by an analysis that may
find too few needles (then the expression runs more often than it must), never wrong ones. Each
node yields the strings it consumes when they are few (`exact`, at most `MAX_EXACT`), else what
it starts and ends with, and its needles (or none):
- a literal is its lowercased character; a non-ASCII one is no literal (under IGNORECASE `ſ`
  matches `s` and the Kelvin sign `k`); a class of literals only (`[rs]`, and `(?:r|s)`, which
  parses to one) is its characters; other classes, `.`, `\\d`, back-references: nothing known;
- a sequence concatenates its elements' exact strings into runs: `(?:r|s)k_live_` gives
  `rk_live_` and `sk_live_`. Anchors and lookarounds consume the empty string, so they do not
  cut a run (the characters on either side of one are adjacent in the text). Any other element
  cuts it: what that element starts with ends the run, what it ends with starts the next one
  (`ghp_|gho_` parses as `g` then `hp_|ho_`, and gives `ghp_` and `gho_`). Its needles are the
  most selective of its runs' and its elements' (the longest shortest needle, then the fewest),
  each of which is in every match;
- an alternation's are the union of its branches' (a branch with none: none);
- a repeat's are its child's when it occurs at least once; none when it may not occur;
- a positive lookaround's are its content's (what it asserts is text); a negative one's: none.
A needle that contains another is dropped: the shorter is in every text the longer is in.

Lowercasing is sound for case-sensitive expressions too (a superset test), but only for ASCII
texts: Unicode case folding matches `ſ` to `s`, which `str.lower()` keeps apart, so the
redactor runs every expression on a text that is not ASCII.

Parsing is the cost the prefilter removes: this module runs in `scripts/redact_denylist.py`
(which writes detect-secrets' patterns' needles into `denylist`) and in tests (which check the
needles declared next to our own rules in `patterns`), never when a text is redacted.
"""

from __future__ import annotations

from collections.abc import Iterable
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any, NamedTuple

#: the most strings an exact set may hold: beyond, a run is cut (its strings kept as needles)
MAX_EXACT = 16

Strings = frozenset[str]
_EMPTY: Strings = frozenset({""})
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


class Info(NamedTuple):
    """What is known of the text a node matches."""

    #: the strings it consumes, when known and few
    exact: Strings | None
    #: strings one of which it starts with ({""}: nothing known); its exact strings if known
    prefix: Strings
    #: strings one of which it ends with
    suffix: Strings
    #: strings one of which it contains, or None
    needles: Strings | None


def _known(exact: Strings | None, needles: Strings | None = None) -> Info:
    if exact is None:
        return Info(None, _EMPTY, _EMPTY, needles)
    return Info(exact, exact, exact, needles)


def derive(source: str, flags: int = 0) -> tuple[str, ...]:
    """The needles of ``source`` compiled with ``flags``, sorted; () when it has none."""
    needles = _sequence(_parser.parse(source, flags)).needles
    return tuple(sorted(needles)) if needles else ()


def _product(left: Strings, right: Strings) -> Strings | None:
    if len(left) * len(right) > MAX_EXACT:
        return None
    return frozenset(a + b for a in left for b in right)


def _minimal(needles: Strings) -> Strings:
    return frozenset(n for n in needles if not any(m != n and m in n for m in needles))


def _best(candidates: Iterable[Strings]) -> Strings | None:
    # a set holding "" is no needle set: the empty string is in every text
    usable = [_minimal(c) for c in candidates if c and "" not in c]
    return max(usable, key=lambda c: (min(map(len, c)), -len(c)), default=None)


def _sequence(items: Iterable[tuple[Any, Any]]) -> Info:
    candidates: list[Strings] = []
    run: Strings = _EMPTY  # what the elements since the last cut consume
    head: Strings | None = None  # what the sequence starts with, once a run is cut
    for op, av in items:
        node = _node(op, av)
        if node.needles:
            candidates.append(node.needles)
        joined = _product(run, node.exact) if node.exact is not None else None
        if joined is not None:
            run = joined
            continue
        # a cut (unknown or too many strings): the run and what the node starts with are
        # adjacent in every match, and what it ends with starts the next run
        end = _product(run, node.prefix) or run
        candidates.append(end)
        head = end if head is None else head
        run = node.suffix
    candidates.append(run)
    if head is None:
        return _known(run, _best(candidates))
    return Info(None, head, run, _best(candidates))


def _node(op: Any, av: Any) -> Info:
    if op is sre.LITERAL:
        char = chr(av)
        return _known(frozenset({char.lower()}) if char.isascii() else None)
    if op is sre.IN:
        chars = {chr(value) for kind, value in av if kind is sre.LITERAL}
        only_literals = len(chars) == len(av) and all(c.isascii() for c in chars)
        return _known(frozenset(c.lower() for c in chars) if only_literals else None)
    if op is sre.SUBPATTERN:  # (group, add flags, del flags, pattern): flags change no needle
        return _sequence(av[3])
    if op is sre.ATOMIC_GROUP:
        return _sequence(av)
    if op is sre.BRANCH:
        return _branch([_sequence(branch) for branch in av[1]])
    if op in _REPEATS:
        return _repeat(*av)
    if op is sre.ASSERT:  # (direction, pattern): what a lookahead or lookbehind sees is text
        return _known(_EMPTY, _sequence(av[1]).needles)
    if op is sre.ASSERT_NOT or op is sre.AT:
        return _known(_EMPTY)
    # `.`, NOT_LITERAL, back-references, conditionals: consume something unknown
    return _known(None)


def _repeat(low: int, high: int, item: Any) -> Info:
    child = _sequence(item)
    if low == 0:  # it may not occur: no needles; `x?` consumes x or nothing
        optional = child.exact | _EMPTY if high == 1 and child.exact is not None else None
        return _known(_EMPTY if high == 0 else
                      optional if optional and len(optional) <= MAX_EXACT else None)
    if low == high and child.exact is not None:  # `x{3}`: xxx
        repeated: Strings | None = _EMPTY
        for _ in range(low):
            repeated = _product(repeated, child.exact) if repeated is not None else None
        if repeated is not None:
            return _known(repeated, child.needles)
    # at least one: it starts as the child starts, ends as it ends, holds its needles
    return Info(None, child.prefix, child.suffix, child.needles)


def _union(sets: Iterable[Strings]) -> Strings | None:
    union = frozenset().union(*sets)
    return union if len(union) <= MAX_EXACT else None


def _branch(branches: list[Info]) -> Info:
    exacts = [b.exact for b in branches if b.exact is not None]
    exact = _union(exacts) if len(exacts) == len(branches) else None
    needles = [b.needles for b in branches if b.needles]
    found = frozenset().union(*needles) if len(needles) == len(branches) else None
    if exact is not None:
        return _known(exact, found)
    return Info(None, _union(b.prefix for b in branches) or _EMPTY,
                _union(b.suffix for b in branches) or _EMPTY, found)
