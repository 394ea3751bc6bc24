"""A regular expression compiled on its first use, not at import, and run only on a text that
contains one of its needles (the prefilter).

Every command imports the redactor (`kernel.logs` does), `remediator --help` included, and most
never redact anything: compiling the rules' expressions at import cost those ~6 ms of start-up.
And most texts redacted are ordinary (a report line, a log excerpt): each expression carries its
needles, lowercase ASCII strings at least one of which is in every text it can match once
lowercased (see `needles`, which derives them from the expression's parse tree). A text that
holds none of them cannot match: the expression is neither compiled nor run on it (`may_match`),
so `validate`'s one-line report compiles three expressions instead of about sixty.

Why skipping is sound: every match holds one of the needles as written in the expression, up to
case (what the analysis guarantees). In an ASCII text, what `(?i)k` matches is `k` or `K`, both
`k` once lowered, and a case-sensitive `K` matches `K` alone: the lowered text holds the needle.
Not so in other texts: Unicode case folding lets `(?i)pass` match `paſſ`, which `str.lower()`
leaves as it is, so a text that is not ASCII runs every expression (`lowered`). The needles are
data, written next to each expression (and into the generated `denylist`) and checked against
the analysis by tests: parsing expressions at run time is the cost this removes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator


def lowered(text: str) -> str | None:
    """What `LazyRegex.may_match` looks for needles in: the text lowercased, or None (every
    expression runs) when it is not ASCII."""
    return text.lower() if text.isascii() else None


class LazyRegex:
    """The few `re.Pattern` methods the rules call, on a pattern compiled the first time one is.

    Two threads that race to compile both get an equal pattern; the last one kept is as good as
    the first, so there is no lock.
    """

    __slots__ = ("_compiled", "flags", "needles", "source")

    def __init__(self, source: str, flags: int = 0, *, needles: tuple[str, ...] = ()) -> None:
        self.source = source
        self.flags = flags
        #: lowercase ASCII strings one of which every text the expression matches in contains
        #: (lowercased); () when it has no such literal: it always runs
        self.needles = needles
        self._compiled: re.Pattern[str] | None = None

    def may_match(self, lowered: str | None) -> bool:
        """False when the text ``lowered`` comes from (see `lowered`) cannot hold a match."""
        return lowered is None or not self.needles or any(n in lowered for n in self.needles)

    @property
    def compiled(self) -> re.Pattern[str]:
        pattern = self._compiled
        if pattern is None:
            pattern = self._compiled = re.compile(self.source, self.flags)
        return pattern

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.search(string, pos, endpos)

    def fullmatch(self, string: str) -> re.Match[str] | None:
        return self.compiled.fullmatch(string)

    def finditer(self, string: str) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string)

    def __repr__(self) -> str:
        return f"LazyRegex({self.source!r}, {self.flags!r}, needles={self.needles!r})"
