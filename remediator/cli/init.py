"""`remediator init`: a commented `.remediator.yaml` and the CI workflow, written into a GitOps
repository; files that exist are left alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
import git

from .. import REPOSITORY, SCHEMA_URL, __version__
from ..config import CONFIG_FILE, ConfigError, load_config
from .errors import errors
from .output import say

WORKFLOW = Path(".github/workflows/remediator.yml")

CONFIG_TEMPLATE = """\
# yaml-language-server: $schema={schema}
# remediator configuration for this GitOps repository (every key is optional).
# Secrets (GitHub token, LLM keys, kubeconfig) never go here: they come from the environment.
cluster: {cluster}              # name used in failure signatures
paused: false                   # kill switch: true stops the bot at its next pass

repo:
  # Only sources from this repository are ever patched (Argo CD / Flux URLs are compared to it).
  url: "{url}"

scope:
  namespaces: []                # only these namespaces (empty: all)
  excludeNamespaces: []
  protectedNamespaces: []       # added to kube-system, kube-public, kube-node-lease (always)
  failureClasses: []            # only these failure classes (empty: all)

drafting:
  provider: rules               # or openai | anthropic | openai-compatible (then set model)
  memory:
    factor: 1.5                 # OOMKilled: new limit = observed limit x factor ...
    cap: 4Gi                    # ... but never above this
  startupProbe:
    maxSeconds: 600

validation:
  kubernetesVersion: "1.31"
  policies: []                  # your own .rego files or folders, added to the built-ins
  maxMemory: 16Gi
  maxCpu: "8"
  allowedRegistries: []         # e.g. [ghcr.io/acme]; empty: any registry
  policyEngine: embedded        # or opa (an OPA server: validation.opa.url)
  dryRun: auto                  # server-side dry-run when a cluster answers (needs `patch`)

watch:
  settleSeconds: 120            # a failure must last this long before a PR
  clearSeconds: 300

pullRequests:
  base: {base}
  branchPrefix: remediator/
  labels: [remediator]
  reviewers: []
  draft: false
  maxOpen: 10                   # open remediation PRs at most
  maxPerHour: 5                 # new PRs per rolling hour at most
"""

WORKFLOW_TEMPLATE = """\
# Every pull request to this GitOps repository, the bot's and humans', is checked with the same
# policies, schema and kustomize builds remediator's own gate uses (see .remediator.yaml).
name: remediator

on:
  pull_request:
    branches: [{base}]

permissions:
  contents: read
  security-events: write  # code scanning shows the SARIF report (else: code-scanning: false)
  actions: read

jobs:
  validate:
    uses: {repository}/.github/workflows/validate.yml@v{version}
    with:
      remediator-ref: v{version}
"""


@dataclass
class Written:
    path: Path
    created: bool  # False: it existed and was left alone


def _origin(repo: Path) -> tuple[str, str]:
    """The origin's URL and the current branch, when ``repo`` is a git checkout."""
    try:
        r = git.Repo(repo)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return "", "main"
    url = next((rm.url for rm in r.remotes if rm.name == "origin"), "")
    try:
        base = r.active_branch.name
    except TypeError:  # detached head
        base = "main"
    return url, base


def init_repo(repo: Path, cluster: str = "default") -> list[Written]:
    """Write the two files that do not exist yet (never overwrite)."""
    if not repo.is_dir():
        raise ConfigError(f"{repo}: repository folder not found")
    url, base = _origin(repo)
    files = {
        Path(CONFIG_FILE): CONFIG_TEMPLATE.format(schema=SCHEMA_URL, cluster=cluster, url=url,
                                                  base=base),
        WORKFLOW: WORKFLOW_TEMPLATE.format(base=base, repository=REPOSITORY,
                                           version=__version__),
    }
    out: list[Written] = []
    for rel, text in files.items():
        target = repo / rel
        if target.exists() or target.is_symlink():
            out.append(Written(rel, False))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as fh:  # "x": never overwrite, even racing
            fh.write(text)
        out.append(Written(rel, True))
    return out


@click.command("init")
@click.option("--repo", "repo", type=click.Path(path_type=Path, file_okay=False),
              default=Path("."), show_default=True, help="The GitOps repository's checkout.")
@click.option("--cluster", default="default", show_default=True,
              help="Cluster name for the config (used in failure signatures).")
def init_cmd(repo: Path, cluster: str) -> None:
    """Write a commented .remediator.yaml and the CI workflow (existing files are kept)."""
    with errors():
        written = init_repo(repo, cluster)
        load_config(repo)  # what is there now must load: a broken existing config is reported
    for w in written:
        say(f"{'wrote' if w.created else 'kept (exists)'} {repo / w.path}")
