"""`remediator init`: a commented `.remediator.yaml` and the CI workflow, written into a GitOps
repository; files that exist are left alone."""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import click

from .. import REPOSITORY, SCHEMA_URL, __version__
from ..config import CONFIG_FILE, ConfigError, load_config
from ..kernel import gitio
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
  url: {url}

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
    if not os.path.lexists(repo / ".git"):
        return "", "main"
    # git processes within the deadline: GitPython's Repo() reads .git/config itself, and a
    # FIFO there would block it forever
    try:
        url = gitio.run(repo, "config", "--get", "remote.origin.url").strip()
    except gitio.GitError:
        url = ""
    try:
        base = gitio.run(repo, "symbolic_ref", "--short", "-q", "HEAD").strip() or "main"
    except gitio.GitError:  # detached head, or git cannot say in time
        base = "main"
    return url, base


#: a value YAML reads back as the same string when written bare
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._/-]*")
#: ... except these, which YAML 1.1 reads as booleans or null
_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(value: str) -> str:
    """``value`` as a YAML scalar that reads back as exactly that string: bare when that is
    safe, else double-quoted with JSON's escapes (a valid YAML double-quoted scalar), so a
    `--cluster` or a remote URL can never add keys or end the line."""
    if _PLAIN.fullmatch(value) and value.lower() not in _WORDS:
        return value
    return json.dumps(value)  # ASCII only: control characters and surrogates as escapes


def _no_links(repo: Path, rel: Path) -> None:
    """Refuse a symbolic link anywhere between the repository and the file (a `.github` linked
    elsewhere would have init write outside the repository)."""
    here = repo
    for part in rel.parts:
        here = here / part
        if here.is_symlink():
            raise ConfigError(f"{here}: is a symbolic link; init writes only real files and "
                              "folders inside the repository (nothing written)")


def _write_new(repo: Path, rel: Path, text: str) -> None:
    """Create the folders one at a time and the file with O_EXCL|O_NOFOLLOW: never through a
    link, never over an existing file, even racing."""
    here = repo
    for part in rel.parts[:-1]:
        here = here / part
        with contextlib.suppress(FileExistsError):
            here.mkdir()
        _no_links(repo, here.relative_to(repo))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with os.fdopen(os.open(repo / rel, flags, 0o644), "w", encoding="utf-8") as fh:
        fh.write(text)


def init_repo(repo: Path, cluster: str = "default") -> list[Written]:
    """Write the two files that do not exist yet (never overwrite, never through a link)."""
    if not repo.is_dir():
        raise ConfigError(f"{repo}: repository folder not found")
    url, base = _origin(repo)
    files = {
        Path(CONFIG_FILE): CONFIG_TEMPLATE.format(
            schema=SCHEMA_URL, cluster=_scalar(cluster), url=json.dumps(url),
            base=_scalar(base)),
        WORKFLOW: WORKFLOW_TEMPLATE.format(base=_scalar(base), repository=REPOSITORY,
                                           version=__version__),
    }
    for rel in files:  # checked for both before either is written: no partial write
        _no_links(repo, rel.parent)
    out: list[Written] = []
    for rel, text in files.items():
        target = repo / rel
        if target.exists() or target.is_symlink():
            out.append(Written(rel, False))
            continue
        _write_new(repo, rel, text)
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
