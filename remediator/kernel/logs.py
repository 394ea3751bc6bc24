"""Logging: one formatter for every line the bot logs, redacted, as JSON lines or plain text.

Library code logs with `logging.getLogger(__name__)`; the service's events (`JsonLog`) and any
library's records go through :func:`render`, so `run --log-format json` keeps stderr one JSON
object per line whoever wrote it. :func:`configure` installs the one handler (the CLI does, once
per command): ``level`` is remediator's own (`--log-level`, `$REMEDIATOR_LOG_LEVEL`); other
libraries keep WARNING. Like Python's last-resort handler, which it replaces, it writes only the
records no other handler takes: a library that silenced itself (urllib3, PyGithub) stays silent.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from .redact import redact

LEVELS = ("debug", "info", "warning", "error")
#: the event of a `logging` record: another library's, or remediator's own (a debug traceback)
LIBRARY, OURS = "library", "log"


def redacted(value: Any) -> Any:
    """Strings redacted one by one (a JSON line stays valid JSON); anything that is not plain
    JSON (an exception, a path) becomes its text first, so it cannot skip the redactor."""
    if isinstance(value, dict):
        return {str(k): redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))[0]


def render(record: dict[str, Any], json_lines: bool) -> str:
    """One log line from ``record`` (time, level, event, message, fields), redacted.

    Text: `remediator: EVENT: MESSAGE k=v ...` for an event; a `logging` record (it names its
    logger) is its message alone and its traceback, as Python's own handler writes it."""
    record = redacted(record)
    if json_lines:
        return json.dumps(record, default=str)
    if "logger" in record:
        return "\n".join(str(record[k]) for k in ("message", "traceback") if record.get(k))
    extra = " ".join(f"{k}={v}" for k, v in record.items()
                     if k not in ("time", "level", "event", "message"))
    return f"remediator: {record['event']}: {record.get('message', '')} {extra}".strip()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Formatter(logging.Formatter):
    """A `logging` record as :func:`render` writes it."""

    def __init__(self, json_lines: bool = False) -> None:
        super().__init__()
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        ours = record.name.partition(".")[0] == "remediator"
        fields: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(), "event": OURS if ours else LIBRARY,
            "message": record.getMessage(), "logger": record.name}
        if record.exc_info:
            fields["traceback"] = self.formatException(record.exc_info)
        return render(fields, self.json_lines)


class _Handler(logging.Handler):
    """On the root logger: writes to whatever stderr is at the time (tests swap it)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        if self._handled_elsewhere(record.name):
            return
        try:
            stream = self.stream or sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)

    def _handled_elsewhere(self, name: str) -> bool:
        """Another handler on the record's way up (a library's own, a test's capture)."""
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None:
            if any(h is not self for h in logger.handlers):
                return True
            logger = logger.parent if logger.propagate else None
        return False


def configure(json_lines: bool | None = None, level: str | None = None,
              stream: TextIO | None = None) -> None:
    """Install (or adjust) the one handler: ``json_lines`` and ``level`` left None keep what
    they were (text, warning)."""
    handler = next((h for h in logging.root.handlers if isinstance(h, _Handler)), None)
    if handler is None:
        handler = _Handler(stream)
        handler.setFormatter(Formatter())
        logging.root.addHandler(handler)
        logging.root.setLevel(logging.WARNING)
    elif stream is not None:
        handler.stream = stream
    if json_lines is not None:
        handler.setFormatter(Formatter(json_lines))
    if level is not None:
        logging.getLogger("remediator").setLevel(level.upper())
