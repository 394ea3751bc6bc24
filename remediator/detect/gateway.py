"""HTTPRouteUnresolved: a Gateway API route whose parent (Gateway) does not accept it or whose
backend references do not resolve, as the Gateway controller reports in `status.parents`, or a
parentRef naming a Gateway that does not exist (no controller will ever report on it)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..model import FailureClass, RouteFacts
from .around import finding, of_kind, settled, was_read

if TYPE_CHECKING:
    from ..model import ClusterState
    from .around import Found


def route_failures(state: ClusterState, now: datetime | None) -> list[Found]:
    out: list[Found] = []
    gateways_read = was_read(state, "Gateway")
    gateways = {(r.namespace, r.name) for r in state.objects if r.kind == "Gateway"}
    for ref, route in of_kind(state, "HTTPRoute"):
        if not settled(route, now):
            continue
        problems: list[str] = []
        for parent in (route.get("status") or {}).get("parents") or []:
            for cond in (parent or {}).get("conditions") or []:
                if cond.get("type") in ("Accepted", "ResolvedRefs") and cond.get(
                        "status") == "False":
                    problems.append(f"{cond['type']}=False {cond.get('reason', '')}".strip())
        if gateways_read:
            for parent in (route.get("spec") or {}).get("parentRefs") or []:
                if (parent or {}).get("kind", "Gateway") != "Gateway":
                    continue
                ns = str(parent.get("namespace") or ref.namespace)
                if (ns, str(parent.get("name"))) not in gateways:
                    problems.append(f"parent Gateway {ns}/{parent.get('name')} missing")
        if problems:
            problems = sorted(set(problems))
            out.append((ref, finding(
                FailureClass.HTTP_ROUTE_UNRESOLVED, "; ".join(problems),
                f"HTTPRoute {ref.name} is not fully programmed: {', '.join(problems)}",
                facts=RouteFacts(parents=(route.get("status") or {}).get("parents") or [])),
                []))
    return out
