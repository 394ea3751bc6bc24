"""`.remediator.yaml`: the repo-committed configuration, validated with clear errors.

Unknown keys are rejected (a typo must not silently fall back to a default), and every error names
the line it is on. Secrets never live here: tokens and keys come from the environment.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from kubernetes.utils.quantity import parse_quantity
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from . import yamlio
from .model import DEFAULT_PROTECTED_NAMESPACES, FAILURE_CLASSES

CONFIG_FILE = ".remediator.yaml"


class ConfigError(ValueError):
    """The configuration is invalid; the message is one line naming file and line."""


@dataclass
class Scope:
    namespaces: list[str] = field(default_factory=list)  # empty: all namespaces
    exclude_namespaces: list[str] = field(default_factory=list)
    protected_namespaces: list[str] = field(
        default_factory=lambda: list(DEFAULT_PROTECTED_NAMESPACES)
    )
    failure_classes: list[str] = field(default_factory=list)  # empty: all classes

    def namespace_in_scope(self, namespace: str) -> bool:
        if self.namespaces and namespace not in self.namespaces:
            return False
        return namespace not in self.exclude_namespaces

    def class_in_scope(self, failure_class: str) -> bool:
        return not self.failure_classes or failure_class in self.failure_classes


@dataclass
class Locate:
    #: Argo CD `app.kubernetes.io/instance` label tracking (only when the Argo install uses it)
    argocd_label_tracking: bool = False


@dataclass
class MemoryRule:
    factor: float = 1.5
    cap: str = "4Gi"


@dataclass
class StartupRule:
    #: the longest time a startupProbe may give a container to start
    max_seconds: int = 600


#: drafting providers: the offline rules, or a model behind one of these APIs
PROVIDERS = ("rules", "openai", "anthropic", "openai-compatible")
DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
                   "openai-compatible": "OPENAI_API_KEY"}


@dataclass
class Pricing:
    """US dollars per million tokens, for the cost estimate in PR provenance (0: unknown)."""

    input_per_million: float = 0.0
    output_per_million: float = 0.0


@dataclass
class LLMSettings:
    """How a model drafts (provider other than `rules`). The key is read from ``api_key_env``."""

    model: str = ""
    base_url: str = ""  # openai-compatible endpoints (Ollama, vLLM...); or a proxy for the others
    api_key_env: str = ""  # empty: the provider's usual variable (DEFAULT_KEY_ENV)
    temperature: float = 0.0
    timeout_seconds: float = 60.0
    #: retries after HTTP 429, each waiting what Retry-After says (at most MAX_RETRY_WAIT)
    max_retries: int = 2
    max_tokens_per_incident: int = 6000  # prompt + answer; the context is trimmed to fit
    monthly_token_budget: int = 0  # 0: no monthly limit
    pricing: Pricing = field(default_factory=Pricing)

    def key_env(self, provider: str) -> str:
        return self.api_key_env or DEFAULT_KEY_ENV.get(provider, "")


@dataclass
class Drafting:
    provider: str = "rules"
    memory: MemoryRule = field(default_factory=MemoryRule)
    startup: StartupRule = field(default_factory=StartupRule)
    llm: LLMSettings = field(default_factory=LLMSettings)


@dataclass
class OpaServer:
    url: str = ""  # empty: REMEDIATOR_OPA_URL from the environment
    timeout_seconds: float = 2.0
    push_policies: bool = True  # False: the server has the policies and data preloaded


@dataclass
class Validation:
    kubernetes_version: str = "1.31"
    policies: list[str] = field(default_factory=list)  # repo-relative .rego files or folders
    max_memory: str = "16Gi"
    max_cpu: str = "8"
    allowed_registries: list[str] = field(default_factory=list)  # empty: any registry
    min_replicas: int | None = 1  # spec.replicas bounds for the replicas policy (None: none)
    max_replicas: int | None = 100
    policy_engine: str = "embedded"  # "embedded" (regorus, in process) | "opa" (an OPA server)
    opa: OpaServer = field(default_factory=OpaServer)
    dry_run: str = "auto"  # "auto": when a cluster is reachable | "true": required | "false"
    #: the cluster `run` watches (its --context / --kubeconfig), so the dry-run asks the same
    #: one; set at run time, never read from the file (None: in-cluster, else current context)
    kube_context: str | None = None
    kubeconfig: str | None = None


@dataclass
class PullRequests:
    base: str = "main"
    branch_prefix: str = "remediator/"
    labels: list[str] = field(default_factory=lambda: ["remediator"])
    reviewers: list[str] = field(default_factory=list)
    team_reviewers: list[str] = field(default_factory=list)  # team slugs (GitHub)
    assignees: list[str] = field(default_factory=list)
    draft: bool = False
    max_open: int = 10
    max_per_hour: int = 5
    dashboard: bool = True  # one issue per repository listing the bot's state


@dataclass
class Watch:
    """The live watcher: noise control and how it reads the cluster."""

    settle_seconds: int = 120  # seen this long before an incident is raised
    clear_seconds: int = 300  # absent this long: recovered
    flap_window_seconds: int = 3600
    flap_count: int = 3  # raises within the window that make a signature flapping
    resync_seconds: int = 900  # full relist, whatever the watches say
    log_tail_lines: int = 200
    log_limit_bytes: int = 65536


@dataclass
class Config:
    cluster: str = "default"
    repo_url: str = ""
    scope: Scope = field(default_factory=Scope)
    locate: Locate = field(default_factory=Locate)
    drafting: Drafting = field(default_factory=Drafting)
    validation: Validation = field(default_factory=Validation)
    pull_requests: PullRequests = field(default_factory=PullRequests)
    watch: Watch = field(default_factory=Watch)
    #: the kill switch: the service plans and opens nothing while it is on (re-read every pass)
    paused: bool = False
    source: str = "defaults"  # where this configuration came from


def _strings() -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "minLength": 1}}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props}


_QUANTITY = {"type": ["string", "number"], "format": "quantity"}
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("quantity", raises=ValueError)
def _is_quantity(value: object) -> bool:
    parse_quantity(value)  # the kubernetes client's own parser: raises ValueError
    return True


SCHEMA: dict[str, Any] = _obj(
    {
        "cluster": {"type": "string", "minLength": 1},
        "paused": {"type": "boolean"},
        "repo": _obj({"url": {"type": "string"}}),
        "scope": _obj(
            {
                "namespaces": _strings(),
                "excludeNamespaces": _strings(),
                "protectedNamespaces": _strings(),
                "failureClasses": {"type": "array", "items": {"enum": list(FAILURE_CLASSES)}},
            }
        ),
        "locate": _obj({"argocdLabelTracking": {"type": "boolean"}}),
        "drafting": _obj(
            {
                "provider": {"enum": list(PROVIDERS)},
                "model": {"type": "string", "minLength": 1},
                "baseUrl": {"type": "string", "pattern": "^https?://[^\\s]+$"},
                "apiKeyEnv": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
                "maxRetries": {"type": "integer", "minimum": 0, "maximum": 5},
                "maxTokensPerIncident": {"type": "integer", "minimum": 1000,
                                         "maximum": 200000},
                "monthlyTokenBudget": {"type": "integer", "minimum": 0},
                "pricing": _obj({
                    "inputPerMillion": {"type": "number", "minimum": 0},
                    "outputPerMillion": {"type": "number", "minimum": 0},
                }),
                "memory": _obj(
                    {
                        "factor": {"type": "number", "exclusiveMinimum": 1, "maximum": 10},
                        "cap": _QUANTITY,
                    }
                ),
                "startupProbe": _obj(
                    {"maxSeconds": {"type": "integer", "minimum": 10, "maximum": 3600}}
                ),
            }
        ),
        "validation": _obj(
            {
                "kubernetesVersion": {"type": "string", "pattern": r"^1\.[0-9]+$"},
                "policies": _strings(),
                "maxMemory": _QUANTITY,
                "maxCpu": _QUANTITY,
                "allowedRegistries": _strings(),
                "minReplicas": {"type": ["integer", "null"], "minimum": 0},
                "maxReplicas": {"type": ["integer", "null"], "minimum": 1},
                "policyEngine": {"enum": ["embedded", "opa"]},
                "opa": _obj(
                    {
                        "url": {"type": "string", "pattern": r"^https?://[^/?#\s]+/?$"},
                        "timeoutSeconds": {"type": "number", "exclusiveMinimum": 0,
                                           "maximum": 60},
                        "pushPolicies": {"type": "boolean"},
                    }
                ),
                "dryRun": {"enum": ["auto", True, False]},
            }
        ),
        "watch": _obj(
            {
                "settleSeconds": {"type": "integer", "minimum": 0, "maximum": 86400},
                "clearSeconds": {"type": "integer", "minimum": 0, "maximum": 86400},
                "flapWindowSeconds": {"type": "integer", "minimum": 60, "maximum": 604800},
                "flapCount": {"type": "integer", "minimum": 2, "maximum": 100},
                "resyncSeconds": {"type": "integer", "minimum": 60, "maximum": 86400},
                "logs": _obj({
                    "tailLines": {"type": "integer", "minimum": 1, "maximum": 10000},
                    "limitBytes": {"type": "integer", "minimum": 1024, "maximum": 4194304},
                }),
            }
        ),
        "pullRequests": _obj(
            {
                "base": {"type": "string", "minLength": 1},
                "branchPrefix": {"type": "string", "minLength": 1},
                "labels": _strings(),
                "reviewers": _strings(),
                "teamReviewers": _strings(),
                "assignees": _strings(),
                "draft": {"type": "boolean"},
                "maxOpen": {"type": "integer", "minimum": 0},
                "maxPerHour": {"type": "integer", "minimum": 0},
                "dashboard": {"type": "boolean"},
            }
        ),
    }
)
_VALIDATOR = Draft202012Validator(SCHEMA, format_checker=_FORMATS)


def _line_of(tree: Any, path: list[Any]) -> int | None:
    """1-based line of the node at path in a round-trip tree (the deepest one we can find)."""
    line: int | None = None
    node = tree
    for key in path:
        if isinstance(node, CommentedMap) and key in node:
            pos = node.lc.key(key)
            line = pos[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
            line = node.lc.item(key)[0] + 1
            node = node[key]
        else:
            break
    return line


def _message(err: Any) -> str:
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        return f"unknown key {extra[0]!r} (allowed: {allowed})"
    if err.validator == "enum":
        choices = [str(v).lower() if isinstance(v, bool) else str(v) for v in err.validator_value]
        return f"{err.instance!r} is not one of {', '.join(choices)}"
    if err.validator == "pattern" and err.validator_value.startswith("^https?"):
        return f"{err.instance!r} is not a URL like http://127.0.0.1:8181 (no path)"
    if err.validator == "format" and err.validator_value == "quantity":
        return f"{err.instance!r} is not a Kubernetes quantity (e.g. 512Mi, 2Gi, 500m)"
    return str(err.message)


def _fail(text: str, name: str, path: list[Any], message: str) -> ConfigError:
    line = _line_of(YAML().load(io.StringIO(text)), path)
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
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            path = path + extra[:1]
        raise _fail(text, name, path, _message(err))
    _check_drafting(text, name, data)
    cfg = _build(data, name)
    if repo is not None:
        real = repo.resolve()
        for i, rel in enumerate(cfg.validation.policies):
            target = (repo / rel).resolve()
            if not target.is_relative_to(real):
                raise _fail(text, name, ["validation", "policies", i],
                            f"{rel!r} is outside the repository")
            if not target.exists():
                raise _fail(text, name, ["validation", "policies", i],
                            f"{rel!r} does not exist in the repository")
    return cfg


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
    )
    v = d.get("validation") or {}
    opa = v.get("opa") or {}
    cfg.validation = Validation(
        kubernetes_version=v.get("kubernetesVersion", "1.31"),
        policies=v.get("policies", []),
        max_memory=str(v.get("maxMemory", "16Gi")),
        max_cpu=str(v.get("maxCpu", "8")),
        allowed_registries=v.get("allowedRegistries", []),
        min_replicas=v.get("minReplicas", Validation.min_replicas),
        max_replicas=v.get("maxReplicas", Validation.max_replicas),
        policy_engine=v.get("policyEngine", "embedded"),
        opa=OpaServer(
            url=str(opa.get("url", "")),
            timeout_seconds=float(opa.get("timeoutSeconds", OpaServer.timeout_seconds)),
            push_policies=opa.get("pushPolicies", True),
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
    return cfg


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
    try:
        if explicit is None:
            text = yamlio.read_text(repo, CONFIG_FILE)
        else:
            text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, yamlio.UnsafeYAML) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, str(path) if explicit is not None else CONFIG_FILE, repo)
