"""Which revision of this repository an owner deploys, against the branch remediator opens pull
requests against (`pullRequests.base`): a source on another branch, a tag, a version range or a
pinned commit of the same repository is not changed by a merge into that branch, so a fix there
would be a PR that does nothing (and, on an environment-per-branch layout, a change to another
environment).

Flux GitRepository `spec.ref` (source-controller's documentation): `branch`, `tag`, `semver`,
`name`, `commit`, later fields of that list winning over earlier ones; without a ref, the
`master` branch. `name` may be a full reference (`refs/heads/main` is the branch `main`, as the
Flux Operator's FluxInstance writes it). Argo CD `targetRevision`: a branch, a tag or a commit;
`HEAD` (also when empty) is the remote's default branch.

A source on another branch is not re-targeted: the checkout holds the base branch's files,
which may differ from that branch's, so locating and validating there would be guesswork. The
reason names the branch, so another remediator configuration (`pullRequests.base` set to it)
can cover it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel import gitio

if TYPE_CHECKING:
    from ..model import JSON

log = logging.getLogger(__name__)

#: source-controller's branch when a GitRepository has no `spec.ref`
FLUX_DEFAULT_BRANCH = "master"


@dataclass(frozen=True)
class Branches:
    """The branch remediator's pull requests target, and the remote's default branch."""

    base: str = ""  # "" : revisions are not checked (library use without a configuration)
    default: str = ""  # "" : unknown (no `origin/HEAD` in the checkout): taken to be ``base``


def default_branch(root: Path) -> str:
    """The remote's default branch as the checkout records it (`refs/remotes/origin/HEAD`, which
    `git clone` writes), or "" when it does not."""
    if not os.path.lexists(root / ".git"):  # not a checkout: git would ask a folder above
        return ""
    try:  # a git process within the deadline (GitPython's Repo() reads .git/config unbounded)
        short = gitio.run(root, "symbolic_ref", "--short", "refs/remotes/origin/HEAD")
    except (gitio.GitError, ValueError):
        return ""
    return str(short).strip().partition("/")[2]


def _short(sha: str) -> str:
    return sha[:12] if len(sha) >= 12 else sha


def flux_tracked(ref: object) -> tuple[str, str]:
    """(what, value) a GitRepository `spec.ref` makes Flux check out: ("branch", "main"),
    ("tag", "v1.2.0"), ("semver", ">=1.0.0"), ("name", "refs/pull/7/head"), ("commit", sha)."""
    spec: JSON = ref if isinstance(ref, dict) else {}
    for key in ("commit", "name", "semver", "tag"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            if key == "name" and value.startswith("refs/heads/"):
                return "branch", value[len("refs/heads/"):]
            return key, value
    branch = spec.get("branch")
    return "branch", str(branch) if isinstance(branch, str) and branch else FLUX_DEFAULT_BRANCH


def flux_mismatch(what: str, ref: object, branches: Branches) -> str:
    """Why the GitRepository ``what`` (e.g. "Flux Kustomization web's GitRepository
    flux-system") with `spec.ref` ``ref`` does not deploy the base branch ("" when it does)."""
    if not branches.base:
        return ""
    kind, value = flux_tracked(ref)
    base = f"`{branches.base}`"
    if kind == "branch":
        if value == branches.base:
            return ""
        unset = "" if isinstance(ref, dict) and ref else (
            " (it has no `spec.ref`, and Flux then tracks `master`)")
        return (f"{what} tracks the branch `{value}` of this repository{unset}, not {base}, the "
                "branch remediator opens pull requests against: a fix merged there would not "
                f"reach this source (a remediator configured with `pullRequests.base: {value}` "
                "can cover it)")
    how = {"tag": f"the tag `{value}` (`spec.ref.tag`)",
           "semver": f"the newest tag matching `{value}` (`spec.ref.semver`)",
           "name": f"the reference `{value}` (`spec.ref.name`)",
           "commit": f"the pinned commit `{_short(value)}` (`spec.ref.commit`)"}[kind]
    return (f"{what} deploys {how} of this repository, not the branch {base} remediator opens "
            "pull requests against: a fix merged there would not change what it deploys")


def argo_mismatch(what: str, revision: object, branches: Branches) -> str:
    """Why an Argo CD source of this repository with `targetRevision` ``revision`` does not
    deploy the base branch ("" when it does)."""
    if not branches.base:
        return ""
    rev = str(revision).strip() if isinstance(revision, str | int | float) else ""
    if rev in ("", "HEAD"):
        if not branches.default or branches.default == branches.base:
            return ""
        return (f"{what} tracks `HEAD`, the repository's default branch `{branches.default}`, "
                f"not `{branches.base}`, the branch remediator opens pull requests against: a "
                "fix merged there would not reach it (`pullRequests.base: "
                f"{branches.default}` in the configuration covers it)")
    if rev.startswith("refs/heads/"):
        rev = rev[len("refs/heads/"):]
    if rev == branches.base:
        return ""
    return (f"{what} tracks `{rev}` (`targetRevision`: another branch, a tag or a commit) of this "
            f"repository, not `{branches.base}`, the branch remediator opens pull requests "
            "against: a fix merged there would not change what it deploys (a remediator "
            f"configured with `pullRequests.base: {rev}` can cover a branch)")
