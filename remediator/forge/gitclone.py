"""The bot's working copy of the GitOps repo: fetch, branch, commit, push (shared by all forges).

Credentials never touch the disk or the command line: an HTTPS token travels as an
`http.<origin>.extraheader` set through git's GIT_CONFIG_* environment for each git process
(not in .git/config, not in argv, not in the remote URL), scoped to the remote's origin.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import git

from ..model import SIGNATURE_TRAILER
from ..redact import redact, register

BOT = git.Actor("remediator[bot]", "remediator-bot@users.noreply.invalid")


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
    def __init__(self, remote: str, clone_dir: Path, base: str = "main",
                 credentials: Callable[[], str] | None = None) -> None:
        self.remote = remote
        self.clone_dir = clone_dir
        self.base = base
        self._credentials = credentials

    @contextmanager
    def _env(self, repo: git.Repo | None = None) -> Iterator[dict[str, str]]:
        token = self._credentials() if self._credentials else ""
        env = token_env(self.remote, token)
        try:
            if repo is None:
                yield env
            else:
                with repo.git.custom_environment(**env):
                    yield env
        except git.GitCommandError as exc:
            # the message names the command, never the token (it is not in argv); belt and braces
            reason = git_reason(exc).replace(token, "***") if token else git_reason(exc)
            raise ForgeError(reason) from None

    @property
    def shown_remote(self) -> str:
        """The remote as messages show it: a password in the URL is masked."""
        return redact(self.remote)[0]

    @property
    def repo(self) -> git.Repo:
        return git.Repo(self.clone_dir)

    def checkout(self) -> Path:
        """A clean working copy of the base branch, fresh from the remote (all branches fetched:
        the lifecycle reads branch heads from here, not from the API)."""
        try:
            if (self.clone_dir / ".git").is_dir():
                repo = self.repo
                with self._env(repo):
                    repo.remote("origin").fetch(prune=True, force=True)
            else:
                self.clone_dir.parent.mkdir(parents=True, exist_ok=True)
                with self._env() as env:
                    repo = git.Repo.clone_from(self.remote, self.clone_dir, env=env)
            if self.remote_head(self.base) is None:
                raise self._missing_base(repo)
            repo.git.checkout("-f", "-B", self.base, f"origin/{self.base}")
            repo.git.clean("-fdx")
        except MissingBase:
            raise
        except ForgeError as exc:
            raise ForgeError(f"cannot check out {self.base} from {self.shown_remote}: {exc}"
                             ) from None
        except git.GitCommandError as exc:
            raise ForgeError(f"cannot check out {self.base} from {self.shown_remote}: "
                             f"{git_reason(exc)}") from None
        return self.clone_dir

    def _missing_base(self, repo: git.Repo) -> MissingBase:
        branches = sorted(r.remote_head for r in repo.remote("origin").refs
                          if r.remote_head != "HEAD")
        try:  # what the remote's HEAD points at, as recorded by the clone
            default = repo.git.symbolic_ref("--short", "refs/remotes/origin/HEAD")
            default = default.removeprefix("origin/")
        except git.GitCommandError:
            default = ""
        return MissingBase(
            f"the base branch {self.base!r} is not on {self.shown_remote} (its branches: "
            f"{', '.join(branches) or 'none'}): set pullRequests.base in .remediator.yaml",
            default if default in branches else "")

    def base_commit(self) -> str:
        return self.repo.commit(f"origin/{self.base}").hexsha

    def remote_head(self, branch: str) -> str | None:
        """The branch's head on the remote as of the last fetch (None: no such branch)."""
        try:
            return self.repo.commit(f"refs/remotes/origin/{branch}").hexsha
        except (git.BadName, ValueError):
            return None

    def foreign_commits(self, branch: str) -> list[str]:
        """Commits on the remote branch, not on the base, that the bot did not make."""
        if self.remote_head(branch) is None:
            return []
        out = self.repo.git.log("--format=%H %ce", f"origin/{self.base}..origin/{branch}")
        return [ln.split()[0] for ln in out.splitlines()
                if ln.strip() and ln.split()[-1] != BOT.email]

    def fix_commit(self, signature: str) -> str | None:
        """The newest commit on the base whose message carries the signature's trailer (the
        bot's commit, fast-forwarded, merged or squashed with its message)."""
        trailer = f"{SIGNATURE_TRAILER}{signature}"
        out = self.repo.git.log(f"origin/{self.base}", "-F", "-n", "20", "--format=%H%x00%B%x01",
                                f"--grep={trailer}")
        # --grep matches a substring: `exit code 1` would find the fix for `exit code 137`
        for entry in out.split("\x01"):
            sha, _, message = entry.strip().partition("\x00")
            if trailer in (line.strip() for line in message.splitlines()):
                return sha
        return None

    def contains(self, revision: str, commit: str) -> bool:
        """Whether ``revision`` (e.g. what the cluster synced) includes ``commit``."""
        try:
            self.repo.git.merge_base("--is-ancestor", commit, revision)
        except git.GitCommandError:
            return False  # not an ancestor, or a revision this clone does not know
        return True

    def start_branch(self, branch: str) -> None:
        self.repo.git.checkout("-f", "-B", branch, f"origin/{self.base}")

    def commit_and_push(self, branch: str, message: str, paths: list[str]) -> str:
        """Commit ``paths`` on ``branch`` (started from the base) and push it, replacing what the
        bot pushed there before. A push that lost a race (someone pushed meanwhile) fetches: a
        human's commits stop us (HumanPushed); the bot's own are rebased onto, once."""
        repo = self.repo
        try:
            repo.index.add(paths)
            repo.index.commit(message, author=BOT, committer=BOT)
            try:
                self._push(repo, branch, self.remote_head(branch))
            except ForgeError:
                with self._env(repo):
                    repo.remote("origin").fetch(prune=True, force=True)
                if self.foreign_commits(branch):
                    raise HumanPushed(f"{branch}: someone else pushed to it") from None
                expected = self.remote_head(branch)
                if expected is not None:
                    try:  # on top of the other push; drops our commit if already there
                        repo.git.rebase(f"origin/{branch}")
                    except git.GitCommandError:
                        # another replica pushed a different fix: the branch is the bot's,
                        # and ours is built from the newest evidence, so it replaces theirs
                        repo.git.rebase("--abort")
                self._push(repo, branch, expected)
            return repo.head.commit.hexsha
        except git.GitCommandError as exc:
            if repo.git.status("--porcelain").startswith(("UU", "AA")) or (
                    Path(repo.git_dir) / "rebase-merge").exists():
                repo.git.rebase("--abort")
            raise ForgeError(f"cannot push {branch}: {git_reason(exc)}") from None
        except ForgeError as exc:
            if isinstance(exc, HumanPushed):
                raise
            raise ForgeError(f"cannot push {branch}: {exc}") from None
        finally:
            repo.git.checkout("-f", self.base)

    def _push(self, repo: git.Repo, branch: str, expected: str | None) -> None:
        lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
        with self._env(repo):
            repo.git.push(lease, "origin", f"HEAD:refs/heads/{branch}")
        repo.git.update_ref(f"refs/remotes/origin/{branch}", "HEAD")


def git_reason(exc: git.GitCommandError) -> str:
    """The line of a failed git command that says why (`fatal: ...`), credentials redacted."""
    text = str(exc.stderr or "") or str(exc)
    lines = [ln.strip().removeprefix("stderr:").strip(" '") for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:", "remote:", "!"))]
    # git may echo a URL with its credentials (a remote given as https://user:token@host/...)
    return redact((fatal or lines or [f"git exited with {exc.status}"])[-1])[0]


class GitBackedForge:
    """The git side every forge shares: its clone of the GitOps repository (``self.git``)."""

    git: GitClone

    @property
    def base(self) -> str:
        return self.git.base

    @base.setter
    def base(self, value: str) -> None:
        self.git.base = value

    @property
    def clone_dir(self) -> Path:
        return self.git.clone_dir

    def checkout(self) -> Path:
        return self.git.checkout()

    def base_commit(self) -> str:
        return self.git.base_commit()

    def start_branch(self, branch: str) -> None:
        self.git.start_branch(branch)

    def commit_and_push(self, branch: str, message: str, paths: list[str]) -> str:
        return self.git.commit_and_push(branch, message, paths)

    def foreign_commits(self, branch: str) -> list[str]:
        return self.git.foreign_commits(branch)

    def fix_commit(self, signature: str) -> str | None:
        return self.git.fix_commit(signature)

    def contains(self, revision: str, commit: str) -> bool:
        return self.git.contains(revision, commit)
