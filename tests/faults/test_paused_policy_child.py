"""A repository policy child that stops reading (paused, as a fault injector or a stuck start
leaves it) while the gate writes a large input to it: the write is bounded by the same
deadline as the answer, so the check fails closed with one line instead of blocking forever
on a full pipe."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from remediator.gate.sandbox import PolicySandbox
from remediator.gate.sources import PolicySource

POLICY = """package remediator.policies.mine
import rego.v1
deny contains "no replicas" if input.after.spec.replicas == 0
"""


def _deny(sandbox: PolicySandbox, input: dict[str, object]) -> object:
    result = sandbox.query("data.remediator.policies.mine.deny", input)
    return result[0]["expressions"][0]["value"] if result else None


def _children_running(marker: str) -> list[int]:
    """Our child processes whose command line holds ``marker``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and marker.encode() in cmdline:
            out.append(int(entry.name))
    return out


def test_a_paused_child_does_not_block_the_write_of_a_large_input():
    sandbox = PolicySandbox([PolicySource("mine.rego", POLICY)], {}, timeout=2)
    small = {"after": {"spec": {"replicas": 0}}}
    assert _deny(sandbox, small) == ["no replicas"]
    (child,) = _children_running("regorus")
    os.kill(child, signal.SIGSTOP)
    try:
        large = {"after": {"spec": {"replicas": 1}, "data": "x" * (4 << 20)}}  # > a pipe's buffer
        started = time.monotonic()
        try:
            _deny(sandbox, large)
        except RuntimeError as exc:
            assert str(exc) == ("the policy evaluation process did not read its input within "
                                "2s: stopped")
        else:
            raise AssertionError("a paused child answered")
        assert time.monotonic() - started < 60  # not a timing assert: "it returned at all"
    finally:
        with contextlib.suppress(ProcessLookupError):  # stopped and reaped by the sandbox
            os.kill(child, signal.SIGCONT)
    # the stopped child was replaced: the next input is answered
    assert _deny(sandbox, small) == ["no replicas"]
    sandbox.close()
