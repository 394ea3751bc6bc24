"""How the commands fail: one line on stderr and an exit code, never a traceback.

One scheme for every command:
  0  done: the command did what was asked (a plan with incidents is still 0)
  1  findings or failed work: violations (`validate`), failed tests (`policy test`), missing
     checks (`doctor`), and work that ran and failed (cluster, git remote or forge unreachable
     or refusing, a file that cannot be written)
  2  usage and configuration errors: bad flags, an invalid or missing configuration file, a
     repository folder, snapshot, path or ref that does not exist or cannot be read, a `--forge`
     that contradicts the repository, a base branch the remote does not have, a model provider
     whose client is not installed
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from ..ci import UsageError
from ..config import ConfigError
from ..kernel import limits
from .output import say

_log = logging.getLogger(__name__)

EXIT_FAILED = 1
EXIT_USAGE = 2

#: where a failure's one line goes: stderr as text (`remediator: error: ...`), or a JSON log
Report = Callable[[str], None]


def _text(message: str) -> None:
    say(f"remediator: error: {message}", err=True)


@contextmanager
def errors(report: Report | None = None) -> Iterator[None]:
    """Turn the expected failures into one line (``report``: default stderr as text) and the
    exit code of the scheme above."""
    report = report or _text
    try:
        with limits.kept():  # the limits the command's configuration sets end with it
            yield
    except (UsageError, ConfigError) as exc:
        report(str(exc))
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        report(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        sys.exit(EXIT_FAILED)
    except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
        raise
    except Exception as exc:
        # the cluster's and the forge's errors, if they were loaded at all (importing them for
        # their exception classes would load the Kubernetes and GitHub clients into every
        # command: bench/startup.py)
        cluster, forge = sys.modules.get("remediator.cluster"), sys.modules.get("remediator.forge")
        gitpython = sys.modules.get("git")  # GitPython (~30 ms), loaded by the commands that clone
        if gitpython is not None and isinstance(exc, gitpython.GitCommandNotFound):
            report("git is not installed (or not on the PATH): install git")
            sys.exit(EXIT_FAILED)
        if (cluster is not None and isinstance(exc, cluster.SnapshotError)) or (
                forge is not None and isinstance(exc, (forge.ForgeMismatch, forge.MissingBase))):
            report(str(exc))
            sys.exit(EXIT_USAGE)
        if (cluster is not None and isinstance(exc, cluster.ClusterError)) or (
                forge is not None and isinstance(exc, forge.ForgeError)):
            report(str(exc))
            sys.exit(EXIT_FAILED)
        # a bug or an input we did not foresee: still one line, no traceback
        _log.debug("unexpected error", exc_info=True)  # --log-level debug: the traceback
        first = str(exc).splitlines()[0] if str(exc) else ""
        report(f"unexpected {type(exc).__name__}: {first} (please report this with the "
               "snapshot)")
        sys.exit(EXIT_FAILED)



def log_error(log: Callable[..., None]) -> Report:
    """Failures reported as `error` lines of a JSON log (`--log-format json`)."""
    return lambda message: log("error", message, level="error")
