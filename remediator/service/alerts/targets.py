"""Alertmanager webhook payloads (version 4, the documented JSON shape) to the workloads they
name. Label values come from whoever can post an alert: each is checked as a Kubernetes name
(DNS-1123) before it is used, and anything else makes the alert unmapped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...model import Incident

#: workload labels of kube-state-metrics / kubernetes-mixin alerts, and the kind each names
WORKLOAD_LABELS = (("deployment", "Deployment"), ("statefulset", "StatefulSet"),
                   ("daemonset", "DaemonSet"), ("cronjob", "CronJob"), ("job_name", "Job"),
                   ("job", "Job"), ("workload", ""))
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # namespaces: DNS-1123 label
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_KINDS = {"deployment": "Deployment", "statefulset": "StatefulSet", "daemonset": "DaemonSet",
          "cronjob": "CronJob", "job": "Job"}


def is_label(value: str) -> bool:
    return len(value) <= 63 and _LABEL.fullmatch(value) is not None


def is_subdomain(value: str) -> bool:
    return len(value) <= 253 and _SUBDOMAIN.fullmatch(value) is not None


@dataclass(frozen=True)
class AlertTarget:
    """What an alert names: a namespace and a workload (kind may be "": any) or a pod."""

    namespace: str
    name: str = ""
    kind: str = ""
    pod: str = ""
    alertname: str = ""

    def matches(self, incident: Incident) -> bool:
        w = incident.workload
        if w.namespace != self.namespace:
            return False
        if self.pod:
            return self.pod in incident.pods
        return w.name == self.name and (not self.kind or w.kind == self.kind)

    def __str__(self) -> str:
        what = f"pod/{self.pod}" if self.pod else f"{(self.kind or 'workload').lower()}/" \
                                                    f"{self.name}"
        return f"{self.namespace}/{what}"


def target_of(labels: dict[str, Any]) -> AlertTarget | None:
    """The workload or pod an alert's labels name, or None (unmapped, or a value that is not
    a Kubernetes name)."""
    if not all(isinstance(v, str) for v in labels.values()):
        return None
    namespace = labels.get("namespace", "")
    if not is_label(namespace):
        return None
    alertname = str(labels.get("alertname", ""))[:253]
    for label, kind in WORKLOAD_LABELS:
        name = labels.get(label, "")
        if not name:
            continue
        if label == "job" and "job_name" not in labels and not labels.get("job_kind"):
            continue  # `job` is Prometheus's scrape job on most alerts, not a Kubernetes Job
        if label == "workload":
            kind = _KINDS.get(str(labels.get("workload_type", "")).lower(), "")
        return AlertTarget(namespace, name, kind, alertname=alertname) \
            if is_subdomain(name) else None
    pod = labels.get("pod", "")
    if pod:
        return AlertTarget(namespace, pod=pod, alertname=alertname) if is_subdomain(pod) \
            else None
    return None


@dataclass
class Mapped:
    targets: list[AlertTarget]
    unmapped: int = 0
    resolved: int = 0


class PayloadError(ValueError):
    """The body is not an Alertmanager webhook payload."""


def targets_of(payload: Any) -> Mapped:
    """The firing alerts' targets (deduplicated, in order), and how many were unmapped or
    resolved. Raises PayloadError when the JSON is not the webhook's shape."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise PayloadError("not an Alertmanager webhook payload (no alerts list)")
    out = Mapped([])
    for alert in payload["alerts"]:
        if not isinstance(alert, dict) or not isinstance(alert.get("labels", {}), dict):
            raise PayloadError("an alert is not an object with labels")
        if alert.get("status", "firing") != "firing":
            out.resolved += 1
            continue
        target = target_of(alert.get("labels", {}))
        if target is None:
            out.unmapped += 1
        elif target not in out.targets:
            out.targets.append(target)
    return out
