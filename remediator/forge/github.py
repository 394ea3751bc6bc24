"""GitHub forge (PyGithub): pull requests, comments and the dashboard issue on GitHub or GHE.

State lives in GitHub, not here: each pass lists the repository's issues labelled `remediator`
once (PRs and the dashboard issue together, 100 per page) and reads the hidden record of each
PR's body. Branches go by git push over HTTPS (see gitclone) with the same token.

Rate limits and 5xx: PyGithub's retry (GithubRetry) waits for `Retry-After` (secondary limits)
or `X-RateLimit-Reset` (primary limit) and backs off on 5xx; the waiting goes through the
``sleep`` given to the forge, so tests make it instant by configuration.

Nothing is written twice: GitHub may carry out a POST and still answer 5xx (or the answer may be
lost), so the HTTP layer never repeats a POST after that; the forge first looks for its result
(a PR by its head branch, the dashboard by its label, a comment by its hidden marker) and posts
again only when it is not there. PATCHes set values (labels, bodies) and repeat safely. Every
write asks the pass's fence first: a replica that lost its lease writes nothing.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from github import Auth, Github, GithubException, GithubIntegration, GithubRetry
from jwt import PyJWTError
from urllib3 import Retry
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from ..kernel.leader import NO_FENCE
from ..kernel.redact import register
from ..model import PullRequest
from ..render.gitops import normalize_repo_url
from .body import parse_record
from .gitbacked import GitBackedForge
from .gitclone import ForgeError, GitClone

if TYPE_CHECKING:
    from ..kernel.leader import Fence

FIND_LABEL = "remediator"  # how the bot finds its PRs and its dashboard issue
DASHBOARD_LABEL = "remediator:dashboard"
GITHUB_API = "https://api.github.com"
POST_ATTEMPTS = 3
T = TypeVar("T")


class _Retry(GithubRetry):
    """GithubRetry whose waits go through an injectable ``sleep``."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> None:
        self._sleep = sleep
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> _Retry:
        kw["sleep"] = self._sleep
        return super().new(**kw)

    # A POST answered 5xx, or whose answer was lost, may have been carried out: it goes back to
    # the forge, which looks for its result before posting again (GitHubForge._post). Refusals
    # that did nothing (rate limits: 403/429) are still waited out and retried here.
    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method == "POST" and status_code >= 500:
            return False
        return bool(super().is_retry(method, status_code, has_retry_after))

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,  # type: ignore[override]
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None
                  ) -> Retry:
        if method == "POST" and isinstance(error, (ReadTimeoutError, ProtocolError)):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)

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
        errors = data.get("errors")  # GraphQL: {"errors": [{"type": ..., "message": ...}]}
        if isinstance(errors, list) and errors and isinstance(errors[0], dict) and not data.get(
                "message"):
            return f"GitHub GraphQL: {str(errors[0].get('message') or 'error').splitlines()[0]}"
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
                 max_wait: float = 900.0, fence: Fence = NO_FENCE) -> None:
        """``repo``: owner/name; ``remote``: where git clones and pushes (HTTPS URL of the
        repository, or a local path in tests); ``write_interval``: seconds between write
        requests (GitHub asks integrators for one second)."""
        # PATCH is retried too: the bot's PATCHes (labels, bodies) set values, so they repeat
        # safely; a POST only where GitHub surely did nothing (see _Retry.is_retry)
        retry = _Retry(sleep=sleep, total=5, backoff_factor=1.0, max_rate_limit_wait=max_wait,
                       allowed_methods=frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"}))
        self._gh = Github(base_url=api_url.rstrip("/"), auth=auth, retry=retry, lazy=True,
                          per_page=100, seconds_between_requests=None,
                          seconds_between_writes=write_interval or None)
        self.use_repository(repo)
        self.fence = fence
        self._sleep = sleep
        # the token is read when git runs (an App installation token refreshes itself)
        self.git = GitClone(remote, state_dir.resolve() / "clone", base,
                            credentials=lambda: _token(auth), fence=fence)
        self.warnings: list[str] = []

    def use_repository(self, repo: str) -> None:
        """owner/name of the repository (known after the config is read, when it names it)."""
        self.full_name = repo
        self.owner = repo.split("/", 1)[0]
        self._repo = self._gh.get_repo(repo or "unknown/unknown")
        self._listing: tuple[list[PullRequest], tuple[int, str] | None] | None = None

    def checkout(self) -> Path:
        self._listing = None  # a new pass reads GitHub afresh
        return super().checkout()

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

    @contextmanager
    def _write(self, what: str) -> Iterator[None]:
        """One write request: the fence first (still the leader of this pass?), errors as one
        line. Repeating it is harmless (a PATCH sets values), so the HTTP layer retries it."""
        self.fence.check(what)
        with _api(f"cannot {what}"):
            yield

    def _post(self, what: str, create: Callable[[], T], find: Callable[[], T | None]) -> T:
        """A POST that GitHub may have carried out although it answered 5xx (or the answer was
        lost): look for its result (``find``) before posting again."""
        for attempt in range(1, POST_ATTEMPTS + 1):
            self.fence.check(what)
            try:
                return create()
            except (GithubException, requests.RequestException) as exc:
                status = exc.status if isinstance(exc, GithubException) else 0
                if 0 < status < 500 or attempt == POST_ATTEMPTS:  # refused: nothing was done
                    raise ForgeError(f"cannot {what}: {_one_line(exc)}") from None
            self._sleep(float(attempt))  # let GitHub settle before reading
            with _api(f"cannot {what}: looking for the result of a failed request"):
                found = find()
            if found is not None:
                return found
        raise AssertionError("unreachable")  # pragma: no cover

    def open_pull(self, title: str, body: str, branch: str, labels: list[str],
                  signature: str, head_sha: str, draft: bool = False,
                  reviewers: list[str] | None = None, team_reviewers: list[str] | None = None,
                  assignees: list[str] | None = None) -> PullRequest:
        """Create the PR, then label and assign it (one call) and request reviews (one call).
        A PR that already exists for the branch (an earlier pass failed half-way, or the create
        was carried out but not acknowledged) is completed instead of duplicated."""

        def create() -> PullRequest:
            created = self._repo.create_pull(base=self.base, head=branch, title=title,
                                             body=body, draft=draft)
            return PullRequest(number=created.number, title=title, body=body, branch=branch,
                               base=self.base, labels=[], signature=signature, draft=draft,
                               url=created.html_url, head_sha=head_sha,
                               created_at=_iso(created.created_at))

        def find() -> PullRequest | None:
            return self.find_pull_by_branch(branch)

        what = f"open a pull request for {branch}"
        try:
            pr = self._post(what, create, find)
        except ForgeError as exc:
            if "already exists" not in str(exc):
                raise
            found = find()
            if found is None:
                raise
            pr = found
        if not pr.created or pr.body != body:
            self.update_pull(pr.number, title, body)
            pr.title, pr.body = title, body
        wanted = [FIND_LABEL, *(x for x in labels if x != FIND_LABEL)]
        pr.labels = [*pr.labels, *(x for x in wanted if x not in pr.labels)]
        pr.assignees = list(assignees or [])
        with self._write(f"label pull request #{pr.number}"):
            edit: dict[str, Any] = {"labels": pr.labels}
            if pr.assignees:
                edit["assignees"] = pr.assignees
            self._repo.get_issue(pr.number).edit(**edit)
        if reviewers or team_reviewers:
            number = pr.number
            try:
                # asking again for the same reviewers changes nothing: "found" is never needed
                self._post(f"request reviews on #{number}", lambda: self._repo.get_pull(
                    number).create_review_request(reviewers=list(reviewers or []),
                                                  team_reviewers=list(team_reviewers or [])),
                    lambda: None)
                pr.reviewers = [*(reviewers or []), *(team_reviewers or [])]
            except ForgeError as exc:  # e.g. a reviewer who is not a collaborator
                self.warnings.append(str(exc))
        return pr

    def enable_automerge(self, number: int) -> None:
        """GitHub's native auto-merge (GraphQL `enablePullRequestAutoMerge`, through PyGithub):
        GitHub merges the PR once branch protection's required checks and reviews pass; the
        bot never merges itself. The merge method is the first the repository allows of
        squash, merge, rebase. A repository where auto-merge is off says so in one line."""
        with _api(f"cannot read the settings of {self.full_name}"):
            allowed = bool(self._repo.allow_auto_merge)  # one GET /repos/{owner}/{repo}
            methods = [m for m, on in (("SQUASH", self._repo.allow_squash_merge),
                                       ("MERGE", self._repo.allow_merge_commit),
                                       ("REBASE", self._repo.allow_rebase_merge)) if on]
        if not allowed:
            raise ForgeError(f"auto-merge is not allowed in {self.full_name} (Settings → "
                             "General → Pull Requests → Allow auto-merge)")
        pull = self._repo.get_pull(number)  # lazy: the node id is read when needed
        # turning it on twice is harmless: a POST answered 5xx is simply sent again
        self._post(f"enable auto-merge on #{number}", lambda: pull.enable_automerge(
            merge_method=(methods or ["MERGE"])[0]), lambda: None)

    def disable_automerge(self, number: int) -> None:
        """GraphQL `disablePullRequestAutoMerge`: the PR's new fix no longer qualifies."""
        pull = self._repo.get_pull(number)
        self._post(f"disable auto-merge on #{number}", lambda: pull.disable_automerge(),
                   lambda: None)

    def update_pull(self, number: int, title: str, body: str) -> None:
        with self._write(f"update pull request #{number}"):
            self._repo.get_pull(number).edit(title=title, body=body)

    def comment(self, number: int, text: str) -> None:
        """Comment once: the comment carries a hidden marker of its text, and a comment that is
        already there (a request answered 5xx after it was done, or a pass that stopped before
        recording it) is not posted again."""
        mark = f"<!-- remediator:comment {hashlib.sha256(text.encode()).hexdigest()[:16]} -->"
        issue = self._repo.get_issue(number)  # lazy: no request

        def find() -> bool | None:
            return True if any(mark in (c.body or "") for c in issue.get_comments()) else None

        with _api(f"cannot read the comments of #{number}"):
            if find():
                return
        self._post(f"comment on #{number}", lambda: bool(issue.create_comment(
            f"{text}\n\n{mark}")), find)

    def save_dashboard(self, number: int | None, title: str, body: str) -> int:
        if number is not None:
            with self._write("update the dashboard issue"):
                self._repo.get_issue(number).edit(body=body)
            return number

        def find() -> int | None:
            for issue in self._repo.get_issues(state="all", labels=[FIND_LABEL, DASHBOARD_LABEL]):
                return int(issue.number)
            return None

        return self._post("create the dashboard issue", lambda: int(self._repo.create_issue(
            title=title, body=body, labels=[FIND_LABEL, DASHBOARD_LABEL]).number), find)
