"""Redaction of secrets from anything that leaves the process (PR bodies, logs, LLM prompts).

Deliberately greedy: a false positive costs a few characters of a log excerpt, a false negative
leaks a credential into a pull request.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"

_KEYWORDS = (r"pass|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?"
             r"|auth|session|cookie|accountkey|sig")

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("private-key", re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
        r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)", re.S)),
    # a key's base64 body without its BEGIN line (a log window or excerpt cut above it): long
    # runs of mixed-case base64 (hex digests are not mixed-case)
    ("base64-body", re.compile(
        r"(?<![A-Za-z0-9+/=])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])"
        r"(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{60,}={0,2}(?![A-Za-z0-9+/=])")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    # [user]:password@host (redis://:pw@ has no user); the password may itself contain '@':
    # up to the last '@' of the host
    ("url-credentials", re.compile(r"(?<=://)[^/\s:@]*:[^/\s]+(?=@[^/\s@]+)")),
    ("auth-header", re.compile(r"(?i)\b((?:bearer|basic|token|digest) )([A-Za-z0-9._~+/=-]{6,})")),
    ("secret-header", re.compile(
        r"(?i)\b((?:cookie|set-cookie|x-api-key|x-auth-token|proxy-authorization): )(.+)")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}")),
    ("slack", re.compile(
        r"\b(?:xox[abpers]|xapp)-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/[\w/]+")),
    ("aws-key", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("api-key", re.compile(r"\bsk-(?:ant-)?[A-Za-z0-9_-]{16,}")),
    ("flag", re.compile(
        r"(?i)(--?(?:[a-z0-9-]*(?:password|passwd|token|secret|api-key))[= ])(\S+)")),
    # NAME=value, "name": "value", name: value — quoted values may contain spaces
    ("assignment", re.compile(
        rf"(?i)\b([A-Za-z0-9_.-]*(?:{_KEYWORDS})[A-Za-z0-9_.-]*)(\"?\s*[:=]\s*)"
        r"(\"[^\"]*\"|'[^']*'|[^\s\"',;&]+)")),
]


_SECRET_NAME = re.compile(rf"(?i)(?:{_KEYWORDS}|dsn|database_url|conn(?:ection)?_?str)")


def is_secret_name(name: str) -> bool:
    """A variable or key whose name says it holds a secret (`DB_PASSWORD`, `API_TOKEN`...): its
    value is masked even where no pattern recognises the value itself (manifest env values)."""
    return bool(_SECRET_NAME.search(name))


def redact(text: str) -> tuple[str, int]:
    """Return the text with secrets masked, and how many were masked."""
    count = 0

    def _mask_value(m: re.Match[str]) -> str:
        nonlocal count
        value = m.group(m.lastindex or 0)
        if MASK in value or not value.strip("\"'"):
            return m.group(0)
        count += 1
        quote = value[0] if value[0] in "\"'" and value[-1] == value[0] else ""
        return m.group(0)[: m.start(m.lastindex or 0) - m.start(0)] + f"{quote}{MASK}{quote}"

    for _name, pattern in _PATTERNS:
        if pattern.groups:  # the last group is the secret; what precedes it stays
            text = pattern.sub(_mask_value, text)
        else:
            text, n = pattern.subn(MASK, text)
            count += n
    return text, count
