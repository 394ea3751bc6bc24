"""`.remediator.yaml`: the repo-committed configuration, validated with clear errors.

Unknown keys are rejected (a typo must not silently fall back to a default), and every error names
the line it is on. Secrets never live here: tokens and keys come from the environment.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from ..kernel import files, yamlio
from ..model import DEFAULT_PROTECTED_NAMESPACES, DetectOptions
from .schema import SCHEMA, VALIDATOR, error_message, line_of
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
    RequestsDefault,
    Rightsizing,
    Scope,
    StartupRule,
    Validation,
    Watch,
)
from .trust import Trust, TrustLevel, TrustRule

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_KEY_ENV",
    "PROVIDERS",
    "SCHEMA",
    "Config",
    "ConfigError",
    "Conftest",
    "Drafting",
    "LLMSettings",
    "Locate",
    "MemoryRule",
    "OpaServer",
    "Pricing",
    "PullRequests",
    "Scope",
    "StartupRule",
    "Trust",
    "TrustLevel",
    "TrustRule",
    "Validation",
    "Watch",
    "load_config",
    "parse_config",
]


def _fail(text: str, name: str, path: list[Any], message: str) -> ConfigError:
    line = line_of(YAML().load(io.StringIO(text)), path)
    where = f"{name}: line {line}" if line else name
    dotted = ".".join(str(p) for p in path) or "(top level)"
    return ConfigError(f"{where}: {dotted}: {message}")


def parse_config(text: str, name: str = CONFIG_FILE, repo: Path | None = None) -> Config:
    """Validate and build a configuration; with ``repo``, paths in it must exist there."""
    try:
        docs = yamlio.load_documents(text, name)
    except yamlio.UnsafeYAML as exc:
        raise ConfigError(str(exc)) from None
    docs = [d for d in docs if d is not None]
    if not docs:
        return Config(source=name)
    if len(docs) > 1:
        raise ConfigError(f"{name}: expected one YAML document, found {len(docs)}")
    data = docs[0]
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: line 1: expected a mapping at the top level")
    errors = sorted(VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            path = path + extra[:1]
        raise _fail(text, name, path, error_message(err))
    _check_drafting(text, name, data)
    cfg = _build(data, name)
    if repo is not None:
        real = repo.resolve()
        conftest = cfg.validation.conftest
        for keys, paths in ((["policies"], cfg.validation.policies),
                            (["schemaLocations"], cfg.validation.schema_locations),
                            (["conftest", "policies"], conftest.policies),
                            (["conftest", "data"], conftest.data)):
            for i, rel in enumerate(paths):
                target = (repo / rel).resolve()
                if not target.is_relative_to(real):
                    raise _fail(text, name, ["validation", *keys, i],
                                f"{rel!r} is outside the repository")
                if not target.exists():
                    raise _fail(text, name, ["validation", *keys, i],
                                f"{rel!r} does not exist in the repository")
    return cfg


def _metrics(m: dict[str, Any]) -> Metrics:
    md = Metrics()
    return Metrics(
        prometheus_url=str(m.get("prometheusUrl", md.prometheus_url)).rstrip("/"),
        token_env=m.get("tokenEnv", md.token_env),
        ca_file=m.get("caFile", md.ca_file),
        insecure_skip_verify=bool(m.get("insecureSkipVerify", md.insecure_skip_verify)),
        lookback_days=float(m.get("lookbackDays", md.lookback_days)),
        step_seconds=int(m.get("stepSeconds", md.step_seconds)),
        timeout_seconds=float(m.get("timeoutSeconds", md.timeout_seconds)),
        max_response_bytes=int(m.get("maxResponseBytes", md.max_response_bytes)),
        memory_headroom=float(m.get("memoryHeadroom", md.memory_headroom)),
        throttling_threshold=float(m.get("throttlingThreshold", md.throttling_threshold)),
        throttling_window_minutes=int(m.get("throttlingWindowMinutes",
                                            md.throttling_window_minutes)),
        throttling_fix=str(m.get("throttlingFix", md.throttling_fix)),
    )


def _rightsizing(r: dict[str, Any]) -> Rightsizing:
    rd = Rightsizing()
    return Rightsizing(
        enabled=bool(r.get("enabled", rd.enabled)),
        cpu_percentile=float(r.get("cpuPercentile", rd.cpu_percentile)),
        memory_headroom=float(r.get("memoryHeadroom", rd.memory_headroom)),
        min_change_ratio=float(r.get("minChangeRatio", rd.min_change_ratio)),
        min_change_cpu=float(r.get("minChangeCpu", rd.min_change_cpu)),
        min_change_memory=str(r.get("minChangeMemory", rd.min_change_memory)),
        cpu_floor=float(r.get("cpuFloor", rd.cpu_floor)),
        memory_floor=str(r.get("memoryFloor", rd.memory_floor)),
        min_history_hours=float(r.get("minHistoryHours", rd.min_history_hours)),
        cpu_hour_price=float(r.get("cpuHourPrice", rd.cpu_hour_price)),
        gib_hour_price=float(r.get("gibHourPrice", rd.gib_hour_price)),
        group_by=str(r.get("groupBy", rd.group_by)),
        schedule_hours=float(r.get("scheduleHours", rd.schedule_hours)),
    )


def _build(d: dict[str, Any], name: str) -> Config:
    cfg = Config(source=name)
    cfg.cluster = d.get("cluster", cfg.cluster)
    cfg.paused = bool(d.get("paused", False))
    cfg.repo_url = (d.get("repo") or {}).get("url", "")
    s = d.get("scope") or {}
    cfg.scope = Scope(
        namespaces=s.get("namespaces", []),
        exclude_namespaces=s.get("excludeNamespaces", []),
        # The defaults stay protected whatever is listed: a config can add, never unprotect.
        protected_namespaces=sorted(
            set(DEFAULT_PROTECTED_NAMESPACES) | set(s.get("protectedNamespaces", []))),
        failure_classes=s.get("failureClasses", []),
    )
    cfg.locate = Locate(
        argocd_label_tracking=(d.get("locate") or {}).get("argocdLabelTracking", False))
    dr = d.get("drafting") or {}
    mem = dr.get("memory") or {}
    cfg.drafting = Drafting(
        provider=dr.get("provider", "rules"),
        memory=MemoryRule(
            factor=float(mem.get("factor", 1.5)),
            cap=str(mem.get("cap", "4Gi")),
        ),
        startup=StartupRule(max_seconds=(dr.get("startupProbe") or {}).get("maxSeconds", 600)),
        llm=_llm(dr),
        allowed_hosts=[h.lower() for h in dr.get("allowedHosts", [])],
        allowed_env=list(dr.get("allowedEnv", [])),
        requests=RequestsDefault(cpu=str((dr.get("requests") or {}).get("cpu", "")),
                                 memory=str((dr.get("requests") or {}).get("memory", ""))),
    )
    gated = (d.get("detect") or {}).get("schedulingGatedSeconds")
    cfg.detect = DetectOptions() if gated is None else DetectOptions(
        scheduling_gated_seconds=int(gated))
    v = d.get("validation") or {}
    opa = v.get("opa") or {}
    ct = v.get("conftest") or {}
    cfg.validation = Validation(
        kubernetes_version=v.get("kubernetesVersion", "1.31"),
        policies=v.get("policies", []),
        schema_locations=v.get("schemaLocations", []),
        max_memory=str(v.get("maxMemory", "16Gi")),
        max_cpu=str(v.get("maxCpu", "8")),
        allowed_registries=v.get("allowedRegistries", []),
        allowed_hosts=list(cfg.drafting.allowed_hosts),
        min_replicas=v.get("minReplicas", Validation.min_replicas),
        max_replicas=v.get("maxReplicas", Validation.max_replicas),
        policy_engine=v.get("policyEngine", "embedded"),
        opa=OpaServer(
            url=str(opa.get("url", "")),
            timeout_seconds=float(opa.get("timeoutSeconds", OpaServer.timeout_seconds)),
            push_policies=opa.get("pushPolicies", True),
        ),
        conftest=Conftest(
            policies=list(ct.get("policies", [])),
            namespaces=list(ct.get("namespaces", Conftest().namespaces)),
            all_namespaces=bool(ct.get("allNamespaces", False)),
            data=list(ct.get("data", [])),
        ),
        dry_run=str(v.get("dryRun", "auto")).lower(),
    )
    w = d.get("watch") or {}
    wd = Watch()
    cfg.watch = Watch(
        settle_seconds=w.get("settleSeconds", wd.settle_seconds),
        clear_seconds=w.get("clearSeconds", wd.clear_seconds),
        flap_window_seconds=w.get("flapWindowSeconds", wd.flap_window_seconds),
        flap_count=w.get("flapCount", wd.flap_count),
        resync_seconds=w.get("resyncSeconds", wd.resync_seconds),
        log_tail_lines=(w.get("logs") or {}).get("tailLines", wd.log_tail_lines),
        log_limit_bytes=(w.get("logs") or {}).get("limitBytes", wd.log_limit_bytes),
    )
    cfg.metrics = _metrics(d.get("metrics") or {})
    cfg.rightsizing = _rightsizing(d.get("rightsizing") or {})
    p = d.get("pullRequests") or {}
    defaults = PullRequests()
    cfg.pull_requests = PullRequests(
        base=p.get("base", defaults.base),
        branch_prefix=p.get("branchPrefix", defaults.branch_prefix),
        labels=p.get("labels", defaults.labels),
        reviewers=p.get("reviewers", []),
        team_reviewers=p.get("teamReviewers", []),
        assignees=p.get("assignees", []),
        draft=p.get("draft", False),
        max_open=p.get("maxOpen", defaults.max_open),
        max_per_hour=p.get("maxPerHour", defaults.max_per_hour),
        dashboard=p.get("dashboard", defaults.dashboard),
    )
    cfg.trust = _trust(d.get("trust") or {})
    return cfg


def _trust(t: dict[str, Any]) -> Trust:
    d = Trust()
    return Trust(
        rules=[TrustRule(level=TrustLevel(r["level"]), failure_class=r.get("failureClass", ""),
                         namespace=r.get("namespace", ""), labels=dict(r.get("labels", {})),
                         path=r.get("path", ""), name=r.get("name", ""))
               for r in t.get("rules", [])],
        daily_budget=t.get("dailyBudget", d.daily_budget),
        automerge_kinds=list(t.get("automergeKinds", d.automerge_kinds)),
        image_revert_max_age_hours=t.get("imageRevertMaxAgeHours",
                                         d.image_revert_max_age_hours),
        diagnose_as_draft_pr=t.get("diagnoseAsDraftPr", d.diagnose_as_draft_pr),
    )


def _llm(dr: dict[str, Any]) -> LLMSettings:
    d = LLMSettings()
    price = dr.get("pricing") or {}
    return LLMSettings(
        model=dr.get("model", d.model),
        base_url=dr.get("baseUrl", d.base_url),
        api_key_env=dr.get("apiKeyEnv", d.api_key_env),
        temperature=float(dr.get("temperature", d.temperature)),
        timeout_seconds=float(dr.get("timeoutSeconds", d.timeout_seconds)),
        max_retries=dr.get("maxRetries", d.max_retries),
        max_tokens_per_incident=dr.get("maxTokensPerIncident", d.max_tokens_per_incident),
        monthly_token_budget=dr.get("monthlyTokenBudget", d.monthly_token_budget),
        pricing=Pricing(float(price.get("inputPerMillion", 0)),
                        float(price.get("outputPerMillion", 0))),
    )


def _check_drafting(text: str, name: str, data: dict[str, Any]) -> None:
    """What the schema cannot say in one line: a model provider needs a model (and an
    OpenAI-compatible one its endpoint)."""
    dr = data.get("drafting") or {}
    provider = dr.get("provider", "rules")
    if provider == "rules":
        return
    if not dr.get("model"):
        raise _fail(text, name, ["drafting", "provider"],
                    f"provider {provider!r} needs drafting.model (the model name to use)")
    if provider == "openai-compatible" and not dr.get("baseUrl"):
        raise _fail(text, name, ["drafting", "provider"],
                    "provider 'openai-compatible' needs drafting.baseUrl (e.g. "
                    "http://ollama:11434/v1)")


def load_config(repo: Path, explicit: Path | None = None) -> Config:
    """The config: an explicit file, else the repo's `.remediator.yaml`, else the defaults."""
    path = explicit if explicit is not None else repo / CONFIG_FILE
    if explicit is None and not path.exists():
        return Config()
    if explicit is not None and not os.path.lexists(path):
        raise ConfigError(f"{path}: no such file")
    try:
        if explicit is None:
            text = yamlio.read_text(repo, CONFIG_FILE)
        else:  # a regular file, bounded: a FIFO or /dev/zero would block or never end
            text = files.read_bytes(path, yamlio.MAX_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except files.UnreadableFile as exc:
        raise ConfigError(str(exc)) from None
    except (OSError, UnicodeDecodeError, yamlio.UnsafeYAML) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, str(path) if explicit is not None else CONFIG_FILE, repo)
