"""One formatter for every log line: the service's events and `logging` records (ours and other
libraries'), redacted, as JSON lines or text; remediator's level is configurable and a debug
record carries its traceback."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

from remediator.kernel import logs
from remediator.service.observe import JsonLog

SECRET_URL = "https://bot:Sup3rS3cretPw@github.com/acme/gitops"


@contextlib.contextmanager
def alone(out: io.StringIO) -> Iterator[None]:
    """The one handler alone on the root logger, writing to ``out`` (pytest's capture handlers,
    which would take the records first, set aside); everything put back afterwards."""
    before = list(logging.root.handlers)
    level = logging.getLogger("remediator").level
    for h in before:
        logging.root.removeHandler(h)
    try:
        logs.configure(json_lines=False, level="warning", stream=out)
        yield
    finally:
        for h in list(logging.root.handlers):
            logging.root.removeHandler(h)
        for h in before:
            logging.root.addHandler(h)
        logging.getLogger("remediator").setLevel(level)


def test_a_library_record_and_an_event_are_one_json_shape():
    stream = io.StringIO()
    with alone(stream):
        logs.configure(json_lines=True)
        logging.getLogger("some.library").warning("Retrying: %s", SECRET_URL)
        JsonLog(stream)("pass_failed", f"clone of {SECRET_URL} failed", level="error")
    library, event = (json.loads(line) for line in stream.getvalue().splitlines())
    assert library["event"] == "library" and library["logger"] == "some.library"
    assert library["level"] == "warning" and "[REDACTED]" in library["message"]
    assert event["event"] == "pass_failed" and "[REDACTED]" in event["message"]
    assert list(library)[:4] == list(event)[:4] == ["time", "level", "event", "message"]
    assert "Sup3rS3cretPw" not in stream.getvalue()


def test_the_level_is_remediators_and_debug_carries_the_traceback():
    stream = io.StringIO()
    ours = logging.getLogger("remediator.test")
    with alone(stream):
        ours.debug("hidden at the default level")
        logging.getLogger("some.library").info("a library's info stays hidden")
        assert stream.getvalue() == ""
        logs.configure(level="debug")
        logging.getLogger("some.library").debug("a library's debug stays hidden too")
        try:
            raise RuntimeError(f"push to {SECRET_URL} failed")
        except RuntimeError:
            ours.debug("internal error", exc_info=True)
    text = stream.getvalue()
    assert text.startswith("internal error\nTraceback (most recent call last):")
    assert "RuntimeError: push to https://bot:[REDACTED]@github.com" in text
    assert "hidden" not in text and "Sup3rS3cretPw" not in text


def test_a_library_that_silenced_itself_stays_silent():
    stream = io.StringIO()
    quiet = logging.getLogger("quiet.library")
    quiet.addHandler(logging.NullHandler())
    try:
        with alone(stream):
            quiet.warning("not for our stderr")
            logging.getLogger("loud.library").warning("for our stderr")
    finally:
        quiet.handlers.clear()
    assert stream.getvalue() == "for our stderr\n"


def test_another_handler_on_the_way_up_takes_the_record_first():
    """As with Python's last-resort handler: a handler someone else installed (pytest's
    capture, an embedding application's) takes the record, and ours stays quiet."""
    stream, theirs = io.StringIO(), io.StringIO()
    with alone(stream):
        other = logging.StreamHandler(theirs)
        logging.root.addHandler(other)
        logging.getLogger("some.library").warning("once")
    assert stream.getvalue() == "" and theirs.getvalue() == "once\n"


def test_log_level_on_the_command_line_reaches_remediators_loggers():
    code = ("import logging\nfrom remediator.cli import main\n"
            "main(['--log-level', 'debug', 'plan', '--help'], standalone_mode=False)\n"
            "logging.getLogger('remediator.x').debug('traced', exc_info=ValueError('boom'))\n"
            "logging.getLogger('urllib3.x').debug('library chatter')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert "traced\nValueError: boom" in out.stderr, out.stderr
    assert "library chatter" not in out.stderr
