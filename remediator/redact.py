"""Redaction of secrets from anything that leaves the process (PR bodies, logs, LLM prompts).

Deliberately greedy: a false positive costs a few characters of a log excerpt, a false negative
leaks a credential into a pull request.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("private-key", re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
        re.S)),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("url-credentials", re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")),
    ("bearer", re.compile(r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{8,}")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("aws-key", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("api-key", re.compile(r"\b(?:sk-(?:ant-)?[A-Za-z0-9_-]{16,}|xox[abpr]-[A-Za-z0-9-]{10,})")),
    ("assignment", re.compile(
        r"(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key"
        r"|private[_-]?key|credentials?|auth)[A-Za-z0-9_.-]*)(\"?\s*[:=]\s*\"?)([^\s\"',;&]+)")),
]


def redact(text: str) -> tuple[str, int]:
    """Return the text with secrets masked, and how many were masked."""
    count = 0

    def _mask_assignment(m: re.Match[str]) -> str:
        nonlocal count
        if m.group(3) == MASK:
            return m.group(0)
        count += 1
        return f"{m.group(1)}{m.group(2)}{MASK}"

    for name, pattern in _PATTERNS:
        if name == "assignment":
            text = pattern.sub(_mask_assignment, text)
        else:
            text, n = pattern.subn(MASK, text)
            count += n
    return text, count
