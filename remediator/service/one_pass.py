"""The service: one pass of watch → plan → pull requests (continuous mode repeats it)."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec
from urllib.parse import urlsplit

from ..cluster import load_snapshot
from ..config import ConfigError, load_config
from ..forge import (
    GITHUB_API,
    GitClone,
    GitHubForge,
    LocalForge,
    MissingBase,
    auth_from_env,
    new_pull_room,
    parse_record,
    read_asks,
    repo_name,
)
from ..kernel import limits
from ..kernel.leader import NO_FENCE, LeaseLost
from ..pipeline import Bounds, Plan, PlanMemo, plan, submit, verify
from ..pipeline.rightsize import last_unused, scheduled

if TYPE_CHECKING:
    from ..config import Config
    from ..forge import (
        Forge,
    )
    from ..kernel.leader import Fence
    from ..model import JSON
    from ..pipeline import Submission, Verification
    from .watcher import LiveSource

P = ParamSpec("P")


@dataclass
class PassReport:
    plan: Plan
    submissions: list[Submission] = field(default_factory=list)
    clone: Path | None = None
    config: Config | None = None
    warnings: list[str] = field(default_factory=list)
    verifications: list[Verification] = field(default_factory=list)
    #: the kill switch was on: nothing was planned or opened
    paused: bool = False
    #: a stop was asked for before anything was pushed: the pass ended there
    abandoned: bool = False
    #: the lease was lost mid-pass: the pass stopped before this write (why)
    fenced: str = ""


@dataclass
class GitHubOptions:
    api_url: str = GITHUB_API
    #: seconds between write requests (GitHub asks integrators for one second)
    write_interval: float = 1.0
    #: how rate-limit and 5xx waits are slept (tests make it instant)
    sleep: Callable[[float], None] = time.sleep
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)


def _github_forge(remote: str, state_dir: Path, base: str, config_file: Path | None,
                  opts: GitHubOptions, fence: Fence) -> GitHubForge:
    """The repository is the config's `repo.url`, else the remote's URL. When the remote does not
    name it (a local mirror), the config is read from a first, credential-less checkout."""
    parts = urlsplit(remote)
    if parts.scheme in ("http", "https") and (parts.username or parts.password):
        # git would store it in the clone's .git/config, and messages would show it
        raise ConfigError("--repo: credentials in the URL are not used; give the token in "
                          "GITHUB_TOKEN (or a GitHub App) and the URL without them")
    name = repo_name(remote)
    first = None
    if name is None:
        first = GitClone(remote, state_dir.resolve() / "clone", base)
        name = repo_name(load_config(first.checkout(), config_file).repo_url)
    if not name:
        raise ConfigError("the GitHub repository is unknown: set repo.url in .remediator.yaml "
                          "(https://github.com/OWNER/NAME)")
    auth = auth_from_env(opts.env, name, opts.api_url)
    forge = GitHubForge(name, remote, state_dir, auth, base, opts.api_url,
                        sleep=opts.sleep, write_interval=opts.write_interval, fence=fence)
    forge.warnings += first.notes if first else []  # what that checkout repaired
    return forge


def _limits_kept(run: Callable[P, PassReport]) -> Callable[P, PassReport]:
    """The limits a pass's configuration sets (`limits:`) end with the pass."""
    @functools.wraps(run)
    def one_pass(*args: P.args, **kwargs: P.kwargs) -> PassReport:
        with limits.kept():
            return run(*args, **kwargs)
    return one_pass


@_limits_kept
def run_once(snapshot: Path | None, remote: str, state_dir: Path,
             config_file: Path | None = None, base: str = "main", forge_kind: str = "local",
             github: GitHubOptions | None = None, live: LiveSource | None = None,
             stopping: Callable[[], bool] = lambda: False,
             env: Mapping[str, str] | None = None, fence: Fence = NO_FENCE,
             memo: PlanMemo | None = None) -> PassReport:
    """Clone the GitOps repo from its remote, plan against the snapshot (or the ``live``
    cluster: every detected incident in a single pass, the watcher's raised ones when it runs
    continuously), open PRs. The kill switch (``paused: true`` in the repo's config, or
    REMEDIATOR_PAUSED=1) ends the pass after reading the config; ``stopping`` is asked between
    incidents and before anything is pushed, and a stop then abandons the pass (the next leader
    redoes it). Planning is bounded by the PR limits (`pipeline.Bounds`); ``memo`` keeps the
    results for the next pass (the service's passes share one).
    ``fence``: the token of the leadership this pass runs under, checked before every forge
    write; a lost lease stops the pass there (``fenced``)."""
    forge: Forge
    if forge_kind == "github":
        gh = _github_forge(remote, state_dir, base, config_file, github or GitHubOptions(),
                           fence)
        forge = gh
    else:
        forge = LocalForge(remote, state_dir, base, fence)
    try:
        clone = forge.checkout()
    except MissingBase as exc:
        if not exc.default:
            raise
        # not on `main`: the config is read from the default branch, and its base decides
        forge.base = exc.default
        clone = forge.checkout()
    config = load_config(clone, config_file)
    limits.use(config.limits)
    if not config.repo_url and _looks_like_url(remote):
        config.repo_url = remote  # the repository we clone is the one we may patch
    if forge_kind == "github" and repo_name(config.repo_url) not in (None, gh.full_name):
        gh.use_repository(str(repo_name(config.repo_url)))  # the config names it: it wins
    if config.pull_requests.base != forge.base:
        forge.base = config.pull_requests.base
        clone = forge.checkout()
    if is_paused(config, os.environ if env is None else env):
        return PassReport(Plan(), clone=clone, config=config, paused=True)
    only: set[str] | None = None
    if live is not None:
        state, only = live.state_for(config)
        # the gate's dry-run asks the cluster that is watched, not the default context
        config.validation.kube_context = live.context
        config.validation.kubeconfig = live.kubeconfig
    elif snapshot is not None:
        state = load_snapshot(snapshot, config.cluster)
    else:
        raise ConfigError("no cluster source: a snapshot directory or a live cluster")
    pulls = forge.pulls()
    room, limit = new_pull_room(pulls, config.pull_requests)
    bounds = Bounds(room, limit, {p.signature for p in pulls}, forge.base_commit(),
                    memo if memo is not None else PlanMemo(), stopping)
    if config.pull_requests.dashboard and (dash := forge.dashboard()):
        # ticked boxes: a retry plans its incident afresh; the PRs asked to be rebuilt or
        # unsilenced are planned even when the watch did not raise them this pass
        asks = read_asks(dash[1])
        for sig in asks.retry:
            bounds.memo.forget(sig)
        if only is not None:
            only = only | asks.retry | {p.signature for p in pulls
                                        if p.number in asks.rebuild | asks.unsilence}
    result = plan(state, clone, config, state_dir / "cache",  # model answers, token usage
                  closed_records=_closed_records(forge, config), only=only, bounds=bounds)
    stamp = state_dir / "rightsize.last"
    sized, notes = scheduled(state, clone, config, stamp, time.time(), bounds.room, bounds.known)
    result.remediations += sized  # one PR per right-sizing group, on its own schedule
    result.warnings += notes
    if stopping():
        return PassReport(result, [], clone, config, list(forge.warnings), abandoned=True)
    try:
        verifications = verify(result, forge, config, state)
        submissions = submit(result, forge, config, last_unused(stamp))
    except LeaseLost as lost:  # a paused leader resumed: another replica leads now
        return PassReport(result, lost.submissions, clone, config, list(forge.warnings),
                          fenced=str(lost))
    return PassReport(result, submissions, clone, config, list(forge.warnings), verifications)


def _closed_records(forge: Forge, config: Config) -> list[JSON]:
    """Hidden records of PRs reviewers closed unmerged: changes a model should not propose again
    (only read when a model drafts; the rules have no use for them)."""
    if config.drafting.provider == "rules":
        return []
    records = (parse_record(p.body) for p in forge.pulls() if p.state == "closed")
    return [rec for rec in records if rec]


def _looks_like_url(remote: str) -> bool:
    return "://" in remote or ("@" in remote and ":" in remote.split("@", 1)[1])


def is_paused(config: Config, env: Mapping[str, str]) -> bool:
    return config.paused or env.get(PAUSE_ENV, "").strip().lower() in ("1", "true", "yes")


PAUSE_ENV = "REMEDIATOR_PAUSED"
