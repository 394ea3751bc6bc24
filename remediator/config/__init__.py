"""`.remediator.yaml`: the settings (``settings``, declared once), their JSON Schema (``schema``),
the loader (``load``) and the configuration reference (``reference``), all derived from the
declarations."""

from __future__ import annotations

from ..model.trust import AutomergeFacts, Trust, TrustLevel, TrustRule, automerge_refusal
from .load import load_config, parse_config
from .schema import config_schema
from .settings import (
    CONFIG_FILE,
    DEFAULT_KEY_ENV,
    PROVIDERS,
    Config,
    ConfigError,
    Conftest,
    DetectOptions,
    Drafting,
    Limits,
    LLMSettings,
    Locate,
    MemoryRule,
    Metrics,
    OpaServer,
    Pricing,
    PullRequests,
    RequestsDefault,
    Rightsizing,
    Scope,
    StartupRule,
    Validation,
    Watch,
)

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_KEY_ENV",
    "PROVIDERS",
    "AutomergeFacts",
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
    "Trust",
    "TrustLevel",
    "TrustRule",
    "Validation",
    "Watch",
    "automerge_refusal",
    "config_schema",
    "load_config",
    "parse_config",
]
