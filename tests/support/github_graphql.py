"""The GitHub emulator's GraphQL endpoint (`POST /graphql`): auto-merge, as PyGithub asks for it.

The schema is GitHub's own, cut to what the forge uses (github_api/schema.graphql, extracted by
scripts/extract_github_graphql.py): graphql-core validates each query against it and runs it, so
a mutation or a field GitHub would refuse is refused here too (and recorded in ``invalid``).
Errors are shaped like GitHub's: HTTP 200, `{"data": ..., "errors": [{"type": ..., "message":
..., "path": ..., "locations": ...}]}`.

What GitHub checks before it turns auto-merge on, emulated: the repository allows auto-merge
(``allow_auto_merge``), the merge method is allowed, the PR is open and not a draft, and its
base branch has requirements still pending (``required_checks``): a PR that could merge right
now is "in clean status" and GitHub refuses. ``checks_pass(number)`` plays the required checks
passing: an armed PR is then merged, as GitHub's merge would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphql import GraphQLError, build_schema, graphql_sync
from werkzeug.wrappers import Request, Response

from tests.support.github_shapes import Item, now_iso

SCHEMA = build_schema((Path(__file__).parent / "github_api" / "schema.graphql").read_text())
BOT_LOGIN = "remediator[bot]"


class _Refused(GraphQLError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message, extensions={"type": kind})


class GraphQL:
    """Mixin for GitHubEmulator: needs ``items``, ``invalid``, ``base_url``, ``json()``,
    ``error()``, ``merge()``."""

    items: dict[int, Item]
    invalid: list[str]
    base_url: str
    allow_auto_merge: bool = False  # GitHub's default for a new repository
    merge_methods: tuple[str, ...] = ("MERGE", "SQUASH", "REBASE")
    required_checks: bool = True  # branch protection requires checks that have not passed yet

    def json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None
             ) -> Response:
        raise NotImplementedError

    def error(self, status: int, message: str) -> Response:
        raise NotImplementedError

    def merge(self, number: int) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ human actions

    def checks_pass(self, number: int) -> str | None:
        """The required checks of PR ``number`` passed: GitHub merges it if auto-merge is on
        (the merge commit), else nothing happens (None)."""
        item = self.items[number]
        if item.auto_merge is None or item.state != "open":
            return None
        return self.merge(number)

    # ------------------------------------------------------------------------- HTTP

    def graphql(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return self.error(400, "Problems parsing JSON")
        query, variables = body.get("query"), body.get("variables") or {}
        if not isinstance(query, str):
            self.invalid.append("graphql: no query")
            return self.json({"errors": [{"message": "A query attribute must be specified "
                                                     "and must be a string."}]})
        result = graphql_sync(SCHEMA, query, root_value=_Root(self),
                              variable_values=variables)
        out: dict[str, Any] = {}
        if result.errors:
            errors = []
            for e in result.errors:
                shaped = e.formatted
                kind = (shaped.pop("extensions", None) or {}).get("type")
                if kind:
                    shaped["type"] = kind
                else:  # not a refusal of ours: the query itself is wrong
                    self.invalid.append(f"graphql: {e.message}")
                errors.append(shaped)
            out["errors"] = errors
        if result.data is not None:
            out["data"] = result.data
        return self.json(out)

    # --------------------------------------------------------------------- resolvers

    def _pull_by_node(self, node_id: str) -> Item:
        number = node_id.removeprefix("PR_")
        item = self.items.get(int(number)) if number.isdigit() else None
        if item is None or item.head is None:
            raise _Refused("NOT_FOUND", f"Could not resolve to a node with the global id of "
                                        f"'{node_id}'")
        return item

    def bot(self) -> dict[str, Any]:
        return {"__typename": "Bot", "id": "BOT_1", "login": BOT_LOGIN,
                "avatarUrl": f"{self.base_url}/avatars/remediator",
                "resourcePath": "/apps/remediator", "url": f"{self.base_url}/apps/remediator"}

    def pull_node(self, item: Item) -> dict[str, Any]:
        auto = item.auto_merge
        return {"__typename": "PullRequest", "id": f"PR_{item.number}", "number": item.number,
                "url": f"{self.base_url}/pull/{item.number}",
                "autoMergeRequest": None if auto is None else {
                    "enabledAt": auto["enabled_at"], "mergeMethod": auto["merge_method"].upper(),
                    "commitHeadline": auto["commit_title"], "commitBody": auto["commit_message"],
                    "authorEmail": None, "enabledBy": self.bot(), "pullRequest": None}}

    def enable_auto_merge(self, args: dict[str, Any]) -> dict[str, Any]:
        item = self._pull_by_node(str(args["pullRequestId"]))
        method = str(args.get("mergeMethod") or "MERGE")
        if not self.allow_auto_merge:
            raise _Refused("UNPROCESSABLE",
                           "Pull request Auto merge is not allowed for this repository")
        if method not in self.merge_methods:
            raise _Refused("UNPROCESSABLE", f"Pull request Merge method {method.lower()} "
                                            "merging is not allowed on this repository")
        if item.state != "open":
            raise _Refused("UNPROCESSABLE", "Pull request Pull request is closed")
        if item.draft:
            raise _Refused("UNPROCESSABLE", "Pull request Pull request is in draft state")
        if not self.required_checks:
            raise _Refused("UNPROCESSABLE", "Pull request Pull request is in clean status")
        item.auto_merge = {"enabled_at": now_iso(), "merge_method": method.lower(),
                           "commit_title": args.get("commitHeadline") or item.title,
                           "commit_message": args.get("commitBody") or ""}
        return {"actor": self.bot(), "clientMutationId": args.get("clientMutationId"),
                "pullRequest": self.pull_node(item)}

    def disable_auto_merge(self, args: dict[str, Any]) -> dict[str, Any]:
        item = self._pull_by_node(str(args["pullRequestId"]))
        item.auto_merge = None
        return {"actor": self.bot(), "clientMutationId": args.get("clientMutationId"),
                "pullRequest": self.pull_node(item)}


class _Root:
    """The query and mutation root: graphql-core calls these with the field's arguments."""

    def __init__(self, emulator: GraphQL) -> None:
        self.emulator = emulator

    def enablePullRequestAutoMerge(self, info: Any, input: dict[str, Any]) -> Any:
        return self.emulator.enable_auto_merge(input)

    def disablePullRequestAutoMerge(self, info: Any, input: dict[str, Any]) -> Any:
        return self.emulator.disable_auto_merge(input)

    def node(self, info: Any, id: str) -> Any:
        return self.emulator.pull_node(self.emulator._pull_by_node(id))
