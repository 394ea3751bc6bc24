"""The failure classes of issue 18 in one table: the workload failures the first detector
missed, and the configuration failures of objects around the workloads (Services, Ingresses,
HPAs, PDBs, storage, webhooks, Gateway API routes).

Kept together so that the one `FailureClass` table can take them as rows. ``fixable`` says
whether a deterministic rules draft exists for some of its cases (draft/config_fixes.py);
the others are always diagnoses with the evidence attached.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassRow:
    name: str
    #: the object kind the incident is about ("Pod" owner → its workload)
    subject: str
    summary: str
    fixable: bool = False


NEW_CLASS_ROWS = (
    # workload failures (pods)
    ClassRow("ReadinessNeverReady", "workload",
             "containers running but never Ready: the readiness probe keeps failing"),
    ClassRow("ContainerStartHookError", "workload",
             "PreStartHookError / PreCreateHookError / ImageInspectError / PostStartHookError"),
    ClassRow("StuckContainerCreating", "workload",
             "pods stuck in ContainerCreating / PodInitializing (sandbox or mount failures)"),
    ClassRow("MissingConfigMap", "workload",
             "a volume or envFrom names a ConfigMap (or a Secret, by name) that does not exist"),
    ClassRow("PendingNoVerdict", "workload",
             "pods Pending with no scheduler verdict (unknown schedulerName, ...)"),
    ClassRow("SchedulingGated", "workload",
             "pods held by scheduling gates longer than detect.schedulingGatedSeconds"),
    ClassRow("PVCLost", "PersistentVolumeClaim", "a claim whose volume is gone (phase Lost)"),
    # configuration failures (objects around the workloads)
    ClassRow("ServiceSelectorMismatch", "Service",
             "a Service whose selector matches no pods", fixable=True),
    ClassRow("IngressBackendMissing", "Ingress",
             "an Ingress backend Service or port that does not exist"),
    ClassRow("IngressClassMissing", "Ingress",
             "an ingressClassName that names no IngressClass, or none and no default class",
             fixable=True),
    ClassRow("IngressTLSSecretMissing", "Ingress",
             "a TLS secretName that matches no Secret name"),
    ClassRow("HPATargetMissing", "HorizontalPodAutoscaler",
             "an HPA whose scaleTargetRef names no workload"),
    ClassRow("HPAMissingRequests", "workload",
             "an HPA cannot compute utilisation: its target has no resource requests",
             fixable=True),
    ClassRow("StatefulSetServiceMissing", "StatefulSet",
             "a StatefulSet whose serviceName names no headless Service"),
    ClassRow("StorageClassMissing", "workload",
             "a claim or volumeClaimTemplate names a StorageClass that does not exist"),
    ClassRow("PDBBlocksDisruption", "PodDisruptionBudget",
             "a PodDisruptionBudget that allows no disruption (blocks every drain)"),
    ClassRow("WebhookServiceUnavailable", "webhook",
             "an admission webhook whose Service is missing or has no ready endpoints"),
    ClassRow("HTTPRouteUnresolved", "HTTPRoute",
             "a Gateway API HTTPRoute with an unresolved parent or backend reference"),
)

NEW_FAILURE_CLASSES = tuple(r.name for r in NEW_CLASS_ROWS)
CLASS_ROW = {r.name: r for r in NEW_CLASS_ROWS}

