"""Plain data passed between the stages.

Every stage takes and returns these dataclasses; none of them does I/O. Kubernetes objects stay as
the plain JSON dicts the API (or a snapshot) gave us: typed models cost more than they help here.
"""

from __future__ import annotations

from .config_classes import CLASS_ROW, NEW_CLASS_ROWS, NEW_FAILURE_CLASSES
from .incident import (
    DEFAULT_PROTECTED_NAMESPACES,
    FAILURE_CLASSES,
    JSON,
    SIGNATURE_TRAILER,
    ClusterState,
    EventSummary,
    Evidence,
    Incident,
    ObjectRef,
    Termination,
)
from .location import (
    ChartSource,
    DocumentEdit,
    DocumentRef,
    HelmRender,
    ImageOverride,
    Location,
    Substitution,
    TargetKind,
    TopLayer,
    ValuesLayer,
)
from .outcome import (
    CheckResult,
    Decision,
    FieldValue,
    FileChange,
    Proposal,
    PullRequest,
    Remediation,
    TrustDecision,
    Validation,
)
from .settings import DetectOptions
from .usage import (
    CPU_THROTTLING,
    RIGHT_SIZING,
    USAGE_CLASS_FIELDS,
    ContainerKey,
    ContainerUsage,
    Recommendation,
    Unused,
)

__all__ = [
    "CLASS_ROW",
    "CPU_THROTTLING",
    "DEFAULT_PROTECTED_NAMESPACES",
    "FAILURE_CLASSES",
    "JSON",
    "NEW_CLASS_ROWS",
    "NEW_FAILURE_CLASSES",
    "RIGHT_SIZING",
    "SIGNATURE_TRAILER",
    "USAGE_CLASS_FIELDS",
    "ChartSource",
    "CheckResult",
    "ClusterState",
    "ContainerKey",
    "ContainerUsage",
    "Decision",
    "DetectOptions",
    "DocumentEdit",
    "DocumentRef",
    "EventSummary",
    "Evidence",
    "FieldValue",
    "FileChange",
    "HelmRender",
    "ImageOverride",
    "Incident",
    "Location",
    "ObjectRef",
    "Proposal",
    "PullRequest",
    "Recommendation",
    "Remediation",
    "Substitution",
    "TargetKind",
    "Termination",
    "TopLayer",
    "TrustDecision",
    "Unused",
    "Validation",
    "ValuesLayer",
]
