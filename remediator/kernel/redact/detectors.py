"""detect-secrets' maintained detectors (Yelp), run over whole texts.

We use the plugins' own regular expressions (`denylist`) and entropy measure, not their scan
machinery: that works per file and line and reports values, and we need the positions to mask.
Left out: the public-IP detector (an address is evidence, not a credential), the keyword
detector (our assignment rule does that job without its per-file-type guesses), the hex entropy
detector (trace ids and git SHAs in JSON logs are quoted hex) and the private-key detector (it
matches the BEGIN line only; our rule masks the whole block).

The expressions are data, not an import: importing `detect_secrets` loads its scanner, filters
and `requests` (~60 ms, paid by every command that redacts, `validate` included). The generated
`denylist` module holds each plugin's patterns and flags, the base64 plugin's quoted-string
expression, limit and charset, taken from the pinned release by `python
scripts/redact_denylist.py`; `entropy` is the plugin's formula re-written here.
tests/kernel/test_redact_denylist.py compares both with the installed detect-secrets and fails,
naming that command, when a new release changes them (or `PLUGINS` changes). Nothing is
compiled, nor that module imported, before the first text is redacted.

Next to each pattern the script writes its needles (`needles.derive`, the literals one of which
is in every text it matches): a pattern is compiled and run only on a text that holds one of
them, or that is not ASCII (see `lazy`). Skipping a pattern that cannot match changes no span,
so the plugins' order and what is masked are those of running them all (tested).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from functools import cache

from .lazy import LazyRegex

Span = tuple[int, int]

#: (module under detect_secrets.plugins, class): the plugins whose `denylist` we run
PLUGINS = (
    ("artifactory", "ArtifactoryDetector"), ("aws", "AWSKeyDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"), ("basic_auth", "BasicAuthDetector"),
    ("cloudant", "CloudantDetector"), ("discord", "DiscordBotTokenDetector"),
    ("github_token", "GitHubTokenDetector"), ("gitlab_token", "GitLabTokenDetector"),
    ("ibm_cloud_iam", "IbmCloudIamDetector"), ("ibm_cos_hmac", "IbmCosHmacDetector"),
    ("jwt", "JwtTokenDetector"), ("mailchimp", "MailchimpDetector"), ("npm", "NpmDetector"),
    ("openai", "OpenAIDetector"), ("pypi_token", "PypiTokenDetector"),
    ("sendgrid", "SendGridDetector"), ("slack", "SlackDetector"),
    ("softlayer", "SoftlayerDetector"), ("square_oauth", "SquareOAuthDetector"),
    ("stripe", "StripeDetector"), ("telegram_token", "TelegramBotTokenDetector"),
    ("twilio", "TwilioKeyDetector"),
)

#: a detector may match part of a token (Stripe's 24 of up to 99 characters, the first two
#: parts of a JWT, a GitHub token's prefix group): the mask covers the whole token
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-")
_PADDING = "="  # base64 padding ends a token; before one it is `key=`
_EDGE = " \t\r\n\"'=:"


# The generated module is imported by the first call, not with this one: the script that writes
# it imports `PLUGINS` from here, and must run whatever state the file is in (missing, or left
# with merge-conflict markers).


@cache
def _denylist() -> tuple[LazyRegex, ...]:
    from .denylist import DENYLIST

    return tuple(LazyRegex(source, flags, needles=needles)
                 for _module, _name, patterns in DENYLIST for source, flags, needles in patterns)


@cache
def _base64() -> tuple[LazyRegex, float, str]:
    """The Base64HighEntropyString plugin: its quoted-string expression, limit and charset."""
    from .denylist import BASE64_CHARSET, BASE64_LIMIT, BASE64_REGEX

    source, flags, needles = BASE64_REGEX
    return LazyRegex(source, flags, needles=needles), BASE64_LIMIT, BASE64_CHARSET


def entropy(token: str) -> float:
    """Shannon entropy (bits per character) over the base64 alphabet, as detect-secrets'
    `calculate_shannon_entropy` measures it: the same terms added in the same order (the
    alphabet's), so the value is equal to the last bit and a token on a threshold falls on the
    same side. A character outside the alphabet counts in the length only."""
    if not token:
        return 0.0
    counts = Counter(token)
    total = 0.0
    for char in _base64()[2]:
        p = counts[char] / len(token)
        if p > 0:
            total += -p * math.log(p, 2)
    return total


def _widen(text: str, start: int, end: int) -> Span:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    if start == end:
        return start, end
    while start > 0 and text[start - 1] in _TOKEN_CHARS:
        start -= 1
    while end < len(text) and text[end] in _TOKEN_CHARS:
        end += 1
    while end < len(text) and text[end] == _PADDING:
        end += 1
    return start, end


def spans(text: str, lowered: str | None) -> Iterator[Span]:
    """The spans to mask; ``lowered`` is `lazy.lowered(text)` (None: run every pattern)."""
    for regex in _denylist():
        if not regex.may_match(lowered):
            continue
        for m in regex.finditer(text):
            # like the plugins' own findall: each non-empty group, else the whole match
            groups = [i for i in range(1, m.re.groups + 1) if m.group(i)]
            for i in groups or [0]:
                start, end = _widen(text, *m.span(i))
                if start < end:
                    yield start, end
    quoted, limit, _charset = _base64()
    if quoted.may_match(lowered):
        for m in quoted.finditer(text):  # quoted strings only, as the plugin scans them
            if entropy(m.group(2)) > limit:
                yield m.span(2)
