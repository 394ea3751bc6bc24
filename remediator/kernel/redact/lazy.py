"""A regular expression compiled on its first use, not at import.

Every command imports the redactor (`kernel.logs` does), `remediator --help` included, and most
never redact anything: compiling the rules' expressions at import cost those ~6 ms of start-up.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator


class LazyRegex:
    """The few `re.Pattern` methods the rules call, on a pattern compiled the first time one is.

    Two threads that race to compile both get an equal pattern; the last one kept is as good as
    the first, so there is no lock.
    """

    __slots__ = ("_compiled", "flags", "source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source = source
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

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
        return f"LazyRegex({self.source!r}, {self.flags!r})"
