"""Response shapes for the GitHub emulator: GitHub's own examples, carrying the emulator's state.

The examples come from GitHub's OpenAPI description (github_api/subset.json); URLs in them
are rewritten to the emulator's base URL, as PyGithub follows the absolute URLs it is given.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
from werkzeug.wrappers import Request, Response

SUBSET = json.loads((Path(__file__).parent / "github_api" / "subset.json").read_text())
OPS: dict[str, Any] = SUBSET["operations"]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Item:
    """An issue or a pull request (a pull request is an issue with a head)."""

    number: int
    title: str
    body: str
    user: str
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    state: str = "open"
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    closed_at: str | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)
    # pull requests only
    head: str | None = None
    base: str = "main"
    draft: bool = False
    merged_at: str | None = None
    merge_sha: str | None = None
    reviewers: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    #: GitHub's auto-merge, when on: merge_method, commit_title, commit_message, enabled_at
    auto_merge: dict[str, Any] | None = None


class Shapes:
    """Mixin: needs ``base_url``, ``owner``, ``name``, ``bare`` and ``json()``."""

    base_url: str
    owner: str
    name: str
    bare: git.Repo

    def json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None
             ) -> Response:
        raise NotImplementedError

    def url(self, *parts: Any) -> str:
        return "/".join([self.base_url, "repos", self.owner, self.name, *map(str, parts)])

    def _rewrite(self, data: Any) -> Any:
        text = json.dumps(data).replace("https://api.github.com", self.base_url)
        text = text.replace("https://github.com", self.base_url)
        return json.loads(text.replace("octocat/Hello-World", f"{self.owner}/{self.name}"))

    def example(self, op_id: str) -> Any:
        return self._rewrite(copy.deepcopy(OPS[op_id]["example"]))

    def user(self, login: str) -> dict[str, Any]:
        u = self.example("issues/list-for-repo")[0]["user"]
        u.update(login=login, url=f"{self.base_url}/users/{login}",
                 html_url=f"{self.base_url}/{login}", type="Bot" if "[bot]" in login else "User")
        return u

    def label(self, name: str) -> dict[str, Any]:
        lab = self.example("issues/list-for-repo")[0]["labels"][0]
        lab.update(name=name, url=self.url("labels", name), default=False, id=abs(hash(name)))
        return lab

    def sha(self, branch: str) -> str:
        try:
            return self.bare.commit(f"refs/heads/{branch}").hexsha
        except (git.BadName, ValueError):
            return "0" * 40

    def issue_json(self, i: Item) -> dict[str, Any]:
        d = self.example("issues/get")
        d.update(number=i.number, id=i.number, node_id=f"I_{i.number}", title=i.title,
                 body=i.body, state=i.state, user=self.user(i.user),
                 labels=[self.label(n) for n in i.labels],
                 assignees=[self.user(a) for a in i.assignees],
                 assignee=self.user(i.assignees[0]) if i.assignees else None,
                 created_at=i.created_at, updated_at=i.updated_at, closed_at=i.closed_at,
                 comments=len(i.comments), url=self.url("issues", i.number),
                 html_url=f"{self.base_url}/{self.owner}/{self.name}/issues/{i.number}",
                 comments_url=self.url("issues", i.number, "comments"), milestone=None)
        if i.head is None:
            d.pop("pull_request", None)
        else:  # GitHub: a PR's issue links to the PR page
            d["html_url"] = f"{self.base_url}/{self.owner}/{self.name}/pull/{i.number}"
            d["pull_request"] = {"url": self.url("pulls", i.number), "merged_at": i.merged_at,
                                 "html_url": f"{self.base_url}/{self.owner}/{self.name}/pull/"
                                             f"{i.number}", "diff_url": None, "patch_url": None}
        return d

    def pull_json(self, i: Item) -> dict[str, Any]:
        d = self.example("pulls/get")
        assert i.head is not None
        d.update(number=i.number, id=i.number, node_id=f"PR_{i.number}", title=i.title,
                 body=i.body, state=i.state, draft=i.draft, user=self.user(i.user),
                 labels=[self.label(n) for n in i.labels],
                 assignees=[self.user(a) for a in i.assignees],
                 assignee=self.user(i.assignees[0]) if i.assignees else None,
                 requested_reviewers=[self.user(r) for r in i.reviewers],
                 requested_teams=[], created_at=i.created_at, updated_at=i.updated_at,
                 closed_at=i.closed_at, merged_at=i.merged_at, merged=i.merged_at is not None,
                 auto_merge=None if i.auto_merge is None else {
                     "enabled_by": self.user("remediator[bot]"),
                     **{k: v for k, v in i.auto_merge.items() if k != "enabled_at"}},
                 merge_commit_sha=i.merge_sha, url=self.url("pulls", i.number),
                 issue_url=self.url("issues", i.number), milestone=None,
                 html_url=f"{self.base_url}/{self.owner}/{self.name}/pull/{i.number}")
        for side, ref in (("head", i.head), ("base", i.base)):
            d[side].update(ref=ref, sha=self.sha(ref), label=f"{self.owner}:{ref}")
        return d

    def page(self, request: Request, items: list[Any]) -> Response:
        per_page = min(int(request.args.get("per_page", 30)), 100)
        page = int(request.args.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(items):
            args = {**request.args.to_dict(), "page": str(page + 1), "per_page": str(per_page)}
            query = "&".join(f"{k}={v}" for k, v in args.items())
            headers["Link"] = f'<{self.base_url}{request.path}?{query}>; rel="next"'
        return self.json(chunk, 200, headers)

