"""`remediator doctor`: can this deployment work, and is it as read-only as it should be?

Each check says ok or what is missing, with a hint. Cluster rights are asked of the API server
itself (SelfSubjectAccessReview): nothing is read or written to find out. The repository is read
as `run` reads it (a shallow clone of a URL or bare repository; a working tree as it is): its
`.remediator.yaml`, its base branch, and whether it has kustomizations and Helm sources (then
kubectl/kustomize and helm must be on the PATH).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click
import urllib3
from kubernetes import client as k8s_client

from ..cluster import OPTIONAL_KINDS, ClusterError, connect
from ..config import Config, load_config
from ..draft import missing_client
from ..forge import GITHUB_API, KINDS, forge_for, repo_name, token_env
from ..gate import OPA_TOKEN_ENV, OPA_URL_ENV
from ..kernel import limits, proc
from ..locate import RepoIndex
from ..render import helm as helm_render
from ..render.kustomize import renderer
from .errors import EXIT_FAILED, errors
from .options import typed
from .output import say

#: seconds `git ls-remote` may take to answer, and the shallow clone of the repository
LS_REMOTE_TIMEOUT = 120.0
CLONE_TIMEOUT = 600.0

RBAC_HINT = "bind the ClusterRole remediator-read (gitops-repo-example/remediator/rbac.yaml)"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""
    required: bool = True


def _can(auth: k8s_client.AuthorizationV1Api, verb: str, resource: str, group: str = "",
         subresource: str = "") -> bool:
    review = k8s_client.V1SelfSubjectAccessReview(spec=k8s_client.V1SelfSubjectAccessReviewSpec(
        resource_attributes=k8s_client.V1ResourceAttributes(
            verb=verb, resource=resource, group=group, subresource=subresource or None)))
    answer = auth.create_self_subject_access_review(review)
    return bool(answer.status and answer.status.allowed)


def check_cluster(config: Config, context: str | None, kubeconfig: str | None) -> list[Check]:
    try:
        auth = k8s_client.AuthorizationV1Api(connect(context, kubeconfig))
        can_list = _can(auth, "list", "pods")
        can_log = _can(auth, "get", "pods", subresource="log")
        secrets = _can(auth, "get", "secrets") or _can(auth, "list", "secrets")
        patch = _can(auth, "patch", "deployments", "apps")
        unreadable = [f"{k.plural}" + (f".{k.group}" if k.group else "") for k in OPTIONAL_KINDS
                      if not (_can(auth, "list", k.plural, k.group)
                              and _can(auth, "watch", k.plural, k.group))]
    except (ClusterError, k8s_client.ApiException, OSError, urllib3.exceptions.HTTPError) as exc:
        reason = f"HTTP {exc.status}" if isinstance(exc, k8s_client.ApiException) else str(exc)
        return [Check("cluster access", False, f"cannot ask the API server: {reason}",
                      "run in the cluster, or pass --kubeconfig / --context")]
    dry_run = config.validation.dry_run != "false"
    return [
        Check("cluster: list pods", can_list, "allowed" if can_list else "denied", RBAC_HINT),
        Check("cluster: read pod logs", can_log, "allowed" if can_log else "denied", RBAC_HINT),
        Check("cluster: no Secrets", not secrets,
              "denied, as it should be" if not secrets else "Secrets are readable",
              "remove get/list on secrets from the bot's roles: it never reads them"),
        Check("cluster: read-only", not patch or dry_run,
              "no write verbs" if not patch else
              ("patch allowed, for the server-side dry-run" if dry_run else
               "patch on deployments allowed with validation.dryRun false"),
              "remove the patch grant (rbac-dry-run.yaml), or enable validation.dryRun"),
        # optional: without these the bot still works, minus the configuration failures
        Check("cluster: read configuration kinds", not unreadable,
              "allowed" if not unreadable else f"denied: {', '.join(unreadable)}",
              "grant list/watch on them (docs/detection.md): their failures go undetected",
              required=False),
    ]


def _git_why(stderr: str, status: int) -> str:
    lines = [ln.strip().strip("'") for ln in stderr.splitlines()]
    why = next((ln for ln in lines if "fatal:" in ln), f"exit {status}")
    return why.split("fatal:", 1)[1].strip() if "fatal:" in why else why


def check_repo(remote: str, env: Mapping[str, str], base: str = "main") -> list[Check]:
    """The remote answers, and has the base branch pull requests will target."""
    why = ""
    try:  # a git process in its own group, stopped at the deadline
        done = proc.run(["git", "ls-remote", "--heads", "--", remote],
                        env={**env, "GIT_TERMINAL_PROMPT": "0",
                             **token_env(remote, env.get("GITHUB_TOKEN", ""))},
                        timeout=LS_REMOTE_TIMEOUT, max_output=64 << 20)
        heads = done.stdout.decode("utf-8", errors="replace")
        if done.returncode != 0:
            why = _git_why(done.stderr, done.returncode)
    except FileNotFoundError:  # no git at all (checked on its own)
        why = "git is not installed"
    except (OSError, proc.Stopped) as exc:
        why = str(exc)
    if why:
        return [Check("repository", False, f"git ls-remote {remote}: {why}",
                      "check the URL and that the token (GITHUB_TOKEN) can read it")]
    branches = sorted(ln.split("refs/heads/", 1)[1] for ln in heads.splitlines()
                      if "refs/heads/" in ln)
    found = base in branches
    return [Check("repository", True, f"{remote}: {len(branches)} branch(es)"),
            Check("base branch", found,
                  f"{base} exists" if found else
                  f"{base!r} (pullRequests.base) is not a branch of the repository; it has: "
                  f"{', '.join(branches) or 'none'}",
                  f"set pullRequests.base in .remediator.yaml to the branch Argo CD / Flux "
                  f"track{f' (e.g. {branches[0]})' if len(branches) == 1 else ''}")]


def repo_files(remote: str, scratch: Path, env: Mapping[str, str]) -> Path | None:
    """The repository's files as `run` sees them: a working tree (a folder) as it is, else a
    shallow clone of its default branch into ``scratch``; None when it cannot be read (the
    repository check says why)."""
    local = Path(remote)
    if local.is_dir() and not (local / "HEAD").is_file():  # a folder, not a bare repository
        return local
    # a git process in its own group, stopped at the deadline (GitPython's clone has none)
    try:
        done = proc.run(["git", "clone", "--depth=1", "--quiet", "--", remote, str(scratch)],
                        env={**env, "GIT_TERMINAL_PROMPT": "0",
                             **token_env(remote, env.get("GITHUB_TOKEN", ""))},
                        timeout=CLONE_TIMEOUT, max_output=1 << 20)
    except (OSError, proc.Stopped):
        return None
    return scratch if done.returncode == 0 else None


def check_git() -> Check:
    path = shutil.which("git")
    if path is None:
        return Check("git", False, "git is not on the PATH",
                     "install git: the bot clones, commits and pushes with it")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=False,
                             timeout=30).stdout.strip()
    return Check("git", True, version or path)


def _kustomizations(index: RepoIndex) -> list[str]:
    flux = [d.path for d in index.docs if d.kind == "Kustomization"
            and d.group.startswith("kustomize.toolkit.fluxcd.io")]
    return sorted({str(k["_file"]) for k in index.kustomizations.values()} | set(flux))


def helm_sources(root: Path, index: RepoIndex) -> list[str]:
    """Files that make the repository a Helm user: charts, Flux HelmReleases, Argo CD
    Applications with a chart or Helm options, kustomizations inflating `helmCharts`."""
    found = {p.relative_to(root).as_posix() for p in root.rglob("Chart.yaml")
             if ".git" not in p.relative_to(root).parts}
    for d in index.docs:
        spec = d.body.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        sources = [spec.get("source"), *(spec.get("sources") or [])]
        if d.kind == "HelmRelease" or (d.kind in ("Application", "ApplicationSet") and any(
                isinstance(s, dict) and ("chart" in s or "helm" in s) for s in sources)):
            found.add(d.path)
    found |= {str(k["_file"]) for k in index.kustomizations.values() if k.get("helmCharts")}
    return sorted(found)


def _listed(paths: list[str]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def check_tools(root: Path | None) -> list[Check]:
    """kubectl/kustomize, required where the repository has kustomizations (or cannot be
    read); helm, reported against the repository's Helm sources."""
    index = RepoIndex.scan(root) if root is not None else None
    kustomizations = _kustomizations(index) if index is not None else []
    cmd = renderer()
    render = Check(
        "kubectl/kustomize", cmd is not None,
        (f"{' '.join(cmd)} renders kustomizations" if cmd else "neither kubectl nor kustomize "
         "is on the PATH") + (f" ({_listed(kustomizations)})" if kustomizations else ""),
        "install kubectl (kustomize is inside) or kustomize: overlays are rendered with it",
        required=index is None or bool(kustomizations))
    charts = helm_sources(root, index) if root is not None and index is not None else None
    return [render, check_helm(charts)]


def check_forge(kind: str, config: Config, remote: str, env: Mapping[str, str],
                api_url: str = GITHUB_API) -> Check:
    if kind != "github":
        return Check("forge token", True, "local forge: no token needed", required=False)
    name = repo_name(config.repo_url) or repo_name(remote)
    if not name:
        return Check("forge token", False, "the GitHub repository is unknown",
                     "set repo.url in .remediator.yaml (https://github.com/OWNER/NAME)")
    token = env.get("GITHUB_TOKEN", "")
    if not token:
        if env.get("GITHUB_APP_ID"):
            return Check("forge token", True, "GitHub App credentials set (not checked here)")
        return Check("forge token", False, "no GITHUB_TOKEN nor GITHUB_APP_ID",
                     "set GITHUB_TOKEN (Secret remediator, key github-token)")
    request = urllib.request.Request(f"{api_url.rstrip('/')}/repos/{name}", headers={
        "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            repo = json.loads(resp.read().decode())
    except urllib.error.HTTPError as exc:
        exc.close()
        return Check("forge token", False, f"GET /repos/{name}: HTTP {exc.code}",
                     "the token cannot see the repository: check its owner and scopes")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Check("forge token", False, f"GET /repos/{name}: {exc}", "check --github-api-url")
    push = bool((repo.get("permissions") or {}).get("push"))
    return Check("forge token", push, f"{name}: " + ("can push" if push else "read-only token"),
                 "the token needs contents: write and pull-requests: write")


def check_llm(config: Config, env: Mapping[str, str]) -> Check:
    provider = config.drafting.provider
    if provider == "rules":
        return Check("LLM key", True, "drafting.provider rules: no key needed", required=False)
    if missing := missing_client(provider):
        return Check("LLM client", False, missing, "install the llm extra (the image has it)")
    var = config.drafting.llm.key_env(provider)
    if env.get(var) or (provider == "openai-compatible" and not config.drafting.llm.api_key_env):
        return Check("LLM key", True, f"{provider}: {var} is set" if env.get(var) else
                     f"{provider}: no key (a local server may need none)")
    return Check("LLM key", False, f"{provider}: {var} is not set",
                 f"set {var} (Secret remediator), or drafting.provider: rules")


def check_opa(config: Config, env: Mapping[str, str]) -> Check:
    if config.validation.policy_engine != "opa":
        return Check("OPA", True, "embedded policy engine: no OPA server needed", required=False)
    url = config.validation.opa.url or env.get(OPA_URL_ENV, "")
    if not url:
        return Check("OPA", False, "policyEngine opa without a URL",
                     f"set validation.opa.url or {OPA_URL_ENV}")
    # the same server and credentials the gate will use
    request = urllib.request.Request(f"{url.rstrip('/')}/health")
    if env.get(OPA_TOKEN_ENV):
        request.add_header("Authorization", f"Bearer {env[OPA_TOKEN_ENV]}")
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            ok = resp.status == 200
    except urllib.error.HTTPError as exc:  # answered, not healthy (e.g. 401): close its socket
        exc.close()
        ok = False
    except (urllib.error.URLError, OSError) as exc:
        return Check("OPA", False, f"{url}: {getattr(exc, 'reason', exc)}",
                     "start OPA (the sidecar in deployment.yaml) or fix validation.opa.url")
    return Check("OPA", ok, f"{url}: healthy" if ok else f"{url}: unhealthy")


def check_helm(charts: list[str] | None = None) -> Check:
    """Helm is optional: with it, charts are rendered for real (the values key a fix changes is
    proven, and the gate checks the rendered workload); without it they are predicted. Where
    the repository has no Helm sources (``charts`` empty) it is not needed at all; None: the
    repository could not be read."""
    if charts == []:
        return Check("helm", True, "no Helm sources in the repository: not needed",
                     required=False)
    sources = f" (Helm sources: {_listed(charts)})" if charts else ""
    found = helm_render.version()
    if found:
        return Check("helm", True, f"{found} ({helm_render.helm_binary()}): Helm charts are "
                     f"rendered{sources}", required=False)
    return Check("helm", False, f"{helm_render.unavailable_reason() or 'helm does not answer'}: "
                 "Helm charts are predicted, not rendered, and charts outside the repository "
                 f"use the conventional values keys{sources}",
                 "install Helm (the container image has it), or set REMEDIATOR_HELM to its path",
                 required=False)


def run_checks(config: Config, remote: str, forge_kind: str, context: str | None,
               kubeconfig: str | None, env: Mapping[str, str] | None = None,
               api_url: str = GITHUB_API, root: Path | None = None) -> list[Check]:
    """Every check; ``root``: the repository's files (repo_files), None when unreadable."""
    env = os.environ if env is None else env
    return [check_git(), *check_tools(root), *check_cluster(config, context, kubeconfig),
            *check_repo(remote, env, config.pull_requests.base),
            check_forge(forge_kind, config, remote, env, api_url), check_llm(config, env),
            check_opa(config, env)]


@click.command("doctor")
@click.option("--repo", "remote", required=True,
              help="The GitOps repository's git URL or path, as given to `run`.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Configuration file (default: the repository's .remediator.yaml, read as "
                   "`run` reads it).")
@click.option("--forge", "forge_kind", type=click.Choice(KINDS), default=None,
              help="As for `run`: default from --repo (github.com or the --github-api-url "
                   "host: github; a local path or file://: local).")
@click.option("--context", "context")
@click.option("--kubeconfig", "kubeconfig", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--github-api-url", envvar="GITHUB_API_URL", default="https://api.github.com",
              show_default=True)
def doctor_cmd(remote: str, config_file: Path | None, forge_kind: str | None,
               context: str | None, kubeconfig: Path | None, github_api_url: str) -> None:
    """Check tools (git, kubectl/kustomize, helm), cluster access (and that it is read-only),
    repository and base branch, forge token, LLM client and key, OPA."""
    with errors(), tempfile.TemporaryDirectory(prefix="remediator-doctor-") as scratch:
        forge = forge_for(remote, forge_kind, github_api_url, typed("github_api_url"))
        root = repo_files(remote, Path(scratch) / "repo", os.environ)
        config = load_config(root or Path("."), config_file) \
            if (root is not None or config_file) else Config()
        limits.use(config.limits)
        checks = run_checks(config, remote, forge, context,
                            str(kubeconfig) if kubeconfig else None, api_url=github_api_url,
                            root=root)
    width = max(len(c.name) for c in checks)
    for c in checks:
        state = "ok" if c.ok else ("missing" if c.required else "optional")
        say(f"{state:8} {c.name.ljust(width)}  {c.detail}"
            + (f"\n{'':8} {'':{width}}  hint: {c.hint}" if not c.ok and c.hint else ""))
    failed = [c for c in checks if c.required and not c.ok]
    say(f"{len(checks) - len(failed)} ok, {len(failed)} missing")
    sys.exit(EXIT_FAILED if failed else 0)
