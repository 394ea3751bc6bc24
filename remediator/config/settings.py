"""The whole of `.remediator.yaml` as one settings dataclass, declared once (`model.setting`).

The settings a stage takes live in `model.settings` (stages never import `config`); the ones only
the pipeline and the service read live here. The JSON Schema (`schema`), the loader (`load`) and
docs/configuration.md (`reference`) are derived from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import DEFAULT_PROTECTED_NAMESPACES, FAILURE_CLASSES
from ..model.setting import setting
from ..model.settings import (
    DEFAULT_KEY_ENV,
    PROVIDERS,
    ConfigError,
    Conftest,
    DetectOptions,
    Drafting,
    Limits,
    LLMSettings,
    MemoryRule,
    Metrics,
    OpaServer,
    Pricing,
    PullRequests,
    RequestsDefault,
    Rightsizing,
    StartupRule,
    VerifySettings,
)
from ..model.settings import ValidationSettings as Validation
from ..model.trust import Trust

CONFIG_FILE = ".remediator.yaml"

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_KEY_ENV",
    "PROVIDERS",
    "Config",
    "ConfigError",
    "Conftest",
    "DetectOptions",
    "Drafting",
    "LLMSettings",
    "Limits",
    "Locate",
    "MemoryRule",
    "Metrics",
    "OpaServer",
    "Pricing",
    "PullRequests",
    "RequestsDefault",
    "Rightsizing",
    "Scope",
    "StartupRule",
    "Validation",
    "Watch",
]


def _protect(namespaces: list[str]) -> list[str]:
    # The defaults stay protected whatever is listed: a config can add, never unprotect.
    return sorted(set(DEFAULT_PROTECTED_NAMESPACES) | set(namespaces))


@dataclass
class Scope:
    """Which incidents the bot acts on."""

    namespaces: list[str] = setting(factory=list, doc="only these namespaces (empty: all)")
    exclude_namespaces: list[str] = setting(factory=list, doc="never these namespaces")
    protected_namespaces: list[str] = setting(
        factory=lambda: list(DEFAULT_PROTECTED_NAMESPACES), convert=_protect,
        doc="never patched (their incidents are skipped); added to kube-system, kube-public, "
            "kube-node-lease, which are always protected")
    failure_classes: list[str] = setting(factory=list, items={"enum": list(FAILURE_CLASSES)},
                                         doc="only these failure classes (empty: all)")

    def namespace_in_scope(self, namespace: str) -> bool:
        if self.namespaces and namespace not in self.namespaces:
            return False
        return namespace not in self.exclude_namespaces

    def class_in_scope(self, failure_class: str) -> bool:
        return not self.failure_classes or failure_class in self.failure_classes


@dataclass
class Locate:
    """Where a fix goes."""

    argocd_label_tracking: bool = setting(
        False, doc="Argo CD installs using app.kubernetes.io/instance label tracking")


@dataclass
class Watch:
    """The live watcher (`run` without --snapshot): noise control and how it reads the cluster."""

    settle_seconds: int = setting(120, minimum=0, maximum=86400,
                                  doc="a failure must still be there this long after first seen")
    clear_seconds: int = setting(300, minimum=0, maximum=86400,
                                 doc="gone this long: recovered, the incident clears")
    flap_window_seconds: int = setting(3600, minimum=60, maximum=604800,
                                       doc="raised flapCount times within it: flapping, held")
    flap_count: int = setting(3, minimum=2, maximum=100,
                              doc="raises within the window that make a signature flapping")
    resync_seconds: int = setting(900, minimum=60, maximum=86400,
                                  doc="full relist, whatever the watches say")
    log_tail_lines: int = setting(200, key="logs.tailLines", minimum=1, maximum=10000,
                                  doc="log lines read per container, current and previous")
    log_limit_bytes: int = setting(65536, key="logs.limitBytes", minimum=1024, maximum=4194304,
                                   doc="log bytes read per container, current and previous")


@dataclass
class Config:
    """`.remediator.yaml`: every key is optional."""

    cluster: str = setting("default", min_length=1, doc="the name used in failure signatures")
    paused: bool = setting(
        False, doc="the kill switch: true (or env REMEDIATOR_PAUSED=1) plans and opens nothing "
                   "(re-read every pass)")
    repo_url: str = setting(
        "", key="repo.url",
        doc="only sources from this repository are patched (unset: a warning; run then uses "
            "its --repo URL)")
    scope: Scope = setting(factory=Scope, doc="which incidents the bot acts on")
    locate: Locate = setting(factory=Locate, doc="where a fix goes")
    drafting: Drafting = setting(factory=Drafting, doc="who drafts the fixes")
    detect: DetectOptions = setting(factory=DetectOptions, doc="the detectors")
    validation: Validation = setting(factory=Validation, doc="the gate")
    watch: Watch = setting(factory=Watch, doc="the live watcher")
    metrics: Metrics = setting(factory=Metrics,
                               doc="a Prometheus for container usage (docs/rightsizing.md)")
    rightsizing: Rightsizing = setting(factory=Rightsizing,
                                       doc="right-sizing (docs/rightsizing.md)")
    pull_requests: PullRequests = setting(factory=PullRequests, doc="the pull requests")
    trust: Trust = setting(factory=Trust, doc="graduated trust (docs/trust.md)")
    limits: Limits = setting(factory=Limits,
                             doc="how much of untrusted input is read, and for how long "
                                 "(docs/safety.md)")
    source: str = setting("defaults", key=None, doc="where this configuration came from")

    @property
    def verify(self) -> VerifySettings:
        """The verify stage's settings (derived: verify recognises owners as locate does)."""
        return VerifySettings(self.locate.argocd_label_tracking)
