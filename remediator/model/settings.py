"""The settings the stages take, as small typed objects: `config` builds them once from
`.remediator.yaml`; a stage receives the one it needs and never reads the file itself.

Each field is declared with :func:`setting`: default, file key, bounds and one-line description
in one place (docs/configuration.md is generated from them).
"""

from __future__ import annotations

from dataclasses import dataclass

from .setting import (
    BRANCH_PREFIX_PATTERN,
    ENV_PATTERN,
    HOST_PATTERN,
    PACKAGE_PATTERN,
    POSITIVE_QUANTITY,
    QUANTITY,
    SERVER_URL_PATTERN,
    setting,
)


class ConfigError(ValueError):
    """The configuration is invalid (or a configured part cannot work); the message is one line
    naming file and line where there is one."""


#: never patched, whatever the configuration adds (scope.protectedNamespaces extends them)
DEFAULT_PROTECTED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")

#: drafting providers: the offline rules, or a model behind one of these APIs
PROVIDERS = ("rules", "openai", "anthropic", "openai-compatible")
DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
                   "openai-compatible": "OPENAI_API_KEY"}


@dataclass(frozen=True)
class DetectOptions:
    """Settings of the detect stage (`detect:`)."""

    #: gates are often intentional: a queue such as Kueue holds pods until capacity is admitted
    scheduling_gated_seconds: int = setting(
        3600, minimum=0, maximum=604800,
        doc="a pod held by scheduling gates is reported only after this long")


@dataclass(frozen=True)
class VerifySettings:
    """Settings of the verify stage: how it finds the GitOps owner whose sync revision says
    whether a merged fix reached the cluster. Built by config from `locate.argocdLabelTracking`
    (the owner is recognised as locate recognises it); not a key of its own."""

    #: the Argo CD instance label names the Application only with label tracking configured
    argocd_label_tracking: bool = False


@dataclass
class MemoryRule:
    """OOMKilled: the rules draft raises the memory limit by a factor, up to a cap."""

    factor: float = setting(1.5, exclusive_minimum=1, maximum=10,
                            doc="new limit = the observed limit x this")
    cap: str = setting("4Gi", **POSITIVE_QUANTITY,
                       doc="the rules draft never raises a limit above this")


@dataclass
class StartupRule:
    """ProbeFailure at startup: how far the rules draft may stretch a startupProbe."""

    max_seconds: int = setting(600, minimum=10, maximum=3600,
                               doc="the longest time a startupProbe may give a container to start")


@dataclass
class Pricing:
    """US dollars per million tokens, for the cost estimate in PR provenance (0: unknown)."""

    input_per_million: float = setting(0.0, minimum=0, doc="USD per million prompt tokens")
    output_per_million: float = setting(0.0, minimum=0, doc="USD per million answer tokens")


@dataclass
class LLMSettings:
    """How a model drafts (provider other than `rules`). The key is read from ``api_key_env``.

    In the file these keys sit in `drafting:` itself."""

    model: str = setting("", min_length=1,
                         doc="the model name (required for a model provider), e.g. gpt-4.1-mini")
    base_url: str = setting(
        "", pattern="^https?://[^\\s]+$",
        doc="the endpoint: required for openai-compatible (e.g. http://ollama:11434/v1); a proxy "
            "for the others")
    api_key_env: str = setting(
        "", pattern="^[A-Za-z_][A-Za-z0-9_]*$",
        doc="the environment variable holding the API key (empty: OPENAI_API_KEY or "
            "ANTHROPIC_API_KEY)")
    temperature: float = setting(0.0, minimum=0, maximum=2,
                                 doc="OpenAI and compatible servers (Anthropic's API takes none)")
    timeout_seconds: float = setting(60.0, exclusive_minimum=0, maximum=600,
                                     doc="the whole call: connecting, retries, the last byte")
    max_retries: int = setting(2, minimum=0, maximum=5,
                               doc="retries after HTTP 429, each waiting what Retry-After says "
                                   "(at most 30 s)")
    max_tokens_per_incident: int = setting(6000, minimum=1000, maximum=200000,
                                           doc="prompt + answer; the context is trimmed to fit")
    monthly_token_budget: int = setting(0, minimum=0,
                                        doc="tokens a month (0: no limit); past it, rules draft")
    pricing: Pricing = setting(factory=Pricing, doc="USD, for the cost in PR provenance")

    def key_env(self, provider: str) -> str:
        return self.api_key_env or DEFAULT_KEY_ENV.get(provider, "")


@dataclass
class RequestsDefault:
    """Requests the rules draft adds to an HPA target that has none (empty: no default, the
    incident is a diagnosis)."""

    cpu: str = setting("", **QUANTITY, doc="e.g. 100m")
    memory: str = setting("", **QUANTITY, doc="e.g. 128Mi")


def _lower_all(hosts: list[str]) -> list[str]:
    return [h.lower() for h in hosts]


@dataclass
class Drafting:
    """Who drafts the fixes and within which limits."""

    provider: str = setting("rules", enum=list(PROVIDERS),
                            doc="rules (offline, deterministic) or a model: openai | anthropic | "
                                "openai-compatible")
    llm: LLMSettings = setting(factory=LLMSettings, key="", doc="only with a model provider")
    memory: MemoryRule = setting(factory=MemoryRule, doc="OOMKilled: the rules draft's limit")
    startup: StartupRule = setting(factory=StartupRule, key="startupProbe",
                                   doc="ProbeFailure at startup")
    allowed_hosts: list[str] = setting(
        factory=list, items={"type": "string", "pattern": HOST_PATTERN, "maxLength": 253},
        convert=_lower_all,
        doc="hosts a model's new values may name beyond the manifests' own (api.example.com, "
            "*.example.com); the literals policy reads it too")
    allowed_env: list[str] = setting(
        factory=list, items={"type": "string", "pattern": ENV_PATTERN},
        doc="variables a model may add beyond the container's own (NAME, PREFIX*)")
    requests: RequestsDefault = setting(
        factory=RequestsDefault,
        doc="requests added to an HPA target without any (unset: a diagnosis; "
            "docs/detection.md)")


@dataclass(frozen=True)
class OpaServer:
    """An OPA server (`validation.opa`); frozen, so an engine is cached by it, not by position."""

    url: str = setting(
        "", pattern=SERVER_URL_PATTERN,
        doc="no path; empty: $REMEDIATOR_OPA_URL (with $REMEDIATOR_OPA_TOKEN as bearer token)")
    timeout_seconds: float = setting(2.0, exclusive_minimum=0, maximum=60,
                                     doc="per request to the server")
    push_policies: bool = setting(True, doc="false: the server has the policies and data "
                                            "preloaded (a bundle)")


@dataclass
class Conftest:
    """A repository's conftest policies, read as conftest reads them: ``deny``/``violation``
    (and ``deny_x``...) fail, ``warn`` warns, ``exception`` exempts; ``input`` is the object."""

    policies: list[str] = setting(factory=list, repo_paths=True,
                                  doc="repo-relative .rego files or folders (must exist)")
    namespaces: list[str] = setting(factory=lambda: ["main"], min_items=1,
                                    items={"type": "string", "pattern": PACKAGE_PATTERN},
                                    doc="the Rego packages read, as conftest --namespace")
    all_namespaces: bool = setting(False, doc="every package, as conftest --all-namespaces")
    data: list[str] = setting(factory=list, repo_paths=True,
                              doc="YAML/JSON files or folders under `data`, as conftest --data")


def _dry_run(value: object) -> str:
    return str(value).lower()  # YAML's true/false arrive as booleans


@dataclass
class ValidationSettings:
    """What the gate checks a change against (`validation:`)."""

    kubernetes_version: str = setting("1.31", pattern=r"^1\.[0-9]+$",
                                      doc="the Kubernetes schema version for strict validation")
    policies: list[str] = setting(
        factory=list, repo_paths=True,
        doc="repo-relative .rego files or folders (must exist), added to the built-ins")
    schema_locations: list[str] = setting(
        factory=list, repo_paths=True,
        doc="repo-relative folders of JSON schemas for kinds kubernetes-validate does not bundle "
            "(CRDs)")
    max_memory: str = setting("16Gi", **POSITIVE_QUANTITY,
                              doc="the resources policy's memory ceiling")
    max_cpu: str = setting("8", **POSITIVE_QUANTITY, doc="the resources policy's CPU ceiling")
    allowed_registries: list[str] = setting(factory=list,
                                            doc="e.g. [ghcr.io/acme]; empty: any registry")
    #: drafting.allowedHosts, for the `literals` policy (one list for the drafter and the gate)
    allowed_hosts: list[str] = setting(factory=list, key=None,
                                       doc="drafting.allowedHosts, for the literals policy")
    min_replicas: int | None = setting(1, minimum=0,
                                       doc="spec.replicas lower bound (null: not checked)")
    max_replicas: int | None = setting(100, minimum=1,
                                       doc="spec.replicas upper bound (null: not checked)")
    policy_engine: str = setting("embedded", enum=["embedded", "opa"],
                                 doc="embedded (regorus, in process) | opa (an OPA server)")
    opa: OpaServer = setting(factory=OpaServer, doc="the OPA server (policyEngine: opa)")
    conftest: Conftest = setting(factory=Conftest, doc="the repository's conftest policies")
    dry_run: str = setting("auto", enum=["auto", True, False], convert=_dry_run,
                           doc="server-side dry-run: auto (when a cluster answers) | true "
                               "(required) | false (never)")
    #: the cluster `run` watches (its --context / --kubeconfig), so the dry-run asks the same
    #: one; set at run time, never read from the file (None: in-cluster, else current context)
    kube_context: str | None = setting(None, key=None, doc="run --context")
    kubeconfig: str | None = setting(None, key=None, doc="run --kubeconfig")


@dataclass
class PullRequests:
    """How the forge opens pull requests (`pullRequests:`)."""

    base: str = setting("main", min_length=1, doc="the branch pull requests target")
    branch_prefix: str = setting("remediator/", pattern=BRANCH_PREFIX_PATTERN,
                                 doc="of the bot's branches (a valid start of a git branch name)")
    labels: list[str] = setting(factory=lambda: ["remediator"],
                                doc="`remediator` and `remediator:<class>` are always added")
    reviewers: list[str] = setting(factory=list, doc="GitHub logins")
    team_reviewers: list[str] = setting(factory=list, doc="GitHub team slugs")
    assignees: list[str] = setting(factory=list, doc="GitHub logins")
    draft: bool = setting(False, doc="open pull requests as drafts")
    max_open: int = setting(10, minimum=0, doc="open remediation PRs at most")
    max_per_hour: int = setting(5, minimum=0, doc="new PRs per rolling hour at most")
    dashboard: bool = setting(True, doc='one "Remediator dashboard" issue per repository')


def _no_trailing_slash(url: str) -> str:
    return str(url).rstrip("/")


@dataclass
class Metrics:
    """A Prometheus to read container usage from (empty URL: no metrics, fixes as before).
    Every query is bounded: a range (``lookback_days``), a step, a timeout, a response size."""

    prometheus_url: str = setting("", pattern="^https?://", convert=_no_trailing_slash,
                                  doc="the Prometheus HTTP API (empty: no metrics)")
    token_env: str = setting("", pattern=ENV_PATTERN,
                             doc="a bearer token read from this environment variable")
    ca_file: str = setting("", doc="a CA bundle to verify the server with")
    insecure_skip_verify: bool = setting(False, doc="skip TLS verification (tests only)")
    lookback_days: float = setting(7.0, minimum=0.01, maximum=90, doc="the range read")
    step_seconds: int = setting(300, minimum=15, maximum=3600, doc="the query resolution")
    timeout_seconds: float = setting(10.0, minimum=0.1, maximum=120, doc="per query")
    max_response_bytes: int = setting(8 * 1024 * 1024, minimum=4096, maximum=268435456,
                                      doc="a larger answer is refused")
    memory_headroom: float = setting(
        1.2, minimum=1, maximum=4,
        doc="OOMKilled: new limit >= observed peak working set x this (never below the factor "
            "rule)")
    throttling_threshold: float = setting(
        0.25, minimum=0.01, maximum=1,
        doc="CPUThrottling: throttled periods / periods above this over the window")
    throttling_window_minutes: int = setting(60, minimum=5, maximum=10080,
                                             doc="CPUThrottling: the window")
    #: CPU is compressible: without a limit the container uses idle CPU, and its request still
    #: decides its share under load
    throttling_fix: str = setting("raise", enum=["raise", "remove"],
                                  doc="CPUThrottling: raise the CPU limit, or remove it")


@dataclass
class Rightsizing:
    """Opt-in right-sizing of requests from usage percentiles (docs/rightsizing.md)."""

    enabled: bool = setting(False, doc="right-size requests (opt-in)")
    cpu_percentile: float = setting(95.0, enum=[90, 95, 99],
                                    doc="the CPU usage percentile a request is sized to")
    memory_headroom: float = setting(1.15, minimum=1, maximum=4,
                                     doc="memory request = peak working set x this")
    min_change_ratio: float = setting(0.2, minimum=0, maximum=10,
                                      doc="|new - old| / old below this: not worth a PR")
    min_change_cpu: float = setting(0.05, minimum=0, maximum=64, doc="cores")
    min_change_memory: str = setting("64Mi", **QUANTITY,
                                     doc="smaller memory changes are not worth a PR")
    cpu_floor: float = setting(0.01, minimum=0, maximum=64, doc="cores: never below this")
    memory_floor: str = setting("32Mi", **QUANTITY, doc="never below this")
    min_history_hours: float = setting(72.0, minimum=0, maximum=2160,
                                       doc="younger (or restarted) workloads are left alone")
    cpu_hour_price: float = setting(
        0.031611, minimum=0, maximum=100,
        doc="USD per vCPU-hour (OpenCost's default on-demand rate)")
    gib_hour_price: float = setting(0.004237, minimum=0, maximum=100,
                                    doc="USD per GiB-hour of memory (OpenCost's default)")
    group_by: str = setting("file", enum=["file", "application"],
                            doc="one PR per file or per application")
    schedule_hours: float = setting(168.0, minimum=1, maximum=2160,
                                    doc="the service right-sizes this often (weekly), not on "
                                        "every pass")


@dataclass(frozen=True)
class Limits:
    """What the bot reads of input it does not control (`limits:`): files, snapshots, YAML,
    model replies, and how long a tool may run. Past a limit the input is refused with a one-line
    reason (docs/safety.md). The configuration file itself is always read with the defaults."""

    file_bytes: int = setting(2 * 1024 * 1024, minimum=1024, maximum=268435456,
                              doc="a repository file (manifest, values, kustomization, "
                                  "history blob) larger than this is skipped")
    yaml_nodes: int = setting(200_000, minimum=1000, maximum=10_000_000,
                              doc="YAML nodes a document may expand to through its aliases")
    yaml_depth: int = setting(100, minimum=10, maximum=500,
                              doc="levels a YAML document may nest")
    snapshot_bytes: int = setting(512 * 1024 * 1024, minimum=1024 * 1024,
                                  maximum=8 * 1024 * 1024 * 1024,
                                  doc="a snapshot's cluster.json larger than this is refused")
    json_depth: int = setting(48, minimum=16, maximum=200,
                              doc="levels a snapshot object may nest (deeper: dropped)")
    log_bytes: int = setting(64 * 1024, minimum=1024, maximum=16 * 1024 * 1024,
                             doc="bytes kept of each snapshot log file (its tail)")
    model_reply_bytes: int = setting(4 * 1024 * 1024, minimum=65536, maximum=67108864,
                                     doc="a model provider's reply, decompressed")
    command_output_bytes: int = setting(16 * 1024 * 1024, minimum=65536, maximum=1073741824,
                                        doc="what one git, kustomize or helm command may print")
    chart_bytes: int = setting(20 * 1024 * 1024, minimum=65536, maximum=1073741824,
                               doc="a local Helm chart folder larger than this is not rendered")
    git_timeout_seconds: float = setting(60.0, minimum=1, maximum=3600,
                                         doc="one git read of a checkout (history, diff, "
                                             "merge base); then killed")
    render_timeout_seconds: float = setting(60.0, minimum=1, maximum=3600,
                                            doc="one kustomize or helm run; then killed")
    policy_memory_mib: int = setting(1024, minimum=64, maximum=65536,
                                     doc="memory a repository's Rego policies may allocate "
                                         "(their sandbox process)")
    policy_timeout_seconds: float = setting(20.0, minimum=1, maximum=600,
                                            doc="one evaluation of a repository's policies; "
                                                "then stopped")
