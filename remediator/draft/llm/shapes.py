"""The shapes a model's values must have before their meaning is judged, and the refusal."""

from __future__ import annotations

from typing import Any

from ...kernel.redact import MASK

MAX_LIST = 64
MAX_VALUE_CHARS = 1024


class Rejected(ValueError):
    """The model's answer cannot become a proposal; the message says why (for the record)."""


def text_value(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Rejected(f"{what}: expected a string, got {type(value).__name__}")
    s = str(value)
    if MASK in s:
        raise Rejected(f"{what}: contains a redacted value")
    if len(s) > MAX_VALUE_CHARS or not s.strip():
        raise Rejected(f"{what}: empty or longer than {MAX_VALUE_CHARS} characters")
    if any((ord(ch) < 32 and ch != "\t") or 0xD800 <= ord(ch) <= 0xDFFF for ch in s):
        raise Rejected(f"{what}: contains control characters or unpaired surrogates")
    return s


def values_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise Rejected(f"{what}: expected a list of at most {MAX_LIST} items")
    return value
