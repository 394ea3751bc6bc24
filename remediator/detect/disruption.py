"""PDBBlocksDisruption: a PodDisruptionBudget that can never allow a disruption, so every node
drain hangs on it. Only structural cases: the selector matches nothing, or the budget demands
every pod (`minAvailable` ≥ the pods, `maxUnavailable: 0`). A budget at zero because a rollout
or a crash made pods unhealthy is transient and left alone."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..model import DisruptionFacts, FailureClass
from .around import finding, of_kind, settled

if TYPE_CHECKING:
    from ..model import ClusterState
    from .around import Found


def pdb_blocks(state: ClusterState, now: datetime | None) -> list[Found]:
    out: list[Found] = []
    for ref, pdb in of_kind(state, "PodDisruptionBudget"):
        status, spec = pdb.get("status") or {}, pdb.get("spec") or {}
        if "disruptionsAllowed" not in status or status.get("disruptionsAllowed") != 0 \
                or not settled(pdb, now):
            continue
        expected = int(status.get("expectedPods") or 0)
        desired = int(status.get("desiredHealthy") or 0)
        if expected == 0:
            detail, why = "selector matches no pods", "its selector matches no pods"
        elif desired >= expected:
            bound = (f"minAvailable {spec['minAvailable']}" if "minAvailable" in spec
                     else f"maxUnavailable {spec.get('maxUnavailable')}")
            detail, why = bound, f"{bound} with {expected} pod(s): no pod may ever be evicted"
        else:
            continue  # unhealthy pods right now: transient
        out.append((ref, finding(
            FailureClass.PDB_BLOCKS_DISRUPTION, detail,
            f"PodDisruptionBudget {ref.name} allows no disruption: {why}",
            facts=DisruptionFacts(selector=spec.get("selector") or {}, expected_pods=expected,
                                  desired_healthy=desired)), []))
    return out
