"""Redaction of secrets from anything that leaves the process: PR bodies, titles, comments and
the dashboard (forge), `plan` output and CLI messages, log lines, model prompts.

One redactor, three sources of spans to mask, merged:
- detect-secrets' maintained detectors (AWS, Stripe, GitHub, GitLab, Slack, Discord, Telegram,
  npm, JWT, basic-auth URLs, high-entropy quoted strings...), see `detectors`: their patterns are
  data generated from the pinned release (`denylist`, `python scripts/redact_denylist.py`) and
  checked against it by tests/kernel/test_redact_denylist.py, so detect-secrets is never imported;
- our own rules: keywords (`password=`, `"api_key": ...`, `--token`), headers, URL userinfo,
  private-key blocks and the formats detect-secrets lacks, see `patterns`;
- the credentials this process holds, by value (`register`, see `known`).

Importing the package compiles nothing (every command imports it, `--help` included): an
expression is compiled the first time it runs (`lazy`). And it runs only on a text that holds
one of its needles, literals at least one of which is in every text it can match (looked for in
the lowercased text, and only in an ASCII one: on any other every expression runs, see `lazy`).
A one-line report thus compiles and runs the two expressions without a literal (`base64-body`,
`random-token`) and those whose needles it holds, not the ~60 others. Skipping an expression
that cannot match removes no span, so what is masked is what running them all masks
(tests/kernel/test_redact_prefilter.py compares both). The needles are data beside each
expression, derived from its parse tree by `needles`, which only scripts/redact_denylist.py and
the tests import: parsing is the cost the prefilter saves.

Deliberately greedy: a false positive costs a few characters of a log excerpt, a false negative
leaks a credential into a pull request. What must survive (digests, git SHAs, UIDs, resource
names, ordinary log lines) is pinned by tests/hostile/test_secrets.py.
"""

from __future__ import annotations

from typing import Any

from . import detectors, known, patterns
from .known import register, register_env
from .lazy import lowered
from .patterns import is_secret_name

__all__ = ["MASK", "is_secret_name", "looks_like_secret", "redact", "redact_data", "register",
           "register_env"]

MASK = "[REDACTED]"


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def redact(text: str, *, prefilter: bool = True) -> tuple[str, int]:
    """Return the text with secrets masked, and how many were masked. Idempotent: a redacted
    text comes back unchanged, so redacting again at the next exit costs nothing.

    ``prefilter=False`` runs every expression, needles or not: the same result, slower (the
    tests compare the two)."""
    if not text:
        return text, 0
    key = lowered(text) if prefilter else None
    found = [*known.spans(text), *patterns.spans(text, key), *detectors.spans(text, key)]
    # a span inside an earlier mask (`password=[REDACTED]`) is that mask, not a new secret
    found = [(s, e) for s, e in found if MASK not in text[s:e]]
    if not found:
        return text, 0
    merged = _merged(found)
    pieces, at = [], 0
    for start, end in merged:
        pieces += [text[at:start], MASK]
        at = end
    pieces.append(text[at:])
    return "".join(pieces), len(merged)


def redact_data(value: Any) -> Any:
    """Every string in a JSON-like structure redacted on its own, so the structure stays valid
    (redacting serialised JSON could mask a quote). Keys are ours and stay as they are."""
    if isinstance(value, str):
        return redact(value)[0]
    if isinstance(value, dict):
        return {k: redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def looks_like_secret(value: str) -> bool:
    """True when the redactor would mask something in ``value`` (a credential-shaped literal)."""
    return redact(value)[1] > 0
