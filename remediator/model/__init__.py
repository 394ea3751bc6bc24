"""Plain data passed between the stages.

Every stage takes and returns these dataclasses; none of them does I/O. Kubernetes objects stay as
the plain JSON dicts the API (or a snapshot) gave us: typed models cost more than they help here.
"""

from __future__ import annotations

from .classes import (
    CLASS_TABLE,
    FAILURE_CLASSES,
    ROW,
    RULE_CLASSES,
    ClassRow,
    Detection,
    Drafter,
    FailureClass,
    row_of,
)
from .config_classes import DetectOptions
from .incident import (
    DEFAULT_PROTECTED_NAMESPACES,
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
    Validation,
)
from .usage import (
    ContainerKey,
    ContainerUsage,
    Recommendation,
    Unused,
)

__all__ = [
    "CLASS_TABLE",
    "DEFAULT_PROTECTED_NAMESPACES",
    "FAILURE_CLASSES",
    "JSON",
    "ROW",
    "RULE_CLASSES",
    "SIGNATURE_TRAILER",
    "ChartSource",
    "CheckResult",
    "ClassRow",
    "ClusterState",
    "ContainerKey",
    "ContainerUsage",
    "Decision",
    "DetectOptions",
    "Detection",
    "DocumentEdit",
    "DocumentRef",
    "Drafter",
    "EventSummary",
    "Evidence",
    "FailureClass",
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
    "Unused",
    "Validation",
    "ValuesLayer",
    "row_of",
]
