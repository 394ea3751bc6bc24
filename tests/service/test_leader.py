"""Leader election on a Lease against the Kubernetes API emulator (tests/support/kube_api.py):
the lock's rounds with a moving clock, 409 on a stale write, and two real `remediator run`
processes where the leader is killed mid-pass and the standby takes over without duplicating a
pull request."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from remediator.cli.demo import build_origin
from remediator.cluster import connect
from remediator.forge import LocalForge
from remediator.forge.body import parse_record
from remediator.kernel.leader import NO_FENCE, LeaseLock, LeaseLost
from tests.support.kube_api import KubeAPI
from tests.support.service import Service

NS = "remediator"


@pytest.fixture
def kube(tmp_path: Path):
    with KubeAPI() as kube:
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        yield kube, kube.kubeconfig(tmp_path / "kubeconfig")


def _lease(kube: KubeAPI) -> dict:
    found = kube.get("coordination.k8s.io/v1", "Lease", "remediator", NS)
    assert found is not None
    return found["spec"]


def test_lease_rounds_acquire_renew_take_over_and_release(kube):
    emulator, kubeconfig = kube
    now = [datetime(2026, 11, 22, 7, 0, tzinfo=UTC)]
    api = connect(kubeconfig=str(kubeconfig))
    a = LeaseLock(api, NS, "remediator", "pod-a", 15, clock=lambda: now[0])
    b = LeaseLock(api, NS, "remediator", "pod-b", 15, clock=lambda: now[0])
    assert a.try_acquire_or_renew() and a.is_leading()  # created
    assert not b.try_acquire_or_renew() and not b.is_leading()
    now[0] += timedelta(seconds=10)
    assert a.try_acquire_or_renew()  # renewed
    assert _lease(emulator)["holderIdentity"] == "pod-a"
    now[0] += timedelta(seconds=14)
    assert not b.try_acquire_or_renew()  # 14 s after the renewal: still a's
    now[0] += timedelta(seconds=2)
    assert b.try_acquire_or_renew()  # expired: taken over
    spec = _lease(emulator)
    assert spec["holderIdentity"] == "pod-b" and spec["leaseTransitions"] == 1
    assert not a.try_acquire_or_renew() and not a.is_leading()  # a learns it lost
    b.release()
    assert _lease(emulator).get("holderIdentity") is None
    assert a.try_acquire_or_renew()  # released: no need to wait for the expiry


def test_a_fence_holds_only_for_the_leadership_it_was_taken_under(kube):
    """The token a pass carries (holder and leaseTransitions), compared with the Lease as the API
    server has it: renewals keep it; a takeover, or the same replica leading again later, end
    it. A pass started before stays fenced even when its replica leads again."""
    _, kubeconfig = kube
    now = [datetime(2026, 11, 22, 7, 0, tzinfo=UTC)]
    api = connect(kubeconfig=str(kubeconfig))
    a = LeaseLock(api, NS, "remediator", "pod-a", 15, clock=lambda: now[0])
    b = LeaseLock(api, NS, "remediator", "pod-b", 15, clock=lambda: now[0])
    assert a.try_acquire_or_renew()
    fence = a.fence()
    fence.check("push x")  # held: nothing raised
    now[0] += timedelta(seconds=10)
    assert a.try_acquire_or_renew()
    fence.check("push x")  # renewed: the same leadership
    now[0] += timedelta(seconds=16)  # a was frozen past its lease ...
    assert b.try_acquire_or_renew()  # ... and b took over
    with pytest.raises(LeaseLost, match=r"not done \(push x\): the Lease is held by pod-b"):
        fence.check("push x")
    b.release()
    assert a.try_acquire_or_renew()  # a leads again, under a new transition
    with pytest.raises(LeaseLost, match="this pass started as pod-a"):
        fence.check("push x")
    a.fence().check("push x")  # a pass started now carries the new token
    with pytest.raises(LeaseLost, match="held by pod-a"):
        b.fence().check("push x")  # taken while not leading: never holds
    NO_FENCE.check("push x")  # no leader election: nothing to compare


def test_a_stale_lease_write_is_a_conflict(kube):
    _, kubeconfig = kube
    api = connect(kubeconfig=str(kubeconfig))
    a = LeaseLock(api, NS, "remediator", "pod-a", 15)
    assert a.try_acquire_or_renew()
    coordination = k8s_client.CoordinationV1Api(api)
    stale = coordination.read_namespaced_lease("remediator", NS)
    assert a.try_acquire_or_renew()  # a renews: the version b read is gone
    stale.spec.holder_identity = "pod-b"
    with pytest.raises(ApiException) as err:
        coordination.replace_namespaced_lease("remediator", NS, stale)
    assert err.value.status == 409
    assert coordination.read_namespaced_lease("remediator", NS).spec.holder_identity == "pod-a"


def test_two_replicas_one_leads_the_other_takes_over_when_it_is_killed(kube, tmp_path: Path):
    emulator, kubeconfig = kube
    origin = build_origin(tmp_path / "work")
    # Both replicas talk to one forge, as two pods do to GitHub: the local forge's PR records.
    (tmp_path / "a" / "pulls").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pulls").symlink_to(tmp_path / "a" / "pulls", target_is_directory=True)
    flags = ("--leader-election", "--lease-namespace", NS, "--lease-seconds", "3",
             "--kubeconfig", str(kubeconfig))
    a = Service(tmp_path, origin, *flags, env={"POD_NAME": "pod-a"}, name="a")
    b = None
    try:
        a.wait_for("leading")
        b = Service(tmp_path, origin, *flags, env={"POD_NAME": "pod-b"}, name="b")
        b.wait_for("standby")
        assert _lease(emulator)["holderIdentity"] == "pod-a"
        a.wait_for("pull_request")  # the first PR of the pass is out: kill it mid-pass
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(timeout=60)
        b.wait_for("leading")
        spec = _lease(emulator)
        assert spec["holderIdentity"] == "pod-b" and spec["leaseTransitions"] >= 1
        done = b.wait_for("pass")
        while done["abandoned"]:  # lost the lease for a moment (a loaded machine): next pass
            done = b.wait_for("pass")
        assert done["incidents"] >= 1
        code, _ = b.get("/readyz")
        assert code == 200
    finally:
        if a.proc.poll() is None:
            a.proc.kill()
        rc = b.terminate() if b is not None else None
    assert rc == 0
    assert _lease(emulator).get("holderIdentity") is None  # released on SIGTERM
    proposed = {r["signature"] for r in b.seen
                if r["event"] == "incident" and r["decision"] == "propose"}
    pulls = LocalForge(str(origin), tmp_path / "a").pulls()
    signatures = [parse_record(p.body)["signature"] for p in pulls]
    assert sorted(signatures) == sorted(proposed)  # every one opened, none twice
    assert len({p.branch for p in pulls}) == len(pulls)
