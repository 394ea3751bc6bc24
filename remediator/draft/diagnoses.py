"""The diagnoses of the classes no rule fixes (`Drafter.NONE`): what the evidence shows, and what
the user does next. A diagnosis that only restates the failure leaves the reviewer where the
alert did; each one here ends with the step that makes the failure go away."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..model import (
    ClaimFacts,
    EvictionFacts,
    FailureClass,
    RolloutFacts,
    SchedulingFacts,
    facts_as,
)
from .rules import diagnose, format_memory

if TYPE_CHECKING:
    from ..model import (
        Incident,
        Proposal,
    )

_ERRORISH = re.compile(r"(?i)\b(error|exception|fatal|panic|failed|refused|denied)\b")


def last_error_line(log: str) -> str:
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if _ERRORISH.search(ln):
            return ln[:240].replace("`", "'")  # quoted in a code span by the caller
    return lines[-1][:240].replace("`", "'") if lines else ""


def _sentence(text: str) -> str:
    """Cluster text as the start of a sentence: capitalised, one full stop (messages end in
    ".", ". " or nothing)."""
    text = text.strip().rstrip(".").rstrip()
    return (text[:1].upper() + text[1:] + ".") if text else ""


def _unschedulable(incident: Incident) -> str:
    """What the pod asks for against what the largest node offers (only what is known)."""
    ev = incident.evidence
    nodes = facts_as(ev.facts, SchedulingFacts)
    text = f"No node can run the pod: {incident.detail}."
    asked = nodes.pod_requests or {}
    if asked:
        wants = [f"{format_memory(asked['memory'])} memory" if "memory" in asked else "",
                 f"{asked['cpu']:g} CPU" if "cpu" in asked else ""]
        text += f" Each pod requests {' and '.join(w for w in wants if w)}."
    elif req := (ev.container_spec.get("resources") or {}).get("requests") or {}:
        text += " Current requests: " + ", ".join(f"{k} {v}" for k, v in req.items()) + "."
    mem, cpu = nodes.largest_node_memory_bytes, nodes.largest_node_cpu
    if mem or cpu:
        text += (f" The largest node has {format_memory(mem or 0)} memory and {cpu or 0:g} "
                 "CPU allocatable.")
    else:
        text += " The snapshot lists no schedulable node, so node sizes are unknown."
    return text + (" Lower the requests to what the application needs, or add capacity that "
                   "fits; shrinking requests automatically could starve the workload.")


def _job_failed(incident: Incident, said: str) -> str:
    again = ("the CronJob's next scheduled run starts a new Job"
             if incident.workload.kind == "CronJob" else
             "a failed Job never runs again by itself: delete it so that the GitOps tool "
             "re-creates it")
    return (f"The Job failed ({incident.detail}) after its retries.{said} The cause is in the "
            "application or its dependencies, not in a field remediator may change: fix what "
            f"the log and events show (a credential, a dependency, the code); then {again}.")


def _crash_loop(incident: Incident, said: str) -> str:
    return (f"Container {incident.container} exits repeatedly ({incident.detail}).{said} No "
            "deterministic rule fixes an application crash: read the log excerpt and the last "
            "termination above (`kubectl logs --previous` shows the crashed run), then fix the "
            "application or the configuration it reads (env, command, mounted files) in the "
            "repository.")


def _next_step(incident: Incident) -> str:
    """The classes whose diagnosis is their message and one next step."""
    facts = incident.evidence.facts
    steps: dict[str, Callable[[], str]] = {
        FailureClass.CREATE_CONTAINER_CONFIG_ERROR: lambda: (
            "Create the missing object (or key) in the repository next to the workload, or fix "
            "the reference; remediator does not invent configuration or secrets."),
        FailureClass.CREATE_CONTAINER_ERROR: lambda: (
            "The runtime refused the container's spec: fix the field the error names (a mount "
            "path or subPath, the command, the security context) in the repository."),
        FailureClass.RUN_CONTAINER_ERROR: lambda: (
            "The runtime could not start the process: check that the command and args exist "
            "in the image and that the paths they use are mounted, then fix them in the "
            "repository (or the image)."),
        FailureClass.PROGRESS_DEADLINE_EXCEEDED: lambda: (
            "The new pods never became available, so the previous ReplicaSet keeps serving: "
            "look at the new pods' status and events for the cause, then fix it or revert the "
            "last change to the workload in the repository."),
        FailureClass.REPLICA_FAILURE: lambda: (
            "The controller is refused every pod it creates"
            + (" (a ResourceQuota)" if "quota" in str(facts_as(
                facts, RolloutFacts).failed_create or incident.message) else "")
            + ": fix what the refusal names (raise the quota or lower the requests and limits "
            "so the pods fit, or create the missing ServiceAccount); the controller retries "
            "on its own."),
        FailureClass.EVICTED: lambda: (
            "The kubelet evicts the pods that use most above their request first"
            + (f" (container {incident.container} requests "
               f"{facts_as(facts, EvictionFacts).request})"
               if facts_as(facts, EvictionFacts).request else "")
            + ": set the request near the measured use, or give the nodes more room."),
        FailureClass.HPA_MAXED_OUT: lambda: (
            "The load needs more replicas than the HPA may create: raise `maxReplicas` if the "
            "cluster has room, or make each pod serve more (its requests, the target "
            "utilisation). Nothing fails yet, but latency and errors may grow while it stays "
            "there."),
        FailureClass.PVC_PENDING: lambda: (
            "Read the claim's events: its StorageClass"
            + (f" ({', '.join(facts_as(facts, ClaimFacts).storage_classes or [])} exist)"
               if facts_as(facts, ClaimFacts).storage_classes else "")
            + " must have a working provisioner, or a matching PersistentVolume must exist; "
            "a WaitForFirstConsumer class binds only once a pod using it is scheduled."),
    }
    step = steps.get(incident.failure_class)
    return step() if step is not None else (
        f"No safe manifest change is known for {incident.failure_class}.")


def no_rule(incident: Incident) -> Proposal:
    """A diagnosis from the evidence for classes without a safe manifest fix."""
    err = last_error_line(incident.evidence.log_excerpt)
    said = f" The log's last error: `{err}`." if err else ""
    cls = incident.failure_class
    if cls == FailureClass.UNSCHEDULABLE:
        text = _unschedulable(incident) + said
    elif cls == FailureClass.JOB_FAILED:
        text = _job_failed(incident, said)
    elif cls == FailureClass.CRASH_LOOP_BACK_OFF:
        text = _crash_loop(incident, said)
    elif cls == FailureClass.CREATE_CONTAINER_CONFIG_ERROR:
        text = f"The pod cannot start: {incident.detail}. {_next_step(incident)}{said}"
    else:
        text = f"{_sentence(incident.message)} {_next_step(incident)}{said}"
    return diagnose(incident, text, incident.message)
