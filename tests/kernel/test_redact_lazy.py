"""Every command imports the redactor (kernel.logs does), `--help` included: importing it compiles
no regular expression, and redacting loads neither detect-secrets nor `requests` (its patterns
are generated data, see test_redact_denylist.py). Each check runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

# re.compile wrapped before the import, recording the callers in remediator.kernel.redact (the
# standard library's own imports compile expressions too: they are not counted)
_COUNT_COMPILES = """
import re, sys
compiled = []
_compile = re.compile
def counting(pattern, flags=0):
    caller = sys._getframe(1).f_globals.get("__name__", "")
    if caller.startswith("remediator.kernel.redact"):
        compiled.append((caller, pattern))
    return _compile(pattern, flags)
re.compile = counting
"""


def _run(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()


def test_importing_the_redactor_compiles_nothing_and_the_first_redact_compiles() -> None:
    out = _run(_COUNT_COMPILES + (
        "from remediator.kernel.redact import is_secret_name, redact\n"
        "print(len(compiled))\n"
        "assert redact('x password=hunter2 AKIAIOSFODNN7EXAMPLE')[1] == 2\n"
        "assert is_secret_name('DB_PASSWORD')\n"
        # (only the expressions this text may match: test_redact_prefilter.py counts them)
        "print(len(compiled) > 0)\n"))
    assert out == ["0", "True"]


def test_redacting_loads_neither_detect_secrets_nor_requests() -> None:
    out = _run("import sys\nfrom remediator.kernel.redact import redact, looks_like_secret\n"
               "redact('key: \"c2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZw8Kx9Qz\" AKIAIOSFODNN7EXAMPLE')\n"
               "looks_like_secret('sk_live_51HxAbCdEfGhIjKlMnOpQrStUv')\n"
               "print(sorted(m for m in sys.modules if m.split('.')[0] in "
               "('detect_secrets', 'requests')))")
    assert out == ["[]"]
