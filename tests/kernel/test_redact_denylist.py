"""The redactor's detect-secrets detectors are data (remediator/kernel/redact/denylist.py,
generated) and one formula (`detectors.entropy`), so that it never imports the package. Here the
installed detect-secrets (the version constraints.txt pins) is imported and compared with both:
a new release that changes a pattern, a flag, the limit or the charset fails until the module is
written again; so does a change to the needles' analysis (`needles.derive`), whose result the
module holds next to each pattern."""

from __future__ import annotations

import importlib
import importlib.metadata
import random
import re
import string
from typing import Any

import pytest
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

from remediator.kernel.redact import denylist
from remediator.kernel.redact.detectors import PLUGINS, entropy
from remediator.kernel.redact.needles import derive

STALE = "remediator/kernel/redact/denylist.py is stale: run `python scripts/redact_denylist.py`"


def _plugin(module: str, name: str) -> Any:
    return getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)


def _written(regex: re.Pattern[str]) -> tuple[str, int, tuple[str, ...]]:
    """A pattern as the script writes it: with its needles as the analysis finds them now."""
    return regex.pattern, regex.flags, derive(regex.pattern, regex.flags)


def test_the_generated_denylist_is_each_listed_plugins_own_in_order() -> None:
    expected = tuple(
        (module, name, tuple(_written(r) for r in _plugin(module, name).denylist))
        for module, name in PLUGINS)
    assert expected == denylist.DENYLIST, STALE


def test_the_generated_module_names_the_installed_release() -> None:
    assert importlib.metadata.version("detect-secrets") == denylist.DETECT_SECRETS_VERSION, STALE


def test_the_base64_regex_limit_and_charset_are_the_plugins_own() -> None:
    plugin = Base64HighEntropyString()
    assert _written(plugin.regex) == denylist.BASE64_REGEX, STALE
    assert plugin.entropy_limit == denylist.BASE64_LIMIT, STALE
    assert plugin.charset == denylist.BASE64_CHARSET, STALE


def _random(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


_RNG = random.Random(20)
_BASE64 = string.ascii_letters + string.digits + "+/"
SAMPLES = [
    "", "a", "=", "-", "é", " ", "aaaaaaaa", "ab", "abab", "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "HikariPool1ConnectionAdderThread2Worker",
    "c2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZw==", "sha256:" + "0123456789abcdef" * 4,
    # characters outside the alphabet count in the length only
    "päss wörd €uro", "tab\tand\nnewline", "🔑🔑🔑 key", "a.b.c.d", "\\-_=",
    string.printable, Base64HighEntropyString().charset,
    *(_random(_RNG, _BASE64, n) for n in (2, 20, 40, 64, 200, 4096)),
    *(_random(_RNG, _BASE64 + "-_=", n) for n in (33, 100)),
    *(_random(_RNG, _BASE64 + " .:;@é€\t", n) for n in (10, 80, 500)),
]


@pytest.mark.parametrize("token", SAMPLES)
def test_entropy_is_detect_secrets_own_to_the_last_bit(token: str) -> None:
    """Equal, not close: a token on the limit (or on patterns.ENTROPY_UNQUOTED) must fall on the
    same side as detect-secrets puts it."""
    expected = Base64HighEntropyString().calculate_shannon_entropy(token)
    assert entropy(token) == expected, (
        "detect-secrets' calculate_shannon_entropy changed: re-write detectors.entropy from it")
