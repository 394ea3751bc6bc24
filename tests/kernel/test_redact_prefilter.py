"""The redactor's prefilter (remediator/kernel/redact/lazy.py): an expression is compiled and run
only on a text that holds one of its needles. Checked here: the needles written next to our
rules are what the analysis (`needles.derive`) finds; the analysis finds only needles that every
match holds; redacting with the prefilter masks exactly what running every expression masks; a
text that is not ASCII runs them all; a clean report compiles only the expressions its needles
call for, without importing the analysis or parsing anything else."""

from __future__ import annotations

import json
import random
import re
import string
import subprocess
import sys

import pytest

from remediator.kernel.redact import MASK, redact
from remediator.kernel.redact.denylist import BASE64_REGEX, DENYLIST
from remediator.kernel.redact.needles import derive
from remediator.kernel.redact.patterns import RULES
from tests.support.secrets import ORDINARY, SECRETS

#: (name, source, flags, needles) of every expression the redactor runs on a whole text
EXPRESSIONS = [
    *((rule.name, rule.pattern.source, rule.pattern.flags, rule.pattern.needles)
      for rule in RULES),
    *((f"{module}[{i}]", source, flags, needles) for module, _class, patterns in DENYLIST
      for i, (source, flags, needles) in enumerate(patterns)),
    ("base64", *BASE64_REGEX),
]
NEEDLES = sorted({n for *_rest, needles in EXPRESSIONS for n in needles})

REPORT = ("remediator validate: 0 errors, 0 warnings, 0 notes; 1 file, 1 object, "
          "0 kustomizations built")

# ------------------------------------------------------------------ the needles declared


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_each_rules_needles_are_what_the_analysis_finds(rule) -> None:
    derived = derive(rule.pattern.source, rule.pattern.flags)
    declared = rule.pattern.needles
    # sound: a text that holds a derived needle holds a declared one (none derived: none
    # declared, the rule always runs)
    assert all(any(d in n for d in declared) for n in derived), (
        f"{rule.name}: a text with one of {derived} may match, and holds none of {declared}")
    assert bool(derived) == bool(declared), f"{rule.name}: the analysis finds no needle"
    # and as selective as the analysis can make them
    assert declared == derived, f"{rule.name}: write needles={derived!r}"


def test_the_expressions_run_unfiltered_are_few() -> None:
    """What always runs, however ordinary the text: a quiet report pays for these."""
    assert [name for name, *_rest, needles in EXPRESSIONS if not needles] == [
        "base64-body", "random-token"]


# ------------------------------------------------------------------ the analysis

ANALYSED = [
    (r"AKIA[0-9A-Z]{16}", 0, ("akia",)),  # a run of literals, lowercased
    (r"(?:r|s)k_live_", 0, ("rk_live_", "sk_live_")),  # a class of literals joins the run
    (r"(?:ghp|gho)_\w+|github_pat_", 0, ("gho_", "ghp_", "github_pat_")),  # `g` factored out
    (r"\bfoo\b", 0, ("foo",)),  # anchors consume nothing: the run goes on
    (r"(?<=://)[^@\s]+@", 0, ("://",)),  # what a positive lookaround sees is text
    (r"(?<!x)(?![a-z])\d+", 0, ()),  # a negative one sees nothing
    (r"(?:token|pass)\S*=", 0, ("pass", "token")),  # an alternation: the union
    (r"(?:token|\d+)=", 0, ("=",)),  # a branch without a literal: the alternation has none
    (r"(?:ab)?cd", 0, ("cd",)),  # `abcd` holds `cd`
    (r"x*", 0, ()),
    (r"(?:ab){2}", 0, ("abab",)),
    (r"(?:ab)+c", 0, ("abc",)),  # a repeat ends as its child ends
    (r"(a)b\1", 0, ("ab",)),
    (r"[^a]bc.", 0, ("bc",)),
    (r"\d{8,10}:[0-9A-Za-z_-]{35}", 0, (":",)),
    (r"(?i)PassWord", 0, ("password",)),
    (r"PassWord", re.IGNORECASE, ("password",)),
    (r"(?i)ſecret", 0, ("ecret",)),  # not ASCII, not a literal: `ſ` matches `s` under (?i)
    ("\u212a", 0, ()),  # the Kelvin sign
    (r"(?x) a b  # a comment", 0, ("ab",)),
    (r"(?>ab)c", 0, ("abc",)),
    (r"[abcd][abcd][abcd]x", 0, ("ax", "bx", "cx", "dx")),  # 64 strings: the run is cut
]


@pytest.mark.parametrize(("source", "flags", "needles"), ANALYSED)
def test_the_analysis(source: str, flags: int, needles: tuple[str, ...]) -> None:
    assert derive(source, flags) == needles


def _random_case(rng: random.Random, text: str) -> str:
    return rng.choice((str.lower, str.upper, str.swapcase, str))(text)


#: texts that each expression with needles matches (the checks below are not vacuous)
MATCHED = [
    " AKCabcdefghijk ", " AP1abcdefgh ", "ABIA0123456789ABCDEF", "aws_key = '" + "a1B/" * 10 + "'",
    "AccountKey=" + "aB1+" * 22, "cloudant_apikey: " + "0a" * 32, "cl-pw = " + "a" * 24,
    "https://me:" + "0a" * 32 + "@acct.cloudant.com", "http://me:" + "a" * 24 + "@x.cloudant.com",
    "M" + "a" * 24 + "." + "b" * 6 + "." + "c" * 27, "ghs_" + "a" * 36, "gldt-" + "a" * 20,
    "GR1348941" + "a" * 20, "glcbt-0a_" + "a" * 20, "glimt-" + "a" * 25, "glptt-" + "a" * 40,
    "glagent-" + "a" * 50, "gloas-" + "a" * 64, "ibm_cloud_iam_api_key = " + "aB3_" * 11,
    "cos_hmac_secret_access_key=" + "0a" * 24, "0a" * 16 + "-us12",
    "//registry.npmjs.org/:_authToken=npm_abc", "sk-" + "A" * 20 + "T3BlbkFJ" + "B" * 20,
    "pypi-AgEIcHlwaS5vcmc" + "A" * 70, "pypi-AgENdGVzdC5weXBpLm9yZw" + "A" * 70,
    "SG." + "a" * 22 + "." + "b" * 43, "xoxp-12-34-abc", "https://hooks.slack.com/services/T1/B2/c",
    "softlayer_api_key: " + "a1" * 32, "https://api.softlayer.com/soap/v3.1/" + "a1" * 32,
    "sq0csp-" + "A" * 43, "AC" + "a1" * 16, "SK" + "0f" * 16, "sk_test_" + "a" * 10,
    "hvs." + "a" * 24, "xapp-1-abcdefghijk", "x-auth-token: abc", "--api-key=abc",
    "github_pat_" + "a" * 20, "mariadb -pX", "sshpass -p pw", "https://x?sig=abc",
    "curl -H 'Authorization: digest abc12345'",
    "GET https://api.telegram.org/bot123456789:" + "A" * 35 + "/sendMessage",
]
CORPUS = [
    *(text for _name, text, _secret in SECRETS), *ORDINARY, *MATCHED, REPORT, "",
    # object names with a keyword, and assignments (tests/kernel/test_redact_object_names.py)
    'base/session-db.yaml:21: error [policy/resources] Deployment/session-db: container '
    '"session-db" has no memory limit', "Secret/db: password: hunter2-prod-pw",
    "deployment.apps/token-api: container web restarted", "x" * 600 + " session: hunter2",
]


def _random_texts(count: int) -> list[str]:
    """Texts spliced from the corpus' words, every needle, separators and random tokens, in
    random case: needles next to (and inside) what makes a match."""
    rng = random.Random(8)
    words = [w for text in CORPUS for w in re.split(r"[ \n]", text) if w]
    tokens = [string.ascii_letters + string.digits + "+/_-=", string.hexdigits, string.digits]
    fragments = [*words, *NEEDLES, *(t for _n, t, _s in SECRETS)]
    separators = ["", "", " ", "=", ": ", "\n", "/", '"', "'", "-", "_", "@", ":"]
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.2:
                alphabet = rng.choice(tokens)
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(4, 64))))
            else:
                parts.append(_random_case(rng, rng.choice(fragments)))
            parts.append(rng.choice(separators))
        texts.append("".join(parts))
    return texts


TEXTS = [*CORPUS, *(_random_case(random.Random(i), t) for i, t in enumerate(CORPUS)),
         "\n".join(CORPUS), " ".join(CORPUS), *_random_texts(1500)]


@pytest.mark.parametrize(("name", "source", "flags", "needles"), EXPRESSIONS,
                         ids=[e[0] for e in EXPRESSIONS])
def test_a_text_that_an_expression_matches_holds_one_of_its_needles(
        name: str, source: str, flags: int, needles: tuple[str, ...]) -> None:
    regex = re.compile(source, flags)
    matched = [t for t in TEXTS if regex.search(t)]
    missed = [t for t in matched if needles and not any(n in t.lower() for n in needles)]
    assert missed == [], f"{name} matches texts that hold none of {needles}"
    assert matched or not needles, f"{name}: no text matches it, add one to MATCHED"


def test_redacting_with_the_prefilter_masks_what_running_every_expression_masks() -> None:
    different = [t for t in TEXTS if redact(t) != redact(t, prefilter=False)]
    assert different == []
    assert sum(redact(t)[1] > 0 for t in TEXTS) > len(TEXTS) // 2  # (not vacuous)


# ------------------------------------------------------------------ texts that are not ASCII

#: a keyword spelled with a character that (?i) matches to an ASCII letter
UNICODE_KEYWORDS = [
    "DB_PAſſWORD=hunter2-prod-pw",  # the long s: `str.lower()` keeps it, (?i)`s` matches it
    "PRİVATE_KEY=hunter2-prod-pw",  # the dotted capital I lowercases to two characters
    "api_\u212aey: hunter2-prod-pw",  # the Kelvin sign
]


@pytest.mark.parametrize("text", UNICODE_KEYWORDS)
def test_a_text_that_is_not_ascii_runs_every_expression(text: str) -> None:
    out, count = redact(text)
    assert "hunter2-prod-pw" not in out and count == 1 and MASK in out
    assert (out, count) == redact(text, prefilter=False)


def test_a_lowercased_text_that_is_not_ascii_may_lack_the_needles_of_a_match() -> None:
    """Why such a text runs everything: the lowered long s and dotted I hide the keyword."""
    [assignment] = [rule.pattern for rule in RULES if rule.name == "assignment"]
    for text in UNICODE_KEYWORDS[:2]:
        assert assignment.search(text) and not assignment.may_match(text.lower())


# ------------------------------------------------------------------ what a report costs

# in a fresh interpreter: re.compile (callers in the redactor) and the parser counted from the
# first redaction on
_FIRST_REDACTION = """
import json, re, re._parser, sys
from remediator.kernel.redact import redact
compiled, parsed = [], []
_compile, _parse = re.compile, re._parser.parse
def compile(pattern, flags=0):
    if sys._getframe(1).f_globals.get("__name__", "").startswith("remediator.kernel.redact"):
        compiled.append(pattern)
    return _compile(pattern, flags)
def parse(*args, **kwargs):
    parsed.append(args[0])
    return _parse(*args, **kwargs)
re.compile, re._parser.parse = compile, parse
assert redact(sys.argv[1]) == (sys.argv[1], 0)
print(json.dumps({"compiled": compiled, "parsed": parsed,
                  "analysis": "remediator.kernel.redact.needles" in sys.modules}))
"""


def test_a_clean_report_compiles_what_its_needles_call_for_and_parses_nothing_else() -> None:
    out = subprocess.run([sys.executable, "-c", _FIRST_REDACTION, REPORT], capture_output=True,
                         text=True, check=True)
    seen = json.loads(out.stdout)
    lowered = REPORT.lower()
    expected = [(name, source) for name, source, _flags, needles in EXPRESSIONS
                if not needles or any(n in lowered for n in needles)]
    assert sorted(seen["compiled"]) == sorted(source for _name, source in expected)
    # the two without a literal, and the Telegram token's `:` (digits, a colon, 35 characters)
    assert [name for name, _source in expected] == [
        "base64-body", "random-token", "telegram_token[0]"]
    assert not seen["analysis"]
    assert sorted(seen["parsed"]) == sorted(seen["compiled"])
