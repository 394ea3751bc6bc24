"""The settings of `.remediator.yaml` as plain dataclasses (defaults included)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import DEFAULT_PROTECTED_NAMESPACES, DetectOptions
from .trust import Trust

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
class RequestsDefault:
    """Requests the rules draft adds to an HPA target that has none (empty: no default, the
    incident is a diagnosis)."""

    cpu: str = ""
    memory: str = ""


@dataclass
class Drafting:
    provider: str = "rules"
    memory: MemoryRule = field(default_factory=MemoryRule)
    startup: StartupRule = field(default_factory=StartupRule)
    llm: LLMSettings = field(default_factory=LLMSettings)
    #: hosts a model's new values may name beyond those the located manifests already name
    #: (`api.example.com`, `*.example.com`); the `literals` policy reads the same list
    allowed_hosts: list[str] = field(default_factory=list)
    #: variable names a model may add beyond those the container already has (`NAME`, `PREFIX*`)
    allowed_env: list[str] = field(default_factory=list)
    requests: RequestsDefault = field(default_factory=RequestsDefault)


@dataclass
class Conftest:
    """A repository's conftest policies, read as conftest reads them: ``deny``/``violation``
    (and ``deny_x``...) fail, ``warn`` warns, ``exception`` exempts; ``input`` is the object."""

    policies: list[str] = field(default_factory=list)  # repo-relative .rego files or folders
    namespaces: list[str] = field(default_factory=lambda: ["main"])  # conftest --namespace
    all_namespaces: bool = False  # conftest --all-namespaces
    data: list[str] = field(default_factory=list)  # conftest --data: YAML/JSON files or folders


@dataclass
class OpaServer:
    url: str = ""  # empty: REMEDIATOR_OPA_URL from the environment
    timeout_seconds: float = 2.0
    push_policies: bool = True  # False: the server has the policies and data preloaded


@dataclass
class Validation:
    kubernetes_version: str = "1.31"
    policies: list[str] = field(default_factory=list)  # repo-relative .rego files or folders
    #: repo-relative folders of JSON schemas for kinds kubernetes-validate does not bundle (CRDs)
    schema_locations: list[str] = field(default_factory=list)
    max_memory: str = "16Gi"
    max_cpu: str = "8"
    allowed_registries: list[str] = field(default_factory=list)  # empty: any registry
    #: drafting.allowedHosts, for the `literals` policy (one list for the drafter and the gate)
    allowed_hosts: list[str] = field(default_factory=list)
    min_replicas: int | None = 1  # spec.replicas bounds for the replicas policy (None: none)
    max_replicas: int | None = 100
    policy_engine: str = "embedded"  # "embedded" (regorus, in process) | "opa" (an OPA server)
    opa: OpaServer = field(default_factory=OpaServer)
    conftest: Conftest = field(default_factory=Conftest)
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
class Metrics:
    """A Prometheus to read container usage from (empty URL: no metrics, fixes as before).
    Every query is bounded: a range (``lookback_days``), a step, a timeout, a response size."""

    prometheus_url: str = ""
    token_env: str = ""  # a bearer token read from this environment variable
    ca_file: str = ""
    insecure_skip_verify: bool = False
    lookback_days: float = 7.0
    step_seconds: int = 300
    timeout_seconds: float = 10.0
    max_response_bytes: int = 8 * 1024 * 1024
    #: OOMKilled: new limit >= observed peak working set x this (never below the factor rule)
    memory_headroom: float = 1.2
    #: CPUThrottling: throttled periods / periods above this over ``throttling_window_minutes``
    throttling_threshold: float = 0.25
    throttling_window_minutes: int = 60
    #: CPUThrottling: "raise" the CPU limit, or "remove" it (CPU is compressible: without a
    #: limit the container uses idle CPU, and its request still decides its share under load)
    throttling_fix: str = "raise"


@dataclass
class Rightsizing:
    """Opt-in right-sizing of requests from usage percentiles (docs/rightsizing.md)."""

    enabled: bool = False
    cpu_percentile: float = 95.0  # 95 or 99
    memory_headroom: float = 1.15  # memory request = peak working set x this
    min_change_ratio: float = 0.2  # |new - old| / old below this: not worth a PR
    min_change_cpu: float = 0.05  # cores
    min_change_memory: str = "64Mi"
    cpu_floor: float = 0.01  # cores
    memory_floor: str = "32Mi"
    min_history_hours: float = 72.0  # younger (or restarted) workloads are left alone
    cpu_hour_price: float = 0.031611  # USD per vCPU-hour (OpenCost's default on-demand rate)
    gib_hour_price: float = 0.004237  # USD per GiB-hour of memory (OpenCost's default)
    group_by: str = "file"  # "file" or "application": one PR per group
    schedule_hours: float = 168.0  # the service right-sizes weekly, not on every pass


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
    trust: Trust = field(default_factory=Trust)
    detect: DetectOptions = field(default_factory=DetectOptions)
    metrics: Metrics = field(default_factory=Metrics)
    rightsizing: Rightsizing = field(default_factory=Rightsizing)
    #: the kill switch: the service plans and opens nothing while it is on (re-read every pass)
    paused: bool = False
    source: str = "defaults"  # where this configuration came from
