"""The failure classes, and everything the stages need to know about each, in one table.

A class is a `FailureClass` (a str Enum: it serialises to its name, so the plan JSON, the PR
record and the signatures are unchanged). Each has one `ClassRow`: how it is detected, which
container field locate looks for, the Flux variable a fix can follow, which rule drafter owns
it, the fields a model may change, the allow-list every edit is checked against (manifests and
Helm values), how its pull request reads, and the one-line summary the docs and the dashboard
show.

The stages may import only ``model``, so a row holds data (names, field paths, enum keys);
each stage maps the row's key to its own function in one dict (detect's messages, draft's
rule drafters). Adding a class: a member and a row here, plus the code that is really new
(a detector, a drafter if it gets one). The derived tables at the bottom are what the stages
read; none of them is written by hand.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .facts import (
    ClaimFacts,
    DisruptionFacts,
    EvictionFacts,
    Facts,
    HPAFacts,
    ImagePullFacts,
    IngressFacts,
    JobFacts,
    MemoryFacts,
    ProbeFacts,
    ReferenceFacts,
    RolloutFacts,
    RouteFacts,
    SchedulingFacts,
    ServiceFacts,
    StatefulSetFacts,
    StuckPodFacts,
    UsageFacts,
    WebhookFacts,
)
from .failure import FailureClass


class Detection(enum.StrEnum):
    """Where detect sees a class."""

    POD = "pod status"  # container states, pod conditions (detect/classify.py, stuck.py)
    WORKLOAD = "workload status"  # workload, HPA, claim conditions; evictions (workloads.py)
    AROUND = "objects around the workload"  # Services, Ingresses, ... (detect/configuration.py)
    METRICS = "metrics"  # a metrics source (pipeline/usage.py)
    RECOMMENDATION = "recommendation"  # right-sizing (pipeline/rightsize.py)


class Drafter(enum.StrEnum):
    """The deterministic drafter a class gets; draft maps each key to its function."""

    #: no rule: a diagnosis from the evidence (a configured model may try a change)
    NONE = "none"
    #: a diagnosis written for a configuration class (draft/config_fixes.py)
    CONFIG_DIAGNOSIS = "config-diagnosis"
    MEMORY_LIMIT = "memory-limit"
    STARTUP_PROBE = "startup-probe"
    IMAGE_REVERT = "image-revert"
    HPA_REQUESTS = "hpa-requests"
    SERVICE_SELECTOR = "service-selector"
    INGRESS_CLASS = "ingress-class"
    RIGHTSIZE = "rightsize"
    CPU_LIMIT = "cpu-limit"

    @property
    def is_rule(self) -> bool:
        """A real rule: cheaper, repeatable, and never second-guessed by a model."""
        return self not in (Drafter.NONE, Drafter.CONFIG_DIAGNOSIS)


@dataclass(frozen=True)
class Wording:
    """How the pull request of a class reads (forge/body.py fills the fields in)."""

    #: the title of a pull request that changes something (cut at 200 characters)
    title: str = "fix({namespace}/{name}): {failure_class} — {change}"
    #: the title of a `diagnose`-level draft pull request, which changes nothing
    diagnosis_title: str = "diagnosis({namespace}/{name}): {failure_class} (no change)"
    #: the body's first sentence (``message``: the incident's, redacted, as code)
    summary: str = "**{workload}** is failing with **{failure_class}**: {message}."


# allow-list patterns, relative to the pod spec (list positions as `*`, initContainers as
# containers); the model's field names are the same fields, dotted and relative to the container
_C = "containers/*/"
_MEMORY = (_C + "resources/limits/memory", _C + "resources/requests/memory")
_ENV = (_C + "env", _C + "env/*/name", _C + "env/*/value",
        _C + "env/*/valueFrom/configMapKeyRef/*", _C + "env/*/valueFrom/secretKeyRef/*")
_COMMAND = (_C + "command/*", _C + "args", _C + "args/*")
_MOUNTS = tuple(_C + "volumeMounts/*/" + k for k in ("name", "mountPath", "readOnly", "subPath"))
_START = (*_ENV, *_COMMAND, *_MOUNTS, _C + "workingDir")
_REQUESTS = (_C + "resources/requests/cpu", _C + "resources/requests/memory")
_M_MEMORY = ("resources.limits.memory", "resources.requests.memory")
_M_START = ("env", "command", "args", "volumeMounts", "workingDir")


@dataclass(frozen=True)
class ClassRow:
    """Everything a stage knows about one failure class."""

    name: FailureClass
    detection: Detection
    #: what it means, in one line (docs, dashboard)
    summary: str
    #: the object kind the incident is about ("workload": the pod's top-level owner)
    subject: str = "workload"
    #: locate: the container field the fix sets (to find the layer that already owns it)
    locate_field: str = ""
    #: locate (Helm): the path under the values key of ``locate_field`` the fix sets
    #: (None: a fix of this class is not tied to a Helm values key)
    helm_key_rest: tuple[str, ...] | None = None
    #: locate (Flux): the value in the container a post-build variable can feed
    variable_field: tuple[str, ...] = ()
    drafter: Drafter = Drafter.NONE
    #: draft (model): the container fields a model may change, dotted
    model_fields: tuple[str, ...] = ()
    #: draft: the fields any edit may write, relative to the pod spec (fnmatch patterns)
    allowed: tuple[str, ...] = ()
    #: draft (Helm): (values key, path under it) pairs an edit of Helm values may write
    helm_allowed: tuple[tuple[str, str], ...] = ()
    #: the type of the incident's evidence facts (detect fills it, drafters read it)
    facts: type[Facts] = Facts
    #: forge: the pull request's title and first sentence
    wording: Wording = Wording()

    @property
    def fixable(self) -> bool:
        """A deterministic rule drafts a change for some of its cases."""
        return self.drafter.is_rule


def _says(what: str) -> Wording:
    """The first sentence of a class whose subject is not failing (a Service, an HPA, a PDB):
    ``what`` it is, instead of "is failing with"."""
    return Wording(summary="**{workload}** " + what + " (**{failure_class}**): {message}.")


#: the first sentence of a configuration class about an object around the workloads
_MISCONFIGURED = _says("is misconfigured")


def _config(name: FailureClass, detection: Detection, summary: str, facts: type[Facts] = Facts,
            subject: str = "workload", wording: Wording | None = None) -> ClassRow:
    """A class found by issue 18's detectors: a written diagnosis, no change. An object other
    than the workload (a Service, an Ingress, ...) is misconfigured, not failing."""
    return ClassRow(name, detection, summary, subject=subject, drafter=Drafter.CONFIG_DIAGNOSIS,
                    facts=facts, wording=wording or (
                        _MISCONFIGURED if subject not in ("workload", "PersistentVolumeClaim")
                        else Wording()))


def _usage(name: FailureClass, detection: Detection, summary: str, drafter: Drafter,
           fields: tuple[str, ...], first_sentence: str) -> ClassRow:
    """A usage class: it changes container resources, in manifests and Helm values alike. Its
    pull request does not say the workload is failing: it is slowed down or mis-sized."""
    return ClassRow(name, detection, summary, locate_field="resources", helm_key_rest=(),
                    drafter=drafter, facts=UsageFacts, allowed=tuple(_C + f for f in fields),
                    helm_allowed=tuple(("resources", f.removeprefix("resources/"))
                                       for f in fields),
                    wording=Wording(summary=first_sentence))


F, D, R = FailureClass, Detection, Drafter
CLASS_TABLE: tuple[ClassRow, ...] = (
    ClassRow(F.OOM_KILLED, D.POD, "a container killed at its memory limit",
             locate_field="resources", helm_key_rest=("limits", "memory"),
             variable_field=("resources", "limits", "memory"), drafter=R.MEMORY_LIMIT,
             model_fields=_M_MEMORY, allowed=_MEMORY,
             helm_allowed=(("resources", "limits/memory"), ("resources", "requests/memory")),
             facts=MemoryFacts),
    ClassRow(F.CRASH_LOOP_BACK_OFF, D.POD,
             "a container that keeps exiting (the last termination reason and exit code)",
             model_fields=("env", "command", "args", "volumeMounts", *_M_MEMORY),
             allowed=(*_ENV, *_COMMAND, *_MOUNTS, *_MEMORY)),
    ClassRow(F.IMAGE_PULL_BACK_OFF, D.POD,
             "an image that cannot be pulled (ErrImagePull, InvalidImageName, ErrImageNeverPull)",
             locate_field="image", helm_key_rest=("tag",), variable_field=("image",),
             drafter=R.IMAGE_REVERT, model_fields=("image",), allowed=(_C + "image",),
             helm_allowed=(("image", "tag"), ("image", "digest")), facts=ImagePullFacts),
    ClassRow(F.CREATE_CONTAINER_CONFIG_ERROR, D.POD,
             "a container whose ConfigMap, Secret or key is missing",
             model_fields=("env",), allowed=_ENV),
    ClassRow(F.CREATE_CONTAINER_ERROR, D.POD, "the runtime cannot create the container",
             model_fields=_M_START, allowed=_START),
    ClassRow(F.RUN_CONTAINER_ERROR, D.POD, "the runtime cannot start the container",
             model_fields=_M_START, allowed=_START),
    ClassRow(F.UNSCHEDULABLE, D.POD,
             "pods the scheduler cannot place (insufficient cpu/memory, taints, affinity)",
             model_fields=("resources.requests.memory", "resources.requests.cpu"),
             allowed=(_C + "resources/requests/memory", _C + "resources/requests/cpu"),
             facts=SchedulingFacts),
    ClassRow(F.PROBE_FAILURE, D.POD, "a liveness, readiness or startup probe that fails",
             locate_field="startupProbe", helm_key_rest=(), drafter=R.STARTUP_PROBE,
             model_fields=("startupProbe", "livenessProbe.initialDelaySeconds",
                           "livenessProbe.failureThreshold", "livenessProbe.periodSeconds",
                           "livenessProbe.timeoutSeconds"),
             allowed=(_C + "startupProbe/*", _C + "startupProbe/*/*", _C + "startupProbe/*/*/*",
                      _C + "startupProbe/*/*/*/*", _C + "livenessProbe/initialDelaySeconds",
                      _C + "livenessProbe/failureThreshold", _C + "livenessProbe/periodSeconds",
                      _C + "livenessProbe/timeoutSeconds"),
             helm_allowed=(("startupProbe", "*"),), facts=ProbeFacts),
    ClassRow(F.JOB_FAILED, D.WORKLOAD, "a Job that failed (BackoffLimitExceeded, DeadlineExceeded)",
             model_fields=("env", "command", "args", *_M_MEMORY),
             allowed=(*_ENV, *_COMMAND, *_MEMORY), facts=JobFacts),
    ClassRow(F.PROGRESS_DEADLINE_EXCEEDED, D.WORKLOAD, "a rollout stuck past its deadline",
             facts=RolloutFacts),
    ClassRow(F.EVICTED, D.WORKLOAD, "pods evicted by the kubelet (memory or disk pressure)",
             model_fields=(*_M_MEMORY, "resources.requests.ephemeral-storage",
                           "resources.limits.ephemeral-storage"),
             allowed=(*_MEMORY, _C + "resources/requests/ephemeral-storage",
                      _C + "resources/limits/ephemeral-storage"), facts=EvictionFacts),
    ClassRow(F.REPLICA_FAILURE, D.WORKLOAD, "a controller that cannot create pods (quota, ...)",
             facts=RolloutFacts),
    ClassRow(F.HPA_MAXED_OUT, D.WORKLOAD, "an HPA held at its maxReplicas", facts=HPAFacts,
             wording=_says("is held at its autoscaler's maximum")),
    ClassRow(F.PVC_PENDING, D.WORKLOAD, "a claim that stays Pending", facts=ClaimFacts),
    _config(F.READINESS_NEVER_READY, D.POD,
            "containers running but never Ready: the readiness probe keeps failing",
            facts=StuckPodFacts),
    _config(F.CONTAINER_START_HOOK_ERROR, D.POD,
            "PreStartHookError / PreCreateHookError / ImageInspectError / PostStartHookError"),
    _config(F.STUCK_CONTAINER_CREATING, D.POD,
            "pods stuck in ContainerCreating / PodInitializing (sandbox or mount failures)"),
    _config(F.MISSING_CONFIG_MAP, D.POD,
            "a volume or envFrom names a ConfigMap (or a Secret, by name) that does not exist",
            facts=ReferenceFacts),
    _config(F.PENDING_NO_VERDICT, D.POD,
            "pods Pending with no scheduler verdict (unknown schedulerName, ...)",
            facts=StuckPodFacts),
    _config(F.SCHEDULING_GATED, D.POD,
            "pods held by scheduling gates longer than detect.schedulingGatedSeconds",
            facts=StuckPodFacts, wording=_says("has pods held back by scheduling gates")),
    _config(F.PVC_LOST, D.AROUND, "a claim whose volume is gone (phase Lost)",
            subject="PersistentVolumeClaim", facts=ClaimFacts),
    ClassRow(F.SERVICE_SELECTOR_MISMATCH, D.AROUND, "a Service whose selector matches no pods",
             subject="Service", drafter=R.SERVICE_SELECTOR, wording=_MISCONFIGURED,
             # one selector value, to the near-matching workload's label (never a key)
             allowed=("spec/selector/*",), facts=ServiceFacts),
    _config(F.INGRESS_BACKEND_MISSING, D.AROUND,
            "an Ingress backend Service or port that does not exist", subject="Ingress",
            facts=IngressFacts),
    ClassRow(F.INGRESS_CLASS_MISSING, D.AROUND,
             "an ingressClassName that names no IngressClass, or none and no default class",
             subject="Ingress", drafter=R.INGRESS_CLASS, wording=_MISCONFIGURED,
             # the class of an Ingress no controller serves, to the cluster's only IngressClass
             allowed=("spec/ingressClassName",), facts=IngressFacts),
    _config(F.INGRESS_TLS_SECRET_MISSING, D.AROUND,
            "a TLS secretName that matches no Secret name", subject="Ingress", facts=IngressFacts),
    _config(F.HPA_TARGET_MISSING, D.AROUND, "an HPA whose scaleTargetRef names no workload",
            subject="HorizontalPodAutoscaler", facts=HPAFacts),
    # requests for an HPA target (drafting.requests): the requests only, never limits; its
    # Helm values key is not followed (helm_key_rest None)
    ClassRow(F.HPA_MISSING_REQUESTS, D.AROUND,
             "an HPA cannot compute utilisation: its target has no resource requests",
             locate_field="resources", drafter=R.HPA_REQUESTS, allowed=_REQUESTS,
             helm_allowed=(("resources", "requests/cpu"), ("resources", "requests/memory")),
             facts=HPAFacts, wording=_says("cannot be autoscaled")),
    _config(F.STATEFUL_SET_SERVICE_MISSING, D.AROUND,
            "a StatefulSet whose serviceName names no headless Service", subject="StatefulSet",
            facts=StatefulSetFacts),
    _config(F.STORAGE_CLASS_MISSING, D.AROUND,
            "a claim or volumeClaimTemplate names a StorageClass that does not exist",
            facts=ClaimFacts),
    _config(F.PDB_BLOCKS_DISRUPTION, D.AROUND,
            "a PodDisruptionBudget that allows no disruption (blocks every drain)",
            subject="PodDisruptionBudget", facts=DisruptionFacts,
            wording=_says("blocks every voluntary eviction of its pods")),
    _config(F.WEBHOOK_SERVICE_UNAVAILABLE, D.AROUND,
            "an admission webhook whose Service is missing or has no ready endpoints",
            subject="webhook", facts=WebhookFacts),
    _config(F.HTTP_ROUTE_UNRESOLVED, D.AROUND,
            "a Gateway API HTTPRoute with an unresolved parent or backend reference",
            subject="HTTPRoute", facts=RouteFacts),
    _usage(F.CPU_THROTTLING, D.METRICS, "sustained CFS throttling of a container",
           R.CPU_LIMIT, ("resources/limits/cpu",),
           "**{workload}** is held back by its CPU limit (**{failure_class}**): {message}."),
    _usage(F.RIGHT_SIZING, D.RECOMMENDATION, "requests that do not match the measured usage",
           R.RIGHTSIZE, ("resources/requests/cpu", "resources/requests/memory"),
           "**{workload}** requests resources its measured usage does not match "
           "(**{failure_class}**): {message}."),
)
del F, D, R

#: a class's row
ROW: dict[FailureClass, ClassRow] = {r.name: r for r in CLASS_TABLE}


def row_of(name: str) -> ClassRow | None:
    """The row of a class given by name (a record or a signature read back; None: unknown)."""
    try:
        return ROW[FailureClass(name)]
    except ValueError:
        return None


# ------------------------------------------------------------- derived tables (never hand-edit)

#: the classes whose diagnosis a deterministic rule writes and no model second-guesses
RULE_CLASSES: frozenset[FailureClass] = frozenset(
    r.name for r in CLASS_TABLE if r.drafter.is_rule)
