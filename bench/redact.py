"""Cost of redaction, which runs on every log excerpt, event message, prompt and PR body.

Corpus: the bundled demo snapshot's logs cut into 40-line excerpts (what detect keeps per
incident), plus the same excerpts with secrets of every format planted. The full redactor
(detect-secrets' detectors + our rules + known credentials) is timed against a baseline measured
in the same run: our own rules alone (the redactor's previous shape). Also printed: what the
unquoted-token rule's entropy threshold separates (random keys above it, identifiers below).
Run from the repo root: `python bench/redact.py`.
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections.abc import Callable
from pathlib import Path

import _root  # noqa: F401  (repo root on sys.path; first)

from remediator.kernel.redact import detectors, known, patterns, redact
from remediator.kernel.redact.lazy import lowered
from remediator.kernel.redact.patterns import ENTROPY_UNQUOTED

LOGS = Path(__file__).resolve().parent.parent / "gitops-repo-example" / "demo-snapshot" / "logs"
EXCERPT_LINES = 40
PLANTED = ["DB_PASSWORD=hunter2", "mysql -uroot -pMyS3cretPw", "sk_live_51HxAbCdEfGhIjKlMnOpQrStUv",
           "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           "https://discord.com/api/webhooks/123456789/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"]


def excerpts() -> list[str]:
    out = []
    for path in sorted(LOGS.rglob("*.log")):
        lines = path.read_text().splitlines()
        for i in range(0, max(len(lines), 1), EXCERPT_LINES):
            if lines[i:i + EXCERPT_LINES]:
                out.append("\n".join(lines[i:i + EXCERPT_LINES]))
    return out


def own_rules_only(text: str) -> int:
    return sum(1 for _ in patterns.spans(text, lowered(text))) + sum(1 for _ in known.spans(text))


def timed(fn: Callable[[str], object], texts: list[str], rounds: int) -> float:
    """Seconds per text, best of three."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            for t in texts:
                fn(t)
        best = min(best, (time.perf_counter() - start) / (rounds * len(texts)))
    return best


def main() -> None:
    clean = excerpts()
    rng = random.Random(7)
    planted = [t + "\n" + rng.choice(PLANTED) for t in clean]
    redact("warm-up: compile")  # the expressions are compiled once per process, not per text
    chars = sum(map(len, clean)) / len(clean)
    print(f"{len(clean)} excerpts of up to {EXCERPT_LINES} lines, {chars:.0f} characters "
          "on average")
    for label, texts in (("clean", clean), ("with a secret", planted)):
        base = timed(own_rules_only, texts, 20)
        full = timed(redact, texts, 20)
        print(f"{label:14} full redactor {full * 1e3:6.2f} ms/excerpt; own rules alone "
              f"{base * 1e3:6.2f} ms; ratio {full / base:4.1f}x")
    masked = sum(redact(t)[1] for t in planted)
    kept = sum(redact(t)[1] for t in clean)
    print(f"masked {masked} secrets in {len(planted)} planted excerpts; {kept} masks in the "
          "clean ones")
    alphabet = string.ascii_letters + string.digits + "+/"
    keys = sorted(detectors.entropy("".join(rng.choice(alphabet) for _ in range(40)))
                  for _ in range(1000))
    idents = ["HikariPool1ConnectionAdderThread2Worker", "AbstractAutowireCapableBeanFactory2x",
              "camelCaseFunctionNameWithNumber2AndMore"]
    print(f"entropy threshold {ENTROPY_UNQUOTED}: random 40-character keys "
          f"p1 {keys[10]:.2f} median {keys[500]:.2f}; identifiers "
          + ", ".join(f"{detectors.entropy(i):.2f}" for i in idents))


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    main()
