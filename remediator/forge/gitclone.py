"""The bot's working copy of the GitOps repo: fetch, branch, commit, push (shared by all forges).

Crash-safe: git runs only as git processes, each with a deadline; a checkout first removes the
lock files a killed git left (when no live process works in the clone) and discards a clone that
fails its checks (not a repository, another remote, HEAD unreadable, objects missing), then
clones again. Pushes lease against the head the pass planned from, and ask the pass's fence
first: a replica that lost its lease pushes nothing.

Credentials never touch the disk or the command line: an HTTPS token travels as an
`http.<origin>.extraheader` set through git's GIT_CONFIG_* environment for each git process
(not in .git/config, not in argv, not in the remote URL), scoped to the remote's origin.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import git

from ..kernel.gitio import git_reason
from ..kernel.leader import NO_FENCE
from ..kernel.redact import redact, register
from ..model import SIGNATURE_TRAILER
from .gitlocks import live_process_in, lock_files

if TYPE_CHECKING:
    from ..kernel.leader import Fence

BOT = git.Actor("remediator[bot]", "remediator-bot@users.noreply.invalid")
BOT_ENV = {"GIT_AUTHOR_NAME": str(BOT.name), "GIT_AUTHOR_EMAIL": str(BOT.email),
           "GIT_COMMITTER_NAME": str(BOT.name), "GIT_COMMITTER_EMAIL": str(BOT.email)}
#: deadlines of one git process: on the clone alone, and talking to the remote
LOCAL_TIMEOUT = 120.0
NETWORK_TIMEOUT = 600.0
#: clones checked in full (connectivity) by this process: once at start, again after a crash
_VERIFIED: set[Path] = set()


class ForgeError(RuntimeError):
    """The forge could not be reached or refused an operation; one-line message."""


class HumanPushed(ForgeError):
    """Someone other than the bot pushed to the branch: the bot stops touching it."""


class MissingBase(ForgeError):
    """The base branch is not on the remote; ``default`` is the remote's default branch."""

    def __init__(self, message: str, default: str = "") -> None:
        super().__init__(message)
        self.default = default


def token_env(remote: str, token: str) -> dict[str, str]:
    """git environment that sends ``token`` to ``remote``'s origin only (HTTPS remotes)."""
    parts = urlsplit(remote)
    if parts.scheme not in ("https", "http") or not token:
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    register(token)  # masked by value in anything we print or write (a git error, a log line)
    register(basic)
    return {"GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"http.{parts.scheme}://{parts.netloc}/.extraheader",
            "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
            "GIT_TERMINAL_PROMPT": "0"}


class GitClone:
    """The clone in the state folder. Every git command is a git process with a deadline (none
    writes the index in this process), so a crash or a kill can only leave what git itself
    leaves: lock files, which the next checkout removes when no live process holds them."""

    def __init__(self, remote: str, clone_dir: Path, base: str = "main",
                 credentials: Callable[[], str] | None = None, fence: Fence = NO_FENCE,
                 network_timeout: float = NETWORK_TIMEOUT) -> None:
        self.remote = remote
        self.network_timeout = network_timeout
        self.clone_dir = clone_dir
        self.base = base
        self._credentials = credentials
        self.fence = fence
        #: remote branch heads as the pass's checkout fetched them: what it planned from, and
        #: what each push leases against (updated by the pass's own pushes only)
        self.planned: dict[str, str] = {}
        #: what the checkout repaired (stale locks, a discarded clone), for the pass's warnings
        self.notes: list[str] = []

    # ------------------------------------------------------------------------ running git

    def _git(self, *args: str, network: bool = False, cwd: Path | None = None,
             stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        """Run git in the clone; a non-zero exit is a GitCommandError (``git_reason`` reads it),
        a command past its deadline is stopped with its helpers and is a ForgeError."""
        token = (self._credentials() if self._credentials else "") if network else ""
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
                    **token_env(self.remote, token), **(env or {})}
        cmd = ["git", *args]
        timeout = self.network_timeout if network else LOCAL_TIMEOUT
        try:
            # its own process group: a deadline stops git and the helpers it started
            proc = subprocess.Popen(cmd, cwd=cwd or self.clone_dir, env=full_env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, encoding="utf-8",
                                    errors="replace", process_group=0)
        except OSError as exc:
            raise ForgeError(f"cannot run git: {exc.strerror}") from None
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise ForgeError(f"git {args[0]} did not finish within {timeout:.0f}s: stopped"
                             ) from None
        if proc.returncode != 0:
            if token:  # never in argv or output; belt and braces
                err = err.replace(token, "***")
            raise git.GitCommandError(cmd, proc.returncode, err, out)
        return out

    def _ok(self, *args: str) -> bool:
        try:
            self._git(*args)
        except (git.GitCommandError, ForgeError):
            return False
        return True

    @property
    def shown_remote(self) -> str:
        """The remote as messages show it: a password in the URL is masked."""
        return redact(self.remote)[0]

    # ------------------------------------------------------------------------- checkout

    def checkout(self) -> Path:
        """A clean working copy of the base branch, fresh from the remote (all branches fetched:
        the lifecycle reads branch heads from here, not from the API). A clone a crash left
        broken is repaired first: stale locks removed, a clone failing its checks re-cloned."""
        self.notes = []
        try:
            fresh = not self._usable()
            if fresh:
                self._clone()
            else:
                self._git("fetch", "--prune", "--force", "origin", network=True)
            if self.remote_head(self.base) is None:
                raise self._missing_base()
            try:
                self._git("checkout", "-f", "-B", self.base, f"origin/{self.base}")
            except git.GitCommandError as exc:
                if fresh:
                    raise
                # a damaged index or object store: the clone is only a cache of the remote
                self._discard(f"checking out {self.base} failed: {git_reason(exc)}")
                self._clone()
                self._git("checkout", "-f", "-B", self.base, f"origin/{self.base}")
            self._git("clean", "-fdx")
            self.planned = self._remote_heads()
        except MissingBase:
            raise
        except ForgeError as exc:
            raise ForgeError(f"cannot check out {self.base} from {self.shown_remote}: {exc}"
                             ) from None
        except git.GitCommandError as exc:
            raise ForgeError(f"cannot check out {self.base} from {self.shown_remote}: "
                             f"{git_reason(exc)}") from None
        return self.clone_dir

    def _missing_base(self) -> MissingBase:
        branches = sorted(self._remote_heads())
        try:  # what the remote's HEAD points at, as recorded by the clone
            default = self._git("symbolic-ref", "--short", "refs/remotes/origin/HEAD").strip()
            default = default.removeprefix("origin/")
        except (git.GitCommandError, ForgeError):
            default = ""
        return MissingBase(
            f"the base branch {self.base!r} is not on {self.shown_remote} (its branches: "
            f"{', '.join(branches) or 'none'}): set pullRequests.base in .remediator.yaml",
            default if default in branches else "")

    def _usable(self) -> bool:
        """Whether the existing clone can be fetched into; stale locks are removed first, and a
        clone that fails its checks is discarded (its folder removed)."""
        if not self.clone_dir.exists():
            return False
        crashed = self._clear_stale_locks()
        remote = ""
        if (self.clone_dir / ".git").is_dir() and self._ok("rev-parse", "--git-dir"):
            with contextlib.suppress(git.GitCommandError, ForgeError):
                remote = self._git("config", "--get", "remote.origin.url").strip()
        checks: list[tuple[str, Callable[[], bool]]] = [
            ("not a git repository", lambda: remote != ""),
            ("cloned from another remote", lambda: _same_remote(remote, self.remote)),
            ("HEAD unreadable", lambda: self._ok("rev-parse", "--verify", "-q", "HEAD^{commit}")),
        ]
        if crashed or self.clone_dir.resolve() not in _VERIFIED:
            # after a crash, and once per process: every ref's objects are there
            checks.append(("objects missing", lambda: self._ok(
                "fsck", "--connectivity-only", "--no-progress", "--no-dangling")))
        for why, ok in checks:
            if not ok():
                self._discard(why)
                return False
        _VERIFIED.add(self.clone_dir.resolve())
        return True

    def _clear_stale_locks(self) -> bool:
        """Remove the `*.lock` files of a git killed mid-write, when no live process works in
        the clone (every later git command would fail on them, forever). True: some were."""
        gitdir = self.clone_dir / ".git"
        locks = lock_files(gitdir)
        if not locks:
            return False
        if live_process_in(self.clone_dir):
            self.notes.append(f"{len(locks)} git lock file(s) in {self.clone_dir} are held by "
                              "a running process: left alone")
            return False
        for lock in locks:
            lock.unlink(missing_ok=True)
        names = ", ".join(sorted(str(lk.relative_to(gitdir)) for lk in locks))
        self.notes.append(f"removed stale git lock(s) {names} (a git process was stopped "
                          "mid-write); the clone is checked before use")
        return True

    def _discard(self, why: str) -> None:
        if live_process_in(self.clone_dir):  # never pulled from under a running git
            raise ForgeError(f"the clone in {self.clone_dir} looks damaged ({why}) but a "
                             "running process works in it: left alone")
        self.notes.append(f"the clone in {self.clone_dir} was discarded ({why}): cloned again")
        _VERIFIED.discard(self.clone_dir.resolve())
        try:
            shutil.rmtree(self.clone_dir)
        except OSError as exc:
            raise ForgeError(f"cannot remove the damaged clone {self.clone_dir}: "
                             f"{exc.strerror}") from None

    def _clone(self) -> None:
        self.clone_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            # from the process's folder: a relative remote path means what the user meant
            self._git("clone", "--no-checkout", "--", self.remote, str(self.clone_dir.resolve()),
                      network=True, cwd=Path.cwd())
        except (git.GitCommandError, ForgeError):
            shutil.rmtree(self.clone_dir, ignore_errors=True)  # nothing half-made stays
            raise
        _VERIFIED.add(self.clone_dir.resolve())

    def _remote_heads(self) -> dict[str, str]:
        out = self._git("for-each-ref", "--format=%(objectname) %(refname)", "refs/remotes/origin")
        heads = {}
        for line in out.splitlines():
            sha, _, ref = line.partition(" ")
            name = ref.removeprefix("refs/remotes/origin/")
            if name != "HEAD":
                heads[name] = sha
        return heads

    # --------------------------------------------------------------------------- reading

    def base_commit(self) -> str:
        return self._git("rev-parse", f"origin/{self.base}^{{commit}}").strip()

    def remote_head(self, branch: str) -> str | None:
        """The branch's head on the remote as of the last fetch (None: no such branch)."""
        try:
            return self._git("rev-parse", "--verify", "-q",
                             f"refs/remotes/origin/{branch}^{{commit}}").strip() or None
        except git.GitCommandError:
            return None

    def foreign_commits(self, branch: str) -> list[str]:
        """Commits on the remote branch, not on the base, that the bot did not make."""
        if self.remote_head(branch) is None:
            return []
        out = self._git("log", "--format=%H %ce", f"origin/{self.base}..origin/{branch}")
        return [ln.split()[0] for ln in out.splitlines()
                if ln.strip() and ln.split()[-1] != BOT.email]

    def fix_commit(self, signature: str) -> str | None:
        """The newest commit on the base whose message carries the signature's trailer (the
        bot's commit, fast-forwarded, merged or squashed with its message)."""
        trailer = f"{SIGNATURE_TRAILER}{signature}"
        out = self._git("log", f"origin/{self.base}", "-F", "-n", "20",
                        "--format=%H%x00%B%x01", f"--grep={trailer}")
        # --grep matches a substring: `exit code 1` would find the fix for `exit code 137`
        for entry in out.split("\x01"):
            sha, _, message = entry.strip().partition("\x00")
            if trailer in (line.strip() for line in message.splitlines()):
                return sha
        return None

    def contains(self, revision: str, commit: str) -> bool:
        """Whether ``revision`` (e.g. what the cluster synced) includes ``commit``."""
        # not an ancestor, or a revision this clone does not know: False
        return self._ok("merge-base", "--is-ancestor", commit, revision)

    # --------------------------------------------------------------------------- writing

    def start_branch(self, branch: str) -> None:
        self._git("checkout", "-f", "-B", branch, f"origin/{self.base}")

    def commit_and_push(self, branch: str, message: str, paths: list[str]) -> str:
        """Commit ``paths`` on ``branch`` (started from the base) and push it, replacing what the
        bot pushed there before, leased against the head this pass planned from. A push that
        lost a race (someone pushed since) is not redone: a human's commits stop us
        (HumanPushed); another writer's (a replica that took over) leave the branch to the
        next pass, which plans from what is there then."""
        try:
            self._git("add", "-A", "--", *paths)
            self._git("commit", "-q", "--no-verify", "--no-gpg-sign", "--allow-empty", "-F", "-",
                      stdin=message, env=BOT_ENV)
            head = self._git("rev-parse", "HEAD").strip()
            self._push(branch, head)
            return head
        except git.GitCommandError as exc:
            raise ForgeError(f"cannot push {branch}: {git_reason(exc)}") from None
        except ForgeError as exc:
            if isinstance(exc, HumanPushed):
                raise
            raise ForgeError(f"cannot push {branch}: {exc}") from None
        finally:
            with contextlib.suppress(git.GitCommandError, ForgeError):
                self._git("checkout", "-f", self.base)

    def _push(self, branch: str, head: str) -> None:
        expected = self.planned.get(branch)
        self.fence.check(f"push {branch}")
        try:
            self._git("push", "--porcelain", f"--force-with-lease=refs/heads/{branch}:"
                      f"{expected or ''}", "origin", f"HEAD:refs/heads/{branch}", network=True)
        except git.GitCommandError as exc:
            reason = git_reason(exc)
            with contextlib.suppress(git.GitCommandError, ForgeError):
                # learn who moved it: the branch only, the pass's other refs stay as planned
                self._git("fetch", "--prune", "origin",
                          f"+refs/heads/{branch}:refs/remotes/origin/{branch}", network=True)
            now = self.remote_head(branch)
            if now == expected:
                raise ForgeError(reason) from None  # not a race: the push itself failed
            if self.foreign_commits(branch):
                raise HumanPushed(f"{branch}: someone else pushed to it") from None
            raise ForgeError(f"{branch} moved since this pass planned from "
                             f"{(expected or 'no branch')[:12]} (another writer pushed "
                             f"{(now or 'a deletion')[:12]}): left to the next pass") from None
        self._git("update-ref", f"refs/remotes/origin/{branch}", head)
        self.planned[branch] = head


def _same_remote(stored: str, wanted: str) -> bool:
    """git stores a local remote path made absolute; a URL as given."""
    if "://" in wanted or re.match(r"[\w.-]+@[\w.-]+:", wanted):
        return stored.rstrip("/") == wanted.rstrip("/")
    return os.path.realpath(stored) == os.path.realpath(wanted)
