"""`.remediator.yaml`: the settings (``settings``), their JSON Schema (``schema``) and the loader
(``load``)."""

from __future__ import annotations

from .load import load_config, parse_config
from .schema import SCHEMA
from .settings import (
    CONFIG_FILE,
    DEFAULT_KEY_ENV,
    PROVIDERS,
    Config,
    ConfigError,
    Conftest,
    Drafting,
    LLMSettings,
    Locate,
    MemoryRule,
    Metrics,
    OpaServer,
    Pricing,
    PullRequests,
    Rightsizing,
    Scope,
    StartupRule,
    Validation,
    Watch,
)
from .trust import AutomergeFacts, Trust, TrustLevel, TrustRule, automerge_refusal

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_KEY_ENV",
    "PROVIDERS",
    "SCHEMA",
    "AutomergeFacts",
    "Config",
    "ConfigError",
    "Conftest",
    "Drafting",
    "LLMSettings",
    "Locate",
    "MemoryRule",
    "Metrics",
    "OpaServer",
    "Pricing",
    "PullRequests",
    "Rightsizing",
    "Scope",
    "StartupRule",
    "Trust",
    "TrustLevel",
    "TrustRule",
    "Validation",
    "Watch",
    "automerge_refusal",
    "load_config",
    "parse_config",
]
