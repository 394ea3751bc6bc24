"""How the commands fail: one line on stderr and an exit code, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..ci import UsageError
from ..cluster import ClusterError, SnapshotError
from ..config import ConfigError
from ..forge import ForgeError
from .output import say

EXIT_FAILED = 1
EXIT_USAGE = 2


@contextmanager
def errors() -> Iterator[None]:
    """Turn the expected failures into one line and exit code 1: never a traceback."""
    try:
        yield
    except (SnapshotError, ConfigError, ForgeError, ClusterError) as exc:
        say(f"remediator: error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    except OSError as exc:
        say(f"remediator: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
                   err=True)
        sys.exit(EXIT_FAILED)
    except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug or an input we did not foresee: still one line, no traceback
        first = str(exc).splitlines()[0] if str(exc) else ""
        say(f"remediator: error: unexpected {type(exc).__name__}: {first} "
                   "(please report this with the snapshot)", err=True)
        sys.exit(EXIT_FAILED)


@contextmanager
def checkerrors() -> Iterator[None]:
    """For the check commands, configuration and usage problems exit 2 (1 means violations)."""
    try:
        yield
    except (UsageError, ConfigError) as exc:
        say(f"remediator: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
