"""The credentials this process holds, masked by value wherever they appear: a provider's error
or a model's answer that echoes the API key, a git error that quotes the token.

Patterns catch what looks like a secret; these are known to be one, whatever they look like.
The places that read a credential register it (`register`); the usual environment variables
(`SECRET_ENV`, and whatever name the configuration gives, `register_env`) are read when a text
is redacted, so a key set after start-up is masked too.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping

Span = tuple[int, int]

#: the environment variables remediator reads credentials from (docs/github.md, docs/models.md)
SECRET_ENV = ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_APP_PRIVATE_KEY", "OPENAI_API_KEY",
              "ANTHROPIC_API_KEY", "REMEDIATOR_OPA_TOKEN")
#: shorter values would mask ordinary words; no real key is this short
MIN_LENGTH = 8

_lock = threading.Lock()
_values: set[str] = set()
_env_names: set[str] = set(SECRET_ENV)
_compiled: tuple[frozenset[str], re.Pattern[str] | None] = (frozenset(), None)


def _pieces(value: str) -> Iterator[str]:
    """The value, and each line of a multi-line one (a PEM key is echoed a line at a time)."""
    value = value.strip()
    if len(value) >= MIN_LENGTH:
        yield value
    if "\n" in value:
        for line in value.splitlines():
            line = line.strip()
            if len(line) >= 16 and not line.startswith("-----"):
                yield line


def register(value: str | None) -> None:
    """Mask ``value`` in everything redacted from now on."""
    if value:
        with _lock:
            _values.update(_pieces(value))


def register_env(names: Iterable[str]) -> None:
    """Environment variables (besides SECRET_ENV) whose values are credentials: the model key
    the configuration names (`drafting.llm.apiKeyEnv`)."""
    with _lock:
        _env_names.update(n for n in names if n)


def forget() -> None:
    """Back to the defaults (tests)."""
    global _compiled
    with _lock:
        _values.clear()
        _env_names.clear()
        _env_names.update(SECRET_ENV)
        _compiled = (frozenset(), None)


def _pattern(env: Mapping[str, str]) -> re.Pattern[str] | None:
    global _compiled
    with _lock:
        values = set(_values)
        names = tuple(_env_names)
    for name in names:
        values.update(_pieces(env.get(name) or ""))
    key = frozenset(values)
    if key != _compiled[0]:
        # longest first: a key wins over one of its own lines
        pattern = re.compile("|".join(re.escape(v) for v in sorted(key, key=len, reverse=True))
                             ) if key else None
        _compiled = (key, pattern)
    return _compiled[1]


def spans(text: str, env: Mapping[str, str] | None = None) -> Iterator[Span]:
    pattern = _pattern(os.environ if env is None else env)
    if pattern is not None:
        for m in pattern.finditer(text):
            yield m.span()
