"""One formatter for every log line: the service's events and `logging` records (ours and other
libraries'), redacted, as JSON lines or text; remediator's level is configurable and a debug
record carries its traceback."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest

from remediator.kernel import logs
from remediator.service.observe import JsonLog

SECRET_URL = "https://bot:Sup3rS3cretPw@github.com/acme/gitops"


@pytest.fixture
def stream():
    """The one handler, writing to a buffer; put back as it was afterwards."""
    before = [h for h in logging.root.handlers]
    level = logging.getLogger("remediator").level
    out = io.StringIO()
    for h in [h for h in logging.root.handlers if isinstance(h, logs._Handler)]:
        logging.root.removeHandler(h)
    logs.configure(json_lines=False, level="warning", stream=out)
    yield out
    for h in [h for h in logging.root.handlers if h not in before]:
        logging.root.removeHandler(h)
    for h in before:
        if h not in logging.root.handlers:
            logging.root.addHandler(h)
    logging.getLogger("remediator").setLevel(level)


def test_a_library_record_and_an_event_are_one_json_shape(stream: io.StringIO):
    logs.configure(json_lines=True)
    logging.getLogger("some.library").warning("Retrying: %s", SECRET_URL)
    JsonLog(stream)("pass_failed", f"clone of {SECRET_URL} failed", level="error")
    library, event = (json.loads(line) for line in stream.getvalue().splitlines())
    assert library["event"] == "library" and library["logger"] == "some.library"
    assert library["level"] == "warning" and "[REDACTED]" in library["message"]
    assert event["event"] == "pass_failed" and "[REDACTED]" in event["message"]
    assert list(library)[:4] == list(event)[:4] == ["time", "level", "event", "message"]
    assert "Sup3rS3cretPw" not in stream.getvalue()


def test_the_level_is_remediators_and_debug_carries_the_traceback(stream: io.StringIO):
    ours = logging.getLogger("remediator.test")
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


def test_a_library_that_silenced_itself_stays_silent(stream: io.StringIO):
    quiet = logging.getLogger("quiet.library")
    quiet.addHandler(logging.NullHandler())
    try:
        quiet.warning("not for our stderr")
    finally:
        quiet.handlers.clear()
    assert stream.getvalue() == ""


def test_log_level_on_the_command_line_reaches_remediators_loggers():
    code = ("import logging\nfrom remediator.cli import main\n"
            "main(['--log-level', 'debug', 'plan', '--help'], standalone_mode=False)\n"
            "logging.getLogger('remediator.x').debug('traced', exc_info=ValueError('boom'))\n"
            "logging.getLogger('urllib3.x').debug('library chatter')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert "traced\nValueError: boom" in out.stderr, out.stderr
    assert "library chatter" not in out.stderr
