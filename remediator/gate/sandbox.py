"""Repository policies evaluated in a child process with a memory limit and a deadline.

A repository's own ``.rego`` files are code from whoever can open a pull request: one line
(``numbers.range(1, 4e8)``, a string doubled a few times) allocates gigabytes, two nested
ranges spin for hours, and regorus has no limit of its own. So the interpreter for them runs in
a child process that caps its own address space (``RLIMIT_AS``) and CPU time before it reads a
policy, and the parent waits at most ``timeout`` seconds for each answer. Running out of either
is a one-line ``RuntimeError``: the caller reports it as a policy error and the check fails
closed. The child is started on first use, kept for the next evaluations, and started again
after it was stopped.

The built-in policies (ours, reviewed) keep running in process: they are the fast path.
"""

from __future__ import annotations

import json
import os
import selectors
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..kernel import limits

if TYPE_CHECKING:
    import subprocess

    from ..model import JSON
    from .sources import PolicySource

#: the address space the child may take beyond what it has once Python and regorus are loaded
#: (`limits.policyMemoryMib`), and the deadline of one evaluation, an input against every
#: repository package (`limits.policyTimeoutSeconds`; ours take milliseconds)
#: the largest answer read back (a deny set of a few thousand messages is well below it)
MAX_ANSWER_BYTES = 64 << 20

# The child: only json, resource and regorus (no import of remediator: fast to start, and the
# policies never run next to our code). Limits are set before the first policy is read.
_CHILD = r"""
import json, re, resource, sys
import regorus
memory, cpu = int(sys.argv[1]), int(sys.argv[2])
# regorus's allocator reserves about 1 GiB of address space when it loads: the limit is on top
with open("/proc/self/status") as status:
    found = re.search(r"VmSize:\s+(\d+) kB", status.read())
memory += int(found.group(1)) * 1024 if found else 2 << 30
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
setup = json.loads(sys.stdin.readline())
engine = regorus.Engine()
engine.set_gather_prints(True)
for name, text, v0_allowed in setup["sources"]:
    try:
        engine.add_policy(name, text)
    except RuntimeError:  # the parent loaded the same files and reported it
        if v0_allowed:  # a conftest file may be Rego v0, as the parent's add_policy reads it
            engine.set_rego_v0(True)
            try:
                engine.add_policy(name, text)
            except RuntimeError:
                pass
            engine.set_rego_v0(False)
engine.add_data(setup["data"])
for line in sys.stdin:
    request = json.loads(line)
    run = engine.clone()
    if request["input"] is not None:
        run.set_input(request["input"])
    if request.get("coverage"):
        run.set_enable_coverage(True)
    try:
        answer = {"result": json.loads(run.eval_query_as_json(request["query"])).get("result")}
    except RuntimeError as exc:
        answer = {"error": str(exc)}
    if request.get("coverage"):
        answer["coverage"] = run.get_coverage_report_as_json()
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
"""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


class PolicySandbox:
    """One child process that evaluates queries against ``sources`` and ``data``."""

    def __init__(self, sources: Sequence[PolicySource], data: JSON, *,
                 memory: int | None = None, timeout: float | None = None):
        self._setup = json.dumps({"sources": [(s.name, s.text, s.conftest) for s in sources],
                                  "data": data}) + "\n"
        bounds = limits.current()
        self.memory = bounds.policy_memory_mib << 20 if memory is None else memory
        self.timeout = bounds.policy_timeout_seconds if timeout is None else timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        # a backstop only (the parent's deadline comes first): the child's start counts too
        cpu = int(self.timeout) + 10
        import subprocess  # with the first repository policy only (not `validate`'s built-ins)

        # -P and cwd="/": the folder we run in (a checkout) must not shadow json or regorus
        proc = subprocess.Popen([sys.executable, "-P", "-c", _CHILD, str(self.memory), str(cpu)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/",
                                stderr=subprocess.PIPE, start_new_session=True)
        self._finalizer = weakref.finalize(self, _stop, proc)
        assert proc.stdin is not None
        # written within the deadline like every request: a child that stops reading (paused,
        # stuck before its first line) must not block us on a full pipe
        os.set_blocking(proc.stdin.fileno(), False)
        return proc

    def query(self, query: str, input: JSON | None) -> Any:
        """The engine's ``result`` for ``query`` (None: undefined); RuntimeError with one line
        when the policy fails, runs out of memory or time."""
        answer = self._exchange({"query": query, "input": input})
        if "error" in answer:
            raise RuntimeError(str(answer["error"]))
        return answer.get("result")

    def covered(self, query: str, input: JSON | None) -> tuple[Any, str | None, str]:
        """``query`` evaluated with coverage on (`policy test --coverage`): its ``result``, the
        engine's coverage report (JSON; None when the child stopped before it could give one)
        and the policy's error ("" when none)."""
        try:
            answer = self._exchange({"query": query, "input": input, "coverage": True})
        except RuntimeError as exc:
            return None, None, str(exc)
        report = answer.get("coverage")
        return (answer.get("result"), report if isinstance(report, str) else None,
                str(answer.get("error", "")))

    def _exchange(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            setup = ""
            if self._proc is None or self._proc.poll() is not None:
                self._proc, setup = self._start(), self._setup
            proc = self._proc
            try:  # a new child's setup line first, within the same deadline
                return self._ask(proc, setup + json.dumps(request) + "\n")
            except RuntimeError:
                self.close_locked()
                raise

    def _ask(self, proc: subprocess.Popen[bytes], request: str) -> dict[str, Any]:
        assert proc.stdin is not None and proc.stdout is not None
        deadline = time.monotonic() + self.timeout
        self._write(proc, request.encode(), deadline)
        chunks: list[bytes] = []
        size = 0
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise RuntimeError(f"the repository's policies took longer than "
                                       f"{self.timeout:g}s on one input: stopped")
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    raise RuntimeError(self._died(proc))
                chunks.append(chunk)
                size += len(chunk)
                if chunk.endswith(b"\n"):
                    break
                if size > MAX_ANSWER_BYTES:
                    raise RuntimeError(f"the repository's policies answered more than "
                                       f"{MAX_ANSWER_BYTES} bytes: stopped")
        answer = json.loads(b"".join(chunks))
        return answer if isinstance(answer, dict) else {"error": "not an answer"}

    def _write(self, proc: subprocess.Popen[bytes], data: bytes, deadline: float) -> None:
        """All of ``data`` to the child's (non-blocking) stdin before ``deadline``."""
        assert proc.stdin is not None
        view = memoryview(data)
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdin, selectors.EVENT_WRITE)
            while view:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise RuntimeError(f"the policy evaluation process did not read its input "
                                       f"within {self.timeout:g}s: stopped")
                try:
                    view = view[os.write(proc.stdin.fileno(), view):]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    raise RuntimeError(self._died(proc)) from None

    def _died(self, proc: subprocess.Popen[bytes]) -> str:
        import signal

        code = proc.wait()
        assert proc.stderr is not None
        said = proc.stderr.read(1 << 16).decode("utf-8", "replace")  # it ended: bounded
        if (code in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGXCPU)
                or "MemoryError" in said or "memory allocation" in said):
            return (f"the repository's policies ran out of their memory limit "
                    f"({self.memory >> 20} MiB) or CPU time: stopped")
        last = [ln.strip() for ln in said.splitlines() if ln.strip()][-1:] or [""]
        return f"the policy evaluation process ended (exit {code}) {last[0]}".strip()

    def close_locked(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._proc = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()
