"""GitHub forge (PyGithub): pull requests, comments and the dashboard issue on GitHub or GHE.

State lives in GitHub, not here: each pass lists the repository's issues labelled `remediator`
once (PRs and the dashboard issue together, 100 per page) and reads the hidden record of each
PR's body. Branches go by git push over HTTPS (see gitclone) with the same token.

Rate limits and 5xx: PyGithub's retry (GithubRetry) waits for `Retry-After` (secondary limits)
or `X-RateLimit-Reset` (primary limit) and backs off on 5xx; the waiting goes through the
``sleep`` given to the forge, so tests make it instant by configuration.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubIntegration, GithubRetry
from jwt import PyJWTError

from ..gitops import normalize_repo_url
from ..model import PullRequest
from ..redact import register
from .body import parse_record
from .gitclone import ForgeError, GitBackedForge, GitClone

FIND_LABEL = "remediator"  # how the bot finds its PRs and its dashboard issue
DASHBOARD_LABEL = "remediator:dashboard"
GITHUB_API = "https://api.github.com"


class _Retry(GithubRetry):
    """GithubRetry whose waits go through an injectable ``sleep``."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> None:
        self._sleep = sleep
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> _Retry:
        kw["sleep"] = self._sleep
        return super().new(**kw)

    def sleep(self, response: Any = None) -> None:
        wait = self.get_retry_after(response) if response is not None else None
        if wait is None:
            wait = self.get_backoff_time()
        limit = self.max_rate_limit_wait
        if limit is not None and wait > limit:
            # GithubRetry bounds the waits it computes, not a Retry-After header: a day-long
            # one is an error of this request (the pass goes on), not a stalled service
            raise GithubException(429, {"message": f"rate limited for {wait:.0f}s, longer than "
                                                   f"the {limit:.0f}s remediator waits"}, None)
        if wait > 0:
            self._sleep(wait)


def _one_line(exc: Exception) -> str:
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc.data or "").splitlines()
        return f"GitHub API {exc.status}: {message[0] if message else 'error'}"
    return f"GitHub API unreachable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


@contextmanager
def _api(what: str) -> Iterator[None]:
    try:
        yield
    except (GithubException, requests.RequestException) as exc:
        raise ForgeError(f"{what}: {_one_line(exc)}") from None


def _iso(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else ""


def app_auth(app_id: str, private_key: str, repo: str, installation_id: int | None,
             api_url: str = GITHUB_API) -> Auth.AppInstallationAuth:
    """GitHub App installation auth; without an installation id, the repository's."""
    app = Auth.AppAuth(app_id, private_key)
    try:
        app.create_jwt()  # the key is parsed here, else only at the first request (a traceback)
    except (ValueError, PyJWTError) as exc:
        raise ForgeError(f"GitHub App key: {str(exc).splitlines()[0]}") from None
    if installation_id is None:
        owner, name = repo.split("/", 1)
        with _api(f"cannot find the GitHub App installation for {repo}"):
            gi = GithubIntegration(auth=app, base_url=api_url)
            installation_id = gi.get_repo_installation(owner, name).id
    return app.get_installation_auth(installation_id)


def repo_name(url: str) -> str | None:
    """owner/name from a repository URL (https://host/owner/name.git, git@host:owner/name)."""
    host, _, path = normalize_repo_url(url).partition("/")
    parts = path.split("/")
    if host and len(parts) == 2 and all(re.fullmatch(r"[\w.-]+", p) for p in parts):
        return path
    return None


def auth_from_env(env: Mapping[str, str], repo: str | None, api_url: str = GITHUB_API
                  ) -> Auth.Auth:
    """`GITHUB_TOKEN` (personal or fine-grained token, or an Actions token), else a GitHub App:
    `GITHUB_APP_ID` with `GITHUB_APP_PRIVATE_KEY` (PEM text) or `GITHUB_APP_PRIVATE_KEY_FILE`,
    and `GITHUB_APP_INSTALLATION_ID` (default: the repository's installation)."""
    if env.get("GITHUB_TOKEN"):
        register(env["GITHUB_TOKEN"])  # masked by value in everything that leaves
        return Auth.Token(env["GITHUB_TOKEN"])
    app_id = env.get("GITHUB_APP_ID", "")
    key = env.get("GITHUB_APP_PRIVATE_KEY", "")
    if app_id and not key and env.get("GITHUB_APP_PRIVATE_KEY_FILE"):
        try:
            key = Path(env["GITHUB_APP_PRIVATE_KEY_FILE"]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ForgeError(f"cannot read GITHUB_APP_PRIVATE_KEY_FILE: {exc.strerror}") from None
    register(key)
    if not app_id or not key:
        raise ForgeError("no GitHub credentials: set GITHUB_TOKEN, or GITHUB_APP_ID with "
                         "GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE)")
    installation = env.get("GITHUB_APP_INSTALLATION_ID", "")
    if not installation.isdigit() and not repo:
        raise ForgeError("GITHUB_APP_INSTALLATION_ID is needed when the repository URL does not "
                         "name the repository")
    try:
        return app_auth(app_id, key, repo or "", int(installation) if installation.isdigit()
                        else None, api_url)
    except ValueError as exc:  # a malformed key
        raise ForgeError(f"GitHub App key: {str(exc).splitlines()[0]}") from None


def _token(auth: Auth.Auth) -> str:
    """The token git sends; an App installation's is fetched (or refreshed) here, and a refusal
    is a one-line ForgeError like any other API error."""
    with _api("cannot get a token for git"):
        return str(getattr(auth, "token", "") or "")


class GitHubForge(GitBackedForge):
    def __init__(self, repo: str, remote: str, state_dir: Path, auth: Auth.Auth,
                 base: str = "main", api_url: str = GITHUB_API,
                 sleep: Callable[[float], None] = time.sleep, write_interval: float = 1.0,
                 max_wait: float = 900.0) -> None:
        """``repo``: owner/name; ``remote``: where git clones and pushes (HTTPS URL of the
        repository, or a local path in tests); ``write_interval``: seconds between write
        requests (GitHub asks integrators for one second)."""
        # PATCH is retried too: the bot's PATCHes (labels, bodies) set values, so they repeat safely
        retry = _Retry(sleep=sleep, total=5, backoff_factor=1.0, max_rate_limit_wait=max_wait,
                       allowed_methods=frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"}))
        self._gh = Github(base_url=api_url.rstrip("/"), auth=auth, retry=retry, lazy=True,
                          per_page=100, seconds_between_requests=None,
                          seconds_between_writes=write_interval or None)
        self.use_repository(repo)
        # the token is read when git runs (an App installation token refreshes itself)
        self.git = GitClone(remote, state_dir.resolve() / "clone", base,
                            credentials=lambda: _token(auth))
        self.warnings: list[str] = []

    def use_repository(self, repo: str) -> None:
        """owner/name of the repository (known after the config is read, when it names it)."""
        self.full_name = repo
        self.owner = repo.split("/", 1)[0]
        self._repo = self._gh.get_repo(repo or "unknown/unknown")
        self._listing: tuple[list[PullRequest], tuple[int, str] | None] | None = None

    def checkout(self) -> Path:
        self._listing = None  # a new pass reads GitHub afresh
        return self.git.checkout()

    # --------------------------------------------------------------------------- listing

    def _list(self) -> tuple[list[PullRequest], tuple[int, str] | None]:
        if self._listing is not None:
            return self._listing
        pulls: list[PullRequest] = []
        dashboard: tuple[int, str] | None = None
        with _api(f"cannot list the issues of {self.full_name}"):
            for issue in self._repo.get_issues(state="all", labels=[FIND_LABEL],
                                               sort="created", direction="desc"):
                labels = [lab.name for lab in issue.labels]
                # the html_url tells a PR from an issue: reading `pull_request` on an issue,
                # where GitHub leaves it out, would cost one more request per issue
                if "/pull/" not in issue.html_url:
                    if DASHBOARD_LABEL in labels and dashboard is None:
                        dashboard = (issue.number, issue.body or "")
                    continue
                rec = parse_record(issue.body or "")
                if rec is None or not isinstance(rec.get("signature"), str):
                    continue  # labelled by hand, not ours
                merged = bool(issue.pull_request and issue.pull_request.merged_at)
                pulls.append(PullRequest(
                    number=issue.number, title=issue.title, body=issue.body or "",
                    branch=str(rec.get("branch", "")), base=self.base, labels=labels,
                    signature=rec["signature"], state="merged" if merged else issue.state,
                    url=issue.html_url, created_at=_iso(issue.created_at),
                    assignees=[a.login for a in issue.assignees]))
        self._listing = (sorted(pulls, key=lambda p: p.number), dashboard)
        return self._listing

    def pulls(self) -> list[PullRequest]:
        return list(self._list()[0])

    def dashboard(self) -> tuple[int, str] | None:
        return self._list()[1]

    def find_pull_by_branch(self, branch: str) -> PullRequest | None:
        """The open PR whose head is ``branch`` (only after a partial failure: one call)."""
        with _api(f"cannot look up the pull request of {branch}"):
            for pr in self._repo.get_pulls(state="open", head=f"{self.owner}:{branch}"):
                rec = parse_record(pr.body or "") or {}
                return PullRequest(
                    number=pr.number, title=pr.title, body=pr.body or "", branch=branch,
                    base=pr.base.ref, labels=[lab.name for lab in pr.labels],
                    signature=str(rec.get("signature", "")), draft=bool(pr.draft),
                    url=pr.html_url, head_sha=pr.head.sha, created_at=_iso(pr.created_at),
                    created=False)
        return None

    # ------------------------------------------------------------------------- writing

    def open_pull(self, title: str, body: str, branch: str, labels: list[str],
                  signature: str, head_sha: str, draft: bool = False,
                  reviewers: list[str] | None = None, team_reviewers: list[str] | None = None,
                  assignees: list[str] | None = None) -> PullRequest:
        """Create the PR, then label and assign it (one call) and request reviews (one call).
        A PR that already exists for the branch (an earlier pass failed half-way) is
        completed instead of duplicated."""
        pr: PullRequest | None = None
        try:
            with _api(f"cannot open a pull request for {branch}"):
                created = self._repo.create_pull(base=self.base, head=branch, title=title,
                                                 body=body, draft=draft)
                pr = PullRequest(number=created.number, title=title, body=body, branch=branch,
                                 base=self.base, labels=[], signature=signature, draft=draft,
                                 url=created.html_url, head_sha=head_sha,
                                 created_at=_iso(created.created_at))
        except ForgeError as exc:
            if "already exists" not in str(exc):
                raise
            pr = self.find_pull_by_branch(branch)
            if pr is None:
                raise
            self.update_pull(pr.number, title, body)
        wanted = [FIND_LABEL, *(x for x in labels if x != FIND_LABEL)]
        pr.labels = [*pr.labels, *(x for x in wanted if x not in pr.labels)]
        pr.assignees = list(assignees or [])
        with _api(f"cannot label pull request #{pr.number}"):
            edit: dict[str, Any] = {"labels": pr.labels}
            if pr.assignees:
                edit["assignees"] = pr.assignees
            self._repo.get_issue(pr.number).edit(**edit)
        if reviewers or team_reviewers:
            try:
                with _api(f"cannot request reviews on #{pr.number}"):
                    self._repo.get_pull(pr.number).create_review_request(
                        reviewers=list(reviewers or []), team_reviewers=list(team_reviewers or []))
                pr.reviewers = [*(reviewers or []), *(team_reviewers or [])]
            except ForgeError as exc:  # e.g. a reviewer who is not a collaborator
                self.warnings.append(str(exc))
        return pr

    def update_pull(self, number: int, title: str, body: str) -> None:
        with _api(f"cannot update pull request #{number}"):
            self._repo.get_pull(number).edit(title=title, body=body)

    def comment(self, number: int, text: str) -> None:
        with _api(f"cannot comment on #{number}"):
            self._repo.get_issue(number).create_comment(text)

    def save_dashboard(self, number: int | None, title: str, body: str) -> int:
        with _api("cannot write the dashboard issue"):
            if number is None:
                return int(self._repo.create_issue(
                    title=title, body=body, labels=[FIND_LABEL, DASHBOARD_LABEL]).number)
            self._repo.get_issue(number).edit(body=body)
            return number
