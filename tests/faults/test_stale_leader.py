"""Class 2: a leader frozen past its lease (SIGSTOP, a long GC pause, a stalled node) and then
resumed must write nothing: another replica leads by then, and the pass it had started carries
the token of a leadership that is over."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from remediator.cli.demo import build_origin
from tests.support.bots import assert_converged, bot_branches, github_flags, next_pass
from tests.support.github_emulator import GitHubEmulator
from tests.support.kube_api import KubeAPI
from tests.support.service import Service

NS = "remediator"


def test_a_leader_paused_past_its_lease_writes_nothing_when_it_resumes(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    with KubeAPI() as kube, GitHubEmulator(origin, "acme", "gitops-example",
                                           token="token-a") as emu:
        emu.tokens.add("token-b")  # one token per replica: the emulator tells their writes apart
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        flags = (*github_flags(emu), "--leader-election", "--lease-namespace", NS,
                 "--lease-seconds", "4", "--kubeconfig", str(kube.kubeconfig(tmp_path / "kc")))
        # A's first PR is created on GitHub; its answer is held there, A waits for it
        held = emu.pause(method="POST", path="/pulls$", who="token-a")
        a = Service(tmp_path, origin, *flags, name="a",
                    env={"POD_NAME": "pod-a", "GITHUB_TOKEN": "token-a"})
        b = None
        try:
            a.wait_for("leading")
            b = Service(tmp_path, origin, *flags, name="b",
                        env={"POD_NAME": "pod-b", "GITHUB_TOKEN": "token-b"})
            b.wait_for("standby")
            assert held.reached.wait(120), "A never opened a PR"
            os.kill(a.proc.pid, signal.SIGSTOP)  # frozen mid-pass, with writes still to make
            assert held.hold is not None
            held.hold.set()  # the answer waits in A's socket
            b.wait_for("leading")  # A's lease expired: B took over
            done = next_pass(b)
            while done["event"] != "pass" or done["abandoned"] or done.get("fenced"):
                done = next_pass(b)  # a loaded machine may cost B a pass: the next one
            assert_converged(emu, origin)  # B completed A's PR and opened the rest
            heads = bot_branches(origin)
            bodies = {p.number: (p.title, p.body, list(p.labels)) for p in emu.pulls()}
            dashboard = [(i.number, i.body) for i in emu.issues()]

            resumed = time.monotonic()
            os.kill(a.proc.pid, signal.SIGCONT)
            ended = a.wait_for("pass", "pass_failed")  # the pass A was frozen in
            next_pass(b)  # B goes on leading: a pass after A's
            assert emu.writes("token-a", since=resumed) == []  # not one write after the pause
            assert ended["event"] == "pass" and ended.get("fenced"), ended
            fenced = next(r for r in a.seen if r["event"] == "fenced")
            assert "held by pod-b" in fenced["message"]  # the log line says why it stopped
            a.wait_for("standby")
            assert bot_branches(origin) == heads  # no push over the new leader's branches
            assert {p.number: (p.title, p.body, list(p.labels))
                    for p in emu.pulls()} == bodies  # no PR body rewritten
            assert [(i.number, i.body) for i in emu.issues()] == dashboard  # no 2nd dashboard
            assert_converged(emu, origin)
        finally:
            if a.proc.poll() is None:
                os.kill(a.proc.pid, signal.SIGCONT)
                a.proc.kill()
                a.proc.wait(timeout=60)
            if b is not None:
                assert b.terminate() == 0
