"""The one-line messages and evidence a pull request's summary quotes: as the cluster shows it,
with nothing garbled, lost or cut without saying so."""

from __future__ import annotations

from remediator.detect.evidence import pod_requests
from tests.support import kube
from tests.support.around import detected, stuck_pod

MI = 2**20


def test_a_crash_loop_without_a_last_state_says_so_and_counts_its_restarts():
    # it read "container cart crash-looping, last no last state (0 restarts)"
    loop = kube.crashing("cart", restarts=7)
    loop["lastState"] = {}
    d, rs, p = stuck_pod([loop])
    inc = detected(d, rs, p)["CrashLoopBackOff"]
    assert inc.message == "container cart crash-looping, last termination unknown (7 restarts)"
    assert inc.evidence.restarts == 7


def test_a_long_kubelet_message_is_cut_visibly():
    d, rs, p = stuck_pod([kube.waiting("cart", "ContainerCreating")], phase="Pending")
    said = "Failed to create pod sandbox: " + "x" * 300 + " unauthorized"
    inc = detected(d, rs, p, kube.event(p, "FailedCreatePodSandBox", said))
    message = inc["StuckContainerCreating"].message
    assert message.endswith("…") and len(message) < 260
    assert inc["StuckContainerCreating"].evidence.events[0].message == said  # whole in the table


def test_what_one_pod_requests_sums_its_containers_and_counts_the_largest_init_container():
    pod = {"spec": {"containers": [kube.container("a", memory="1Gi"), kube.container("b")],
                    "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "2"}}}]}}
    assert pod_requests(pod) == {"memory": 1024 * MI + 128 * MI, "cpu": 2.0}
    assert pod_requests({"spec": {"containers": [{"name": "x"}]}}) == {}


def test_an_unschedulable_pod_carries_what_it_requests():
    d = kube.deployment("search", "shop", [kube.container("search", memory="64Gi")])
    rs = kube.replicaset(d)
    cond = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "lastTransitionTime": "2026-11-20T10:00:00Z",
             "message": "0/1 nodes are available: 1 Insufficient memory."}]
    p = kube.pod(rs, "search-5d8f7c9b4-aaaaa", [], phase="Pending", conditions=cond)
    inc = detected(d, rs, p)["Unschedulable"]
    assert inc.evidence.facts.pod_requests == {"memory": 64 * 1024 * MI, "cpu": 0.1}
