"""The failure class names, apart from the class table (``classes``) that says everything else
about each: the configuration names them (`scope.failureClasses`, the trust rules), and loading
it should not build the table's facts dataclasses (``model`` loads each module on first use)."""

from __future__ import annotations

import enum


class FailureClass(enum.StrEnum):
    """The normative class names (DESIGN.md), in the order the JSON Schema lists them."""

    # pod and workload status (DESIGN.md)
    OOM_KILLED = "OOMKilled"
    CRASH_LOOP_BACK_OFF = "CrashLoopBackOff"
    IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
    CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
    CREATE_CONTAINER_ERROR = "CreateContainerError"
    RUN_CONTAINER_ERROR = "RunContainerError"
    UNSCHEDULABLE = "Unschedulable"
    PROBE_FAILURE = "ProbeFailure"
    JOB_FAILED = "JobFailed"
    PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
    EVICTED = "Evicted"
    REPLICA_FAILURE = "ReplicaFailure"
    HPA_MAXED_OUT = "HPAMaxedOut"
    PVC_PENDING = "PVCPending"
    # workload failures the first detector missed (issue 18)
    READINESS_NEVER_READY = "ReadinessNeverReady"
    CONTAINER_START_HOOK_ERROR = "ContainerStartHookError"
    STUCK_CONTAINER_CREATING = "StuckContainerCreating"
    MISSING_CONFIG_MAP = "MissingConfigMap"
    PENDING_NO_VERDICT = "PendingNoVerdict"
    SCHEDULING_GATED = "SchedulingGated"
    PVC_LOST = "PVCLost"
    # configuration failures of the objects around the workloads (issue 18)
    SERVICE_SELECTOR_MISMATCH = "ServiceSelectorMismatch"
    INGRESS_BACKEND_MISSING = "IngressBackendMissing"
    INGRESS_CLASS_MISSING = "IngressClassMissing"
    INGRESS_TLS_SECRET_MISSING = "IngressTLSSecretMissing"
    HPA_TARGET_MISSING = "HPATargetMissing"
    HPA_MISSING_REQUESTS = "HPAMissingRequests"
    STATEFUL_SET_SERVICE_MISSING = "StatefulSetServiceMissing"
    STORAGE_CLASS_MISSING = "StorageClassMissing"
    PDB_BLOCKS_DISRUPTION = "PDBBlocksDisruption"
    WEBHOOK_SERVICE_UNAVAILABLE = "WebhookServiceUnavailable"
    HTTP_ROUTE_UNRESOLVED = "HTTPRouteUnresolved"
    # from a metrics source (model/usage.py)
    CPU_THROTTLING = "CPUThrottling"
    # a right-sizing recommendation, not a failure: not a `scope.failureClasses` value
    RIGHT_SIZING = "RightSizing"


#: the values of `scope.failureClasses` (the JSON Schema's enum): every class but the
#: recommendation (the class table's rows with ``Detection.RECOMMENDATION``; a test holds them
#: equal)
FAILURE_CLASSES: tuple[FailureClass, ...] = tuple(
    c for c in FailureClass if c is not FailureClass.RIGHT_SIZING)
