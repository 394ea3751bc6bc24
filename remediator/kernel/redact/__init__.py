"""Redaction of secrets from anything that leaves the process (see ``redactor``).

detect-secrets' detectors are run from generated data (``denylist``, kept to the pinned release
by tests/kernel/test_redact_denylist.py), not by importing the package; an expression is
compiled by the first text redacted that holds one of its needles (see `lazy`), not at import."""

from __future__ import annotations

from .known import register, register_env
from .patterns import is_secret_name
from .redactor import MASK, looks_like_secret, redact, redact_data

__all__ = ["MASK", "is_secret_name", "looks_like_secret", "redact", "redact_data", "register",
           "register_env"]
