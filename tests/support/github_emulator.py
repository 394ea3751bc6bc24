"""A GitHub REST emulator for the forge tests: loopback HTTP, real git, GitHub's own shapes.

- Response bodies start from the examples in GitHub's OpenAPI description (tests/support/github_api/
  subset.json, extracted by scripts/extract_github_openapi.py) and carry the emulator's state.
- Request bodies are validated against the description's schemas; a request that does not match
  is answered 422 like GitHub does and recorded in ``invalid`` (the test fixture asserts none).
- Branches live in a real bare git repository that the forge pushes to (its "clone URL").
- Faults: secondary / primary rate limits, 5xx, conflicts, answered before (or after) the
  request takes effect, for the next N matching requests (of one token, with ``who``); slow
  answers (``delay``) and answers held until the test releases them (``pause``: the request
  took effect, its answer waits, so a test can freeze the client right there).
- GraphQL (`POST /graphql`, tests/support/github_graphql.py): auto-merge, from GitHub's
  published GraphQL schema; ``allow_auto_merge`` (off, like a new repository),
  ``required_checks`` and ``checks_pass(number)``.
- Every request is counted (``calls``), which is what bench/github.py reports, and recorded
  with the token that made it (``history``: which replica wrote what, and when).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
import jwt
from jsonschema import Draft4Validator
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.support.github_graphql import GraphQL
from tests.support.github_shapes import OPS, Item, Shapes, now_iso


def _nullable(schema: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` as JSON Schema `type: [T, "null"]`."""
    if isinstance(schema, dict):
        out = {k: _nullable(v) for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(schema, list):
        return [_nullable(x) for x in schema]
    return schema


VALIDATORS = {op_id: Draft4Validator(_nullable(op["requestSchema"]))
              for op_id, op in OPS.items() if op.get("requestSchema")}
ROUTES = sorted(
    ((op["method"], re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", op["path"])
                               .replace("(?P<ref>[^/]+)", "(?P<ref>.+)") + "$"), op_id)
     for op_id, op in OPS.items()),
    key=lambda r: -len(r[1].pattern))


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


@dataclass
class Fault:
    status: int  # 0: the normal answer (for a ``delay`` or a ``hold``)
    method: str | None = None
    path: str | None = None  # regex searched in the request path
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "fault"
    after: bool = False  # the request takes effect, then the error is answered
    who: str | None = None  # only requests made with this token
    delay: float = 0.0  # seconds the answer waits (the emulator serves others meanwhile)
    hold: threading.Event | None = None  # the answer waits until this is set
    reached: threading.Event = field(default_factory=threading.Event)  # a request matched


@dataclass
class Call:
    who: str  # the token ("" when none was valid)
    method: str
    path: str
    at: float  # time.monotonic() when it arrived

    @property
    def write(self) -> bool:
        return self.method in ("POST", "PATCH", "PUT", "DELETE")


class GitHubEmulator(Shapes, GraphQL):
    def __init__(self, bare: Path, owner: str = "acme", name: str = "gitops",
                 token: str = "test-token", app_key: Any = None, app_id: int = 4242) -> None:
        self.bare = git.Repo(bare)
        self.owner, self.name = owner, name
        self.tokens = {token}
        self.app_key, self.app_id, self.installation_id = app_key, app_id, 77
        self.items: dict[int, Item] = {}
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str]] = []
        self.history: list[Call] = []
        self.invalid: list[str] = []
        self.lock = threading.Lock()
        self.base_url = ""
        self._server: Any = None

    # ------------------------------------------------------------------------- running

    def __enter__(self) -> GitHubEmulator:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True,
                                   request_handler=_Quiet)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()

    def reset_calls(self) -> None:
        self.calls.clear()

    # ------------------------------------------------------------------ human actions

    def add_label(self, number: int, label: str) -> None:
        self.items[number].labels.append(label)

    def close(self, number: int) -> None:
        item = self.items[number]
        item.state, item.closed_at = "closed", now_iso()

    def merge(self, number: int) -> str:
        """Fast-forward (or merge) the base branch to the PR head, like the merge button."""
        item = self.items[number]
        head = self.bare.commit(f"refs/heads/{item.head}")
        base = self.bare.commit(f"refs/heads/{item.base}")
        if self.bare.is_ancestor(base, head):
            sha = head.hexsha
        else:
            tree = self.bare.git.merge_tree("--write-tree", base.hexsha, head.hexsha).split()[0]
            sha = self.bare.git.commit_tree(tree, "-p", base.hexsha, "-p", head.hexsha,
                                            "-m", f"Merge pull request #{number}")
        self.bare.git.update_ref(f"refs/heads/{item.base}", sha)
        item.state, item.closed_at, item.merged_at, item.merge_sha = (
            "closed", now_iso(), now_iso(), sha)
        return sha

    def pulls(self) -> list[Item]:
        return [i for i in self.items.values() if i.head is not None]

    def issues(self) -> list[Item]:
        return [i for i in self.items.values() if i.head is None]

    def count(self, method: str | None = None) -> int:
        return sum(1 for m, _ in self.calls if method is None or m == method)

    # ------------------------------------------------------------------------- HTTP

    def wsgi(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            response, fault = self.handle(request)
        if fault is not None:  # slow or held answers wait outside the lock
            time.sleep(fault.delay)
            fault.reached.set()
            if fault.hold is not None:
                fault.hold.wait(300)
        return response(environ, start_response)

    def handle(self, request: Request) -> tuple[Response, Fault | None]:
        self.calls.append((request.method, request.path))
        token = self._token(request) or ""
        self.history.append(Call(token, request.method, request.path, time.monotonic()))
        fault = self._fault(request, token)
        if fault is not None and not fault.after and fault.status:
            return self._fault_response(fault), fault
        return self._perform(request, fault), fault

    def _perform(self, request: Request, fault: Fault | None) -> Response:
        if request.path == "/graphql" and request.method == "POST":
            if self._token(request) is None:
                return self.error(401, "This endpoint requires you to be authenticated.")
            response = self.graphql(request)
            return self._fault_response(fault) if fault is not None and fault.status \
                else response
        route = next(((m, op_id) for method, pattern, op_id in ROUTES
                      if method == request.method and (m := pattern.match(request.path))), None)
        if route is None:
            return self.error(404, "Not Found")
        m, op_id = route
        args = m.groupdict()
        if op_id.startswith("apps/"):
            who = self._app_jwt(request)
        else:
            who = self._token(request)
            if args.get("owner") != self.owner or args.get("repo") != self.name:
                return self.error(404, "Not Found")
        if who is None:
            return self.error(401, "Bad credentials")
        body: Any = None
        if request.method in ("POST", "PATCH", "PUT"):
            try:
                body = json.loads(request.get_data(as_text=True) or "{}")
            except ValueError:
                return self.error(400, "Problems parsing JSON")
            problems = [e.message for e in VALIDATORS[op_id].iter_errors(body)] \
                if op_id in VALIDATORS else []
            if problems:
                self.invalid.append(f"{op_id}: {problems[0]}")
                return self.error(422, f"Invalid request.\n\n{problems[0]}")
        handler = getattr(self, "op_" + op_id.replace("/", "_").replace("-", "_"))
        response = handler(request, body, **{k: v for k, v in args.items()
                                             if k not in ("owner", "repo")})
        if fault is not None and fault.status:
            return self._fault_response(fault)
        return response

    def _token(self, request: Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        return value if scheme.lower() in ("token", "bearer") and value in self.tokens else None

    def _app_jwt(self, request: Request) -> str | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.app_key is None:
            return None
        try:
            claims = jwt.decode(value, self.app_key.public_key(), algorithms=["RS256"])
        except jwt.PyJWTError:
            return None
        return "app" if str(claims.get("iss")) == str(self.app_id) else None

    def _fault(self, request: Request, token: str) -> Fault | None:
        for f in self.faults:
            if f.times > 0 and (f.method in (None, request.method)) and (
                    f.path is None or re.search(f.path, request.path)) and (
                    f.who in (None, token)):
                f.times -= 1
                return f
        return None

    def _fault_response(self, f: Fault) -> Response:
        return self.json({"message": f.message,
                          "documentation_url": "https://docs.github.com/rest"}, f.status,
                         f.headers)

    def json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None
             ) -> Response:
        h = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999",
             "X-RateLimit-Reset": str(int(time.time()) + 3600), **(headers or {})}
        return Response(json.dumps(data), status, h, content_type="application/json")

    def error(self, status: int, message: str) -> Response:
        return self.json({"message": message, "documentation_url": "https://docs.github.com/rest",
                          "status": str(status)}, status)

    # ------------------------------------------------------------------------- faults

    def secondary_rate_limit(self, retry_after: int = 1, **match: Any) -> None:
        self.faults.append(Fault(403, headers={"Retry-After": str(retry_after)},
                                 message="You have exceeded a secondary rate limit.", **match))

    def primary_rate_limit(self, reset_in: int = 2, **match: Any) -> None:
        self.faults.append(Fault(403, headers={
            "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + reset_in)},
            message="API rate limit exceeded for installation ID 77.", **match))

    def bad_gateway(self, **match: Any) -> None:
        self.faults.append(Fault(502, message="Server Error", **match))

    def conflict(self, **match: Any) -> None:
        self.faults.append(Fault(409, message="Conflict", **match))

    def bad_gateway_after(self, **match: Any) -> None:
        """GitHub did it, then answered 502 (a proxy timing out, a lost answer)."""
        self.faults.append(Fault(502, message="Server Error", after=True, **match))

    def pause(self, **match: Any) -> Fault:
        """The next matching request takes effect and its answer is held until
        ``fault.hold.set()``; ``fault.reached`` tells when it got there."""
        fault = Fault(0, hold=threading.Event(), **match)
        self.faults.append(fault)
        return fault

    def writes(self, who: str, since: float = 0.0) -> list[Call]:
        """The write requests made with token ``who`` (after ``since``, a monotonic time)."""
        return [c for c in self.history if c.who == who and c.write and c.at >= since]

    # ------------------------------------------------------------------------- operations

    def op_repos_get(self, request: Request, body: Any) -> Response:
        d = self.example("repos/get")
        d.update(allow_auto_merge=self.allow_auto_merge,
                 allow_squash_merge="SQUASH" in self.merge_methods,
                 allow_merge_commit="MERGE" in self.merge_methods,
                 allow_rebase_merge="REBASE" in self.merge_methods)
        d.update(name=self.name, full_name=f"{self.owner}/{self.name}", default_branch="main",
                 url=self.url().rstrip("/"), clone_url=str(self.bare.git_dir))
        return self.json(d)

    def op_git_get_ref(self, request: Request, body: Any, ref: str) -> Response:
        if not ref.startswith("heads/") or self.sha(ref[6:]) == "0" * 40:
            return self.error(404, "Not Found")
        d = self.example("git/get-ref")
        d.update(ref=f"refs/{ref}", url=self.url("git", "refs", ref))
        d["object"].update(sha=self.sha(ref[6:]), type="commit")
        return self.json(d)

    def _item(self, number: str) -> Item | None:
        return self.items.get(int(number))

    def op_issues_list_for_repo(self, request: Request, body: Any) -> Response:
        state = request.args.get("state", "open")
        wanted = [x for x in request.args.get("labels", "").split(",") if x]
        items = [i for i in sorted(self.items.values(), key=lambda i: -i.number)
                 if (state == "all" or i.state == state) and all(w in i.labels for w in wanted)]
        return self.page(request, [self.issue_json(i) for i in items])

    def op_issues_get(self, request: Request, body: Any, issue_number: str) -> Response:
        i = self._item(issue_number)
        return self.json(self.issue_json(i)) if i else self.error(404, "Not Found")

    def _new(self, **kw: Any) -> Item:
        number = max(self.items, default=0) + 1
        self.items[number] = Item(number=number, user="remediator[bot]", **kw)
        return self.items[number]

    def op_issues_create(self, request: Request, body: Any) -> Response:
        names = [x if isinstance(x, str) else x.get("name") for x in body.get("labels", [])]
        i = self._new(title=str(body["title"]), body=body.get("body") or "", labels=names,
                      assignees=body.get("assignees", []))
        return self.json(self.issue_json(i), 201)

    def op_issues_update(self, request: Request, body: Any, issue_number: str) -> Response:
        i = self._item(issue_number)
        if i is None:
            return self.error(404, "Not Found")
        for key in ("title", "body", "state", "assignees"):
            if key in body:
                setattr(i, key, body[key])
        if "labels" in body:
            i.labels = [x if isinstance(x, str) else x.get("name") for x in body["labels"]]
        i.updated_at = now_iso()
        return self.json(self.issue_json(i))

    def op_issues_create_comment(self, request: Request, body: Any, issue_number: str
                                 ) -> Response:
        i = self._item(issue_number)
        if i is None:
            return self.error(404, "Not Found")
        d = self.example("issues/create-comment")
        d.update(id=len(i.comments) + 1000 * i.number, body=body["body"],
                 user=self.user("remediator[bot]"), created_at=now_iso(),
                 issue_url=self.url("issues", i.number))
        i.comments.append(d)
        return self.json(d, 201)

    def op_issues_list_comments(self, request: Request, body: Any, issue_number: str
                                ) -> Response:
        i = self._item(issue_number)
        return self.page(request, i.comments) if i else self.error(404, "Not Found")

    def op_pulls_create(self, request: Request, body: Any) -> Response:
        head = str(body["head"]).split(":")[-1]
        if self.sha(head) == "0" * 40:
            return self.error(422, "Validation Failed: head invalid")
        if any(p.head == head and p.state == "open" for p in self.pulls()):
            return self.error(422, f"Validation Failed: A pull request already exists for "
                                   f"{self.owner}:{head}.")
        i = self._new(title=str(body["title"]), body=body.get("body") or "", head=head,
                      base=str(body["base"]), draft=bool(body.get("draft", False)))
        return self.json(self.pull_json(i), 201)

    def op_pulls_list(self, request: Request, body: Any) -> Response:
        state = request.args.get("state", "open")
        head = request.args.get("head", "").split(":")[-1]
        items = [p for p in sorted(self.pulls(), key=lambda i: -i.number)
                 if (state == "all" or p.state == state) and (not head or p.head == head)]
        return self.page(request, [self.pull_json(p) for p in items])

    def op_pulls_get(self, request: Request, body: Any, pull_number: str) -> Response:
        i = self._item(pull_number)
        return self.json(self.pull_json(i)) if i and i.head else self.error(404, "Not Found")

    def op_pulls_update(self, request: Request, body: Any, pull_number: str) -> Response:
        i = self._item(pull_number)
        if i is None or i.head is None:
            return self.error(404, "Not Found")
        for key in ("title", "body", "state", "base"):
            if key in body:
                setattr(i, key, body[key])
        i.updated_at = now_iso()
        return self.json(self.pull_json(i))

    def op_pulls_request_reviewers(self, request: Request, body: Any, pull_number: str
                                   ) -> Response:
        i = self._item(pull_number)
        if i is None or i.head is None:
            return self.error(404, "Not Found")
        i.reviewers += [r for r in body.get("reviewers", []) if r not in i.reviewers]
        i.teams += [t for t in body.get("team_reviewers", []) if t not in i.teams]
        return self.json(self.pull_json(i), 201)

    def op_apps_get_repo_installation(self, request: Request, body: Any) -> Response:
        d = self.example("apps/get-repo-installation")
        d.update(id=self.installation_id, app_id=self.app_id,
                 access_tokens_url=f"{self.base_url}/app/installations/{self.installation_id}"
                                   "/access_tokens")
        return self.json(d)

    def op_apps_create_installation_access_token(self, request: Request, body: Any,
                                                 installation_id: str) -> Response:
        if int(installation_id) != self.installation_id:
            return self.error(404, "Not Found")
        token = f"ghs_emulated{len(self.tokens)}"
        self.tokens.add(token)
        d = self.example("apps/create-installation-access-token")
        d.update(token=token, expires_at=datetime.fromtimestamp(
            time.time() + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        return self.json(d, 201)
