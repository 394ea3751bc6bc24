"""Our own rules: secrets recognised by what surrounds them (a keyword, a flag, a header, a URL's
userinfo) and the formats detect-secrets has no plugin for (Google and npm keys, Discord
webhooks, Vault tokens, an AWS secret key without its keyword, `mysql -pPASS`).

Each rule yields the span to mask; the caller merges spans from every source. Rules never cross
a line break except the private-key block, so a YAML key on one line cannot mask the next line.
Every expression is a `LazyRegex`: compiled by the first text redacted, not when a command that
never redacts imports this module. A rule's expression carries its needles (see `lazy`): it is
compiled and run only on a text that holds one of them (or is not ASCII). The expressions that
judge a match (`_NOT_A_SECRET_NAME`...) run on its pieces, after a rule matched: they have none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .detectors import entropy
from .lazy import LazyRegex

Span = tuple[int, int]

_KEYWORDS = (r"pass|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?key"
             r"|credentials?|session|cookie|accountkey|authorization|(?<![a-z])auth(?![a-z])")

#: names that hold a reference to a secret, or a property of one, not the secret itself
#: (`secretName: db`, `TOKEN_TTL=300`, `max_tokens=4096`, `passwordFile: /run/pw`)
_NOT_A_SECRET_NAME = LazyRegex(
    r"(?i)(?:name|names|ref|refs|keyref|file|path|dir|type|kind|mode|enabled|disabled|endpoint"
    r"|url|uri|host|header|format|policy|version|length|len|count|size|ttl|timeout|seconds"
    r"|expiry|expiration|lifetime|age|limit|tokens|secrets|passwords|duration|interval"
    r"|provider|store|mount|source|env"
    # a file name (`sealedsecret.yaml:12: error ...`): what follows is a line, not the secret
    r"|\.(?:ya?ml|json|rego|md|txt|toml|tpl|j2|conf|cfg|ini|sh|py|go))$")
#: values that are a boolean, nothing, or a reference to where the secret lives
_NOT_A_SECRET_VALUE = LazyRegex(
    r"(?i)(?:true|false|null|none|nil|yes|no|on|off|~|required|optional|\*+|x+|<[^>]*>"
    r"|bearer|basic|digest|negotiate|token"
    r"|\$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\}|\$[A-Z_][A-Z0-9_]*|" + re.escape("[REDACTED]") + r")")


@dataclass(frozen=True)
class Rule:
    """One of our own rules: a named expression and the group of a match that is the secret."""

    name: str
    pattern: LazyRegex
    #: the group holding the secret (0: the whole match; -1: whichever alternative matched)
    group: int = 0
    #: a last word on a match: True when it is not a secret after all (a reference, a count)
    not_secret: Callable[[re.Match[str]], bool] | None = None


def _unquoted(text: str, start: int, end: int) -> Span:
    """A quoted value is masked inside its quotes: `"[REDACTED]"` keeps the JSON or YAML valid."""
    if end - start >= 2 and text[start] in "\"'" and text[end - 1] == text[start]:
        return start + 1, end - 1
    return start, end


_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _without_closer(text: str, start: int, end: int) -> int:
    """`(password=hunter2)`: the bracket closes the text around the value, not the value."""
    opener = _CLOSERS.get(text[end - 1]) if end > start else None
    return end - 1 if opener and opener not in text[start:end] else end


#: what precedes a name that is an object's (`Deployment/session-db: container ...`,
#: `deployment.apps/token-api: ...`, `StatefulSet/shop/auth-db: ...`): a Kind (capitalised) or a
#: `kind.group`, a slash, an optional namespace and the start of the name, up to the keyword
_OBJECT_REF_BEFORE = LazyRegex(
    r"(?:^|[^\w./-])(?:[A-Z][A-Za-z0-9]*|[a-z][a-z0-9]*(?:\.[a-z0-9-]+)+)/"
    r"(?:[a-z0-9][a-z0-9.-]*/)?[a-z0-9.-]*$", re.M)


def _assignment_is_not_secret(m: re.Match[str]) -> bool:
    value = m.group(3).strip("\"'")
    # (a Kind, a namespace and a name fit in 400 characters: a long line is not searched whole)
    lo = max(0, m.start(1) - 400)
    line_start = max(lo, m.string.rfind("\n", lo, m.start(1)) + 1)
    return (not value or bool(_NOT_A_SECRET_NAME.search(m.group(1)))
            or bool(_NOT_A_SECRET_VALUE.fullmatch(value))
            # an object's name ending in `:` (a finding, a log line), not `name: value`
            or bool(_OBJECT_REF_BEFORE.search(m.string, line_start, m.start(1))))


def _token_is_not_secret(m: re.Match[str]) -> bool:
    """A long token without its keyword: only one that looks random (mixed case, digits, the
    entropy of a generated key) is a secret; paths and identifiers are not."""
    token = m.group(0)
    if token.startswith("/") or token.count("/") > 3:
        return True
    if not (re.search(r"[a-z]", token) and re.search(r"[A-Z]", token)
            and re.search(r"[0-9]", token)):
        return True
    return entropy(token.rstrip("=")) < ENTROPY_UNQUOTED


#: Shannon entropy (bits per character) above which a long unquoted token is taken for a
#: generated key: 99% of random 40-character base64 strings score above 4.4, long identifiers
#: with digits (`HikariPool1ConnectionAdderThread2Worker`) 4.0 to 4.26 (bench/redact.py prints
#: both).
ENTROPY_UNQUOTED = 4.3


#: each rule's needles (see `lazy`) are written next to its expression: what `needles.derive`
#: finds in it, which tests/kernel/test_redact_prefilter.py checks
RULES: tuple[Rule, ...] = (
    Rule("private-key", LazyRegex(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
        r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)", re.S,
        needles=("private key block-----", "private key-----"))),
    # a key's base64 body without its BEGIN line (a log window or excerpt cut above it): long
    # runs of mixed-case base64 (hex digests are not mixed-case); no literal: it always runs
    Rule("base64-body", LazyRegex(
        r"(?<![A-Za-z0-9+/=])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])"
        r"(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{60,}={0,2}(?![A-Za-z0-9+/=])")),
    # 32+ characters of (url-safe) base64 with no keyword: an AWS secret access key (40), most
    # API tokens; judged by entropy so that git SHAs, digests and identifiers stay (always runs)
    Rule("random-token", LazyRegex(
        r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])"),
        not_secret=_token_is_not_secret),
    Rule("jwt", LazyRegex(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
                          needles=("eyj",))),
    # [user]:password@host (redis://:pw@ has no user); the password may itself contain '@':
    # up to the last '@' of the host
    Rule("url-credentials", LazyRegex(r"(?<=://)[^/\s:@]*:([^/\s]+)(?=@[^/\s@]+)",
                                      needles=("://",)), 1),
    Rule("auth-header", LazyRegex(
        r"(?i)\b(?:bearer|basic) ([A-Za-z0-9._~+/=-]{6,})"
        # "token" and "digest" are words too ("token expired"): a credential has a digit
        r"|\b(?:token|digest) ((?=[A-Za-z._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{8,})",
        needles=("basic ", "bearer ", "digest ", "token ")), -1),
    Rule("secret-header", LazyRegex(
        r"(?i)\b(?:cookie|set-cookie|x-api-key|x-auth-token|proxy-authorization"
        r"|private-token): ([^\n]+)",
        needles=("cookie: ", "private-token: ", "proxy-authorization: ", "x-api-key: ",
                 "x-auth-token: ")), 1),
    Rule("github-token", LazyRegex(
        r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
        needles=("gho_", "ghp_", "ghr_", "ghs_", "ghu_", "github_pat_"))),
    Rule("gitlab-token", LazyRegex(r"\bglpat-[A-Za-z0-9_-]{16,}", needles=("glpat-",))),
    Rule("slack", LazyRegex(
        r"\b(?:xox[abpers]|xapp)-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/[\w/]+",
        needles=("hooks.slack.com/services/", "xapp-", "xoxa-", "xoxb-", "xoxe-", "xoxp-",
                 "xoxr-", "xoxs-"))),
    Rule("aws-key", LazyRegex(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", needles=("akia", "asia"))),
    Rule("api-key", LazyRegex(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}", needles=("sk-",))),
    Rule("stripe", LazyRegex(r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{10,}",
                             needles=("rk_live_", "rk_test_", "sk_live_", "sk_test_"))),
    Rule("google-api-key", LazyRegex(r"\bAIza[0-9A-Za-z_-]{35}", needles=("aiza",))),
    Rule("npm-token", LazyRegex(r"\bnpm_[A-Za-z0-9]{36}\b", needles=("npm_",))),
    Rule("vault-token", LazyRegex(r"\bhv[sb]\.[A-Za-z0-9_-]{24,}", needles=("hvb.", "hvs."))),
    Rule("discord-webhook", LazyRegex(
        r"discord(?:app)?\.com/api/webhooks/(\d+/[A-Za-z0-9_-]+)",
        needles=("discord.com/api/webhooks/", "discordapp.com/api/webhooks/")), 1),
    # telegram's bot API puts the token in the path: /bot<id>:<token>/sendMessage
    Rule("telegram-url", LazyRegex(r"/bot(\d{6,12}:[A-Za-z0-9_-]{20,})", needles=("/bot",)), 1),
    Rule("flag", LazyRegex(
        r"(?i)(?<![\w-])--?(?:[a-z0-9-]*(?:password|passwd|token|secret|api-key)|requirepass|masterauth)"
        r"[= ]([^\s\"']\S*|\"[^\"\n]*\"|'[^'\n]*')",
        needles=("api-key ", "api-key=", "masterauth ", "masterauth=", "passwd ", "passwd=",
                 "password ", "password=", "requirepass ", "requirepass=", "secret ",
                 "secret=", "token ", "token=")), 1),
    # the password glued to its flag: mysql -pPASS, mysqldump -p'PASS' (-P is the port)
    Rule("mysql-password", LazyRegex(
        r"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b"
        r"[^\n]*?\s-p('[^'\n]*'|\"[^\"\n]*\"|[^\s-]\S*)", needles=("mariadb", "mysql")), 1),
    Rule("cli-password", LazyRegex(r"\b(?:redis-cli[^\n]*?\s-a|sshpass\s+-p)\s+(\S+)",
                                   needles=("redis-cli", "sshpass")), 1),
    # NAME=value, "name": "value", name: value — quoted values may contain spaces; never
    # across a line (a YAML key's value on the next line is a mapping, not a secret)
    Rule("assignment", LazyRegex(
        # (the name from its keyword on: what precedes it cannot make it a non-secret, and
        # matching it too costs twice the time)
        rf"(?i)((?:{_KEYWORDS})[A-Za-z0-9_.-]*)(\"?[ \t]*[:=][ \t]*)"
        r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s\"',;&]+)",
        needles=("access-key", "access_key", "accesskey", "accountkey", "api-key", "api_key",
                 "apikey", "auth", "client-key", "client_key", "clientkey", "cookie",
                 "credential", "pass", "private-key", "private_key", "privatekey", "pwd",
                 "secret", "session", "token")), 3, not_secret=_assignment_is_not_secret),
    # Azure SAS tokens: ...&sig=<signature>
    Rule("sas-signature", LazyRegex(r"[?&]sig=([^&\s\"']+)", needles=("&sig=", "?sig=")), 1),
)


def spans(text: str, lowered: str | None) -> Iterator[Span]:
    """The spans to mask; ``lowered`` is `lazy.lowered(text)` (None: run every rule)."""
    for rule in RULES:
        if not rule.pattern.may_match(lowered):
            continue
        for m in rule.pattern.finditer(text):
            if rule.not_secret is not None and rule.not_secret(m):
                continue
            start, end = m.span((m.lastindex or 0) if rule.group < 0 else rule.group)
            end = _without_closer(text, start, end)
            if start < end:
                yield _unquoted(text, start, end)


_SECRET_NAME = LazyRegex(rf"(?i)(?:{_KEYWORDS}|auth|dsn|database_url|conn(?:ection)?_?str)")


def is_secret_name(name: str) -> bool:
    """A variable or key whose name says it holds a secret (`DB_PASSWORD`, `API_TOKEN`...): its
    value is masked even where no pattern recognises the value itself (manifest env values)."""
    return bool(_SECRET_NAME.search(name))
