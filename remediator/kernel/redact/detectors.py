"""detect-secrets' maintained detectors (Yelp), run over whole texts.

We use the plugins' own regular expressions (`denylist`) and entropy measure, not their scan
machinery: that works per file and line and reports values, and we need the positions to mask.
Left out: the public-IP detector (an address is evidence, not a credential), the keyword
detector (our assignment rule does that job without its per-file-type guesses), the hex entropy
detector (trace ids and git SHAs in JSON logs are quoted hex) and the private-key detector (it
matches the BEGIN line only; our rule masks the whole block).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

Span = tuple[int, int]

_PLUGINS = (
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


@cache
def _denylist() -> tuple[re.Pattern[str], ...]:
    import importlib

    out: list[re.Pattern[str]] = []
    for module, name in _PLUGINS:
        plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)
        out.extend(plugin.denylist)
    return tuple(out)


@cache
def _base64_plugin() -> tuple[re.Pattern[str], float, object]:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    plugin = Base64HighEntropyString()
    return plugin.regex, plugin.entropy_limit, plugin


def entropy(token: str) -> float:
    """Shannon entropy over the base64 alphabet, as detect-secrets measures it."""
    _regex, _limit, plugin = _base64_plugin()
    return float(plugin.calculate_shannon_entropy(token))  # type: ignore[attr-defined]


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


def spans(text: str) -> Iterator[Span]:
    for regex in _denylist():
        for m in regex.finditer(text):
            # like the plugins' own findall: each non-empty group, else the whole match
            groups = [i for i in range(1, (regex.groups or 0) + 1) if m.group(i)]
            for i in groups or [0]:
                start, end = _widen(text, *m.span(i))
                if start < end:
                    yield start, end
    quoted, limit, _plugin = _base64_plugin()
    for m in quoted.finditer(text):  # quoted strings only, as the plugin scans them
        if entropy(m.group(2)) > limit:
            yield m.span(2)
