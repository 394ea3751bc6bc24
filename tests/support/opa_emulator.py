"""A local OPA server for tests: OPA's Data and Policy API over real HTTP on loopback, evaluated
by a real Rego engine (the real OPA through opa-golib-python-bindings when it is installed, else
regorus).

Endpoints, with OPA's shapes:
- ``GET /health`` -> 200 ``{}``;
- ``PUT /v1/policies/{id}`` (text/plain Rego) -> 200 ``{}``; a module that does not compile with
  the others -> 400 ``{"code": "invalid_parameter", "message": "error(s) occurred while compiling
  module(s)", "errors": [{"code", "message", "location": {"file", "row", "col"}}]}`` and nothing
  is stored;
- ``GET /v1/policies`` -> ``{"result": [{"id", "raw", "ast"}]}``, ``GET|DELETE
  /v1/policies/{id}`` -> ``{"result": {...}}`` / ``{}``, 404 ``resource_not_found``;
- ``PUT /v1/data/{path}`` (JSON) -> 204; ``GET /v1/data/{path}`` and ``POST /v1/data/{path}``
  with ``{"input": ...}`` -> ``{"result": value}`` (``{}`` when undefined); an evaluation error ->
  500 ``{"code": "internal_error", "message": "1 error occurred: file:row: ..."}``.

One request at a time (a plain ``HTTPServer`` in one thread): regorus engines must stay in the
thread that made them, and are also dropped there, so tests change the server's state through
HTTP too (``preload``, ``restart``). ``delay_seconds`` holds every answer back (for client
timeouts); ``fail_status`` answers every request with that status.

Also here: ``OpaBindingsEngine``, the real OPA called in process behind the ``PolicyEngine``
interface, the reference engine of the conformance suite and the bench.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from remediator.gate import answers, modules, opa_server, policy
from remediator.gate.sources import PolicySource, is_test_file

_LOCATED = re.compile(r"^(?P<file>[^\s:]+):(?P<row>\d+)(?::(?P<col>\d+))?:\s*(?P<message>.*)$")


class CompileError(Exception):
    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


class EvalError(Exception):
    pass


def _located(line: str, code: str) -> dict[str, Any]:
    match = _LOCATED.match(line.strip())
    if match is None:
        return {"code": code, "message": line.strip()}
    message = match["message"]
    inner = re.match(r"^(rego_\w+):\s*(.*)$", message)
    if inner:
        code, message = inner.group(1), inner.group(2)
    location = {"file": match["file"], "row": int(match["row"])}
    if match["col"]:
        location["col"] = int(match["col"])
    return {"code": code, "message": message, "location": location}


def opa_available() -> bool:
    try:
        import opa_bindings  # noqa: F401
    except ImportError:
        return False
    return True


class OpaBackend:
    """The real OPA (Go library) via opa-golib-python-bindings."""

    name = "opa"

    def __init__(self, policies: dict[str, str], data: dict[str, Any]):
        import opa_bindings

        self._errors = opa_bindings.OpaError
        self._undefined = opa_bindings.OpaUndefinedError
        self.engine = opa_bindings.OpaEngine()
        self.engine.print_handler = lambda message, location: None
        problems = []
        for policy_id, text in policies.items():
            try:
                self.engine.add_policy(policy_id, text)
            except self._errors as exc:
                problems += self._lines(exc.message)
        if not problems:
            self.engine.add_data(data)
            try:
                self.engine.eval_query("true")  # compiles every module together
            except self._errors as exc:
                problems += self._lines(exc.message)
        if problems:
            raise CompileError(problems)

    @staticmethod
    def _lines(message: str) -> list[dict[str, Any]]:
        lines = [ln for ln in message.splitlines() if _LOCATED.match(ln.strip())]
        if not lines:
            tail = re.sub(r"^.*?\d+ errors? occurred:\s*", "", message)
            lines = [tail] if tail else [message]
        return [_located(re.sub(r"^.*?\d+ errors? occurred:\s*", "", ln), "rego_compile_error")
                for ln in lines]

    def eval(self, path: str, input: Any, has_input: bool) -> Any:
        try:
            return self.engine.eval_document(path, input if has_input else None)
        except self._undefined:
            return None
        except self._errors as exc:
            raise EvalError(exc.message.removeprefix("eval_error: ")) from None


class RegorusBackend:
    """regorus, with remediator's static checks standing in for OPA's compiler."""

    name = "regorus"

    def __init__(self, policies: dict[str, str], data: dict[str, Any]):
        sources = [PolicySource(k, v) for k, v in policies.items()]
        # queries run on the interpreter (query() never uses the compiled program)
        self.engine = policy.RegorusEngine(sources, data, compiled=False)
        # what OPA's compiler would refuse: parse errors, unknown functions (not remediator's
        # own rule that deny belongs under remediator.policies)
        errors = [e for e in self.engine.errors if "is never evaluated" not in e]
        if errors:
            raise CompileError([_located(e.removeprefix("policy error: "), "rego_compile_error")
                                for e in errors])

    def eval(self, path: str, input: Any, has_input: bool) -> Any:
        try:
            return self.engine.query(f"data.{path}" if path else "data",
                                     input if has_input else None)
        except RuntimeError as exc:
            raise EvalError(modules.one_line(exc)) from None


class OpaEmulator:
    """``with OpaEmulator() as opa: opa.url`` -> a running server on 127.0.0.1."""

    def __init__(self, backend: str = "auto"):
        if backend == "auto":
            backend = "opa" if opa_available() else "regorus"
        self.backend_class = OpaBackend if backend == "opa" else RegorusBackend
        self.backend_name = backend
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.authorization: set[str] = set()  # Authorization headers seen
        self.delay_seconds = 0.0
        self.fail_status = 0
        self._compiled: Any = None
        self._server = HTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> OpaEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.delay_seconds, self.fail_status = 0.0, 0
        self.restart()  # the compiled engine is dropped in the server's thread
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # ------------------------------------------------------------------- the server's state

    def compiled(self) -> Any:
        if self._compiled is None:
            self._compiled = self.backend_class(self.policies, self.data)
        return self._compiled

    def put_policy(self, policy_id: str, text: str) -> None:
        candidate = {**self.policies, policy_id: text}
        compiled = self.backend_class(candidate, self.data)  # raises CompileError
        self.policies, self._compiled = candidate, compiled

    def put_data(self, path: list[str], value: Any) -> None:
        if not path:
            self.data = value
        else:
            node = self.data
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = value
        self._compiled = None

    def _call(self, method: str, path: str, body: bytes = b"") -> int:
        request = urllib.request.Request(self.url + path, data=body or None, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def preload(self, policy_id: str, text: str) -> None:
        """Load a policy as an operator would (a bundle or a PUT of their own)."""
        status = self._call("PUT", f"/v1/policies/{policy_id}", text.encode())
        assert status == 200, f"{policy_id}: HTTP {status}"

    def restart(self) -> None:
        """Forget everything, as a restarted OPA without bundles does."""
        assert self._call("POST", "/_emulator/restart") == 204

    def _forget(self) -> None:
        self.policies, self.data, self._compiled = {}, {}, None


def _handler(state: OpaEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: Any = None) -> None:
            raw = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _route(self, method: str) -> None:
            path = unquote(urlsplit(self.path).path)
            state.requests.append((method, path))
            if self.headers.get("Authorization"):
                state.authorization.add(self.headers["Authorization"])
            body = self._body()
            if state.delay_seconds:
                time.sleep(state.delay_seconds)
            if state.fail_status:
                self._send(state.fail_status, {"code": "internal_error",
                                               "message": "emulated failure"})
                return
            if path == "/_emulator/restart":
                state._forget()
                self._send(204)
            elif path == "/health" and method == "GET":
                self._send(200, {})
            elif path.startswith("/v1/policies"):
                self._policies(method, path.removeprefix("/v1/policies").strip("/"), body)
            elif path.startswith("/v1/data"):
                self._data(method, [p for p in path.removeprefix("/v1/data").split("/") if p],
                           body)
            else:
                self._send(404, {"code": "resource_not_found", "message": f"{path} not found"})

        def _policies(self, method: str, policy_id: str, body: bytes) -> None:
            if not policy_id and method == "GET":
                self._send(200, {"result": [{"id": k, "raw": v, "ast": {}}
                                            for k, v in state.policies.items()]})
            elif method == "PUT" and policy_id:
                try:
                    state.put_policy(policy_id, body.decode("utf-8"))
                except CompileError as exc:
                    self._send(400, {"code": "invalid_parameter",
                                     "message": "error(s) occurred while compiling module(s)",
                                     "errors": exc.errors})
                    return
                self._send(200, {})
            elif policy_id not in state.policies:
                self._send(404, {"code": "resource_not_found",
                                 "message": f'storage_not_found_error: policy id "{policy_id}"'})
            elif method == "GET":
                self._send(200, {"result": {"id": policy_id, "raw": state.policies[policy_id],
                                            "ast": {}}})
            elif method == "DELETE":
                rest = {k: v for k, v in state.policies.items() if k != policy_id}
                state.policies, state._compiled = rest, None
                self._send(200, {})
            else:
                self._send(405, {"code": "invalid_parameter", "message": "method not allowed"})

        def _data(self, method: str, path: list[str], body: bytes) -> None:
            if method == "PUT":
                try:
                    state.put_data(path, json.loads(body or b"null"))
                except ValueError as exc:
                    self._send(400, {"code": "invalid_parameter", "message": str(exc)})
                    return
                self._send(204)
                return
            if method not in ("GET", "POST"):
                self._send(405, {"code": "invalid_parameter", "message": "method not allowed"})
                return
            try:
                doc = json.loads(body) if body else {}
            except ValueError as exc:
                self._send(400, {"code": "invalid_parameter", "message": f"body: {exc}"})
                return
            has_input = isinstance(doc, dict) and "input" in doc
            try:
                value = state.compiled().eval(".".join(path), doc.get("input"), has_input)
            except CompileError as exc:
                self._send(500, {"code": "internal_error", "message": str(exc)})
                return
            except EvalError as exc:
                self._send(500, {"code": "internal_error", "message": f"1 error occurred: {exc}"})
                return
            self._send(200, {} if value is None else {"result": value})

        def do_GET(self) -> None:
            self._route("GET")

        def do_PUT(self) -> None:
            self._route("PUT")

        def do_POST(self) -> None:
            self._route("POST")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler


def declared_test_rules(srcs: list[PolicySource]) -> set[str]:
    """``data.<package>.test_...`` names read from the test files' text (not from an engine)."""
    names = set()
    for src in srcs:
        if is_test_file(src.name):
            package = opa_server._PACKAGE.search(src.text)
            assert package
            names |= {f"data.{package.group(1)}.{r}" for r in opa_server._TEST_RULE.findall(
                src.text)}
    return names


class OpaBindingsEngine:
    """The real OPA in process (test-only reference: its wheel wants Python >= 3.14)."""

    name = "opa-bindings"

    def __init__(self, srcs: list[PolicySource], data: dict[str, Any]):
        import opa_bindings

        self.engine = opa_bindings.OpaEngine()
        self.engine.print_handler = lambda message, location: None
        for src in srcs:
            self.engine.add_policy(src.name, src.text)
        self.engine.add_data(data)
        self.packages = opa_server.packages_of(srcs)
        self.sources = srcs

    def evaluate(self, input: Any) -> answers.Evaluation:
        tree = self.engine.eval_document("remediator.policies", input)
        out = answers.Evaluation()
        for package in self.packages:
            messages, errors = answers.deny_messages(package, answers.lookup(tree, package))
            out.violations += messages
            out.errors += errors
        return out

    def run_tests(self) -> list[answers.PolicyTest]:
        results = []
        tests = declared_test_rules(self.sources)
        for package in sorted({n.rsplit(".", 1)[0] for n in tests}):
            document = self.engine.eval_document(package.removeprefix("data."))
            for name in sorted(n for n in tests if n.rsplit(".", 1)[0] == package):
                value = document.get(name.rsplit(".", 1)[1])
                results.append(answers.PolicyTest(name, value not in (None, False), ""))
        return results
