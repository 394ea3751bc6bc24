"""The OPA server engine: the same policies, input and query, evaluated by an OPA server.

Production runs an OPA sidecar or a central OPA; we talk to its REST API through
``opa-python-client``:

- ``GET /health`` before first use (and again after a failure);
- with ``pushPolicies`` (the default), every policy file is uploaded with
  ``PUT /v1/policies/remediator/<name>`` and the configuration with
  ``PUT /v1/data/remediator/config``; policies we pushed earlier that are no longer configured
  are deleted. Without it the server must have them preloaded (a bundle);
- every evaluation is ``POST /v1/data/remediator/policies`` with ``{"input": ...}``, read as the
  embedded engine reads ``data.remediator.policies``.

Fail closed: an unreachable or unhealthy server, a timeout, an HTTP error, a policy the server
does not compile, a runtime error, a configured package missing on the server, a ``deny`` that is
not a set: each is a one-line ``policy error: ...`` naming the policy file (or package) and the
request, and the check fails.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..kernel.redact import register
from . import analysis, conftest
from .answers import (
    Evaluation,
    PolicyTest,
    add_conftest,
    deny_messages,
    lookup,
    package_node,
    rule_id,
)
from .sources import is_test_file

if TYPE_CHECKING:
    import requests

    from ..model import JSON
    from ..model.settings import OpaServer
    from .sources import PolicySource

# `requests` (with urllib3, ~40 ms) is imported by the methods that talk to the server: an
# engine exists only when validation.policyEngine is opa, and `remediator validate` with the
# embedded engine never needs it (start-up time, bench/startup.py)

_log = logging.getLogger(__name__)

ID_PREFIX = "remediator/"  # policy ids we own on the server: remediator/builtin/security.rego
OPA_TOKEN_ENV = "REMEDIATOR_OPA_TOKEN"  # sent as a bearer token when set
OPA_URL_ENV = "REMEDIATOR_OPA_URL"  # the server when validation.opa.url is not set
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)", re.MULTILINE)
_COUNT = re.compile(r"^\d+ errors? occurred:\s*")


class OpaFailure(Exception):
    """One line that says what failed (the caller adds ``policy error:``)."""


def _strip_ids(text: str) -> str:
    """OPA names a file by its policy id: show the file as the other engine does."""
    return re.sub(rf"(?<![\w/]){re.escape(ID_PREFIX)}", "", text)


def _error_lines(body: Any) -> list[str]:
    """OPA's error document (``{code, message, errors: [{code, message, location}]}``) as lines."""
    if not isinstance(body, dict):
        return [str(body)[:200]]
    lines = []
    for err in body.get("errors") or []:
        if not isinstance(err, dict):
            continue
        loc = err.get("location") or {}
        where = ":".join(str(loc[k]) for k in ("file", "row", "col") if loc.get(k) is not None)
        text = f"{err.get('code', 'error')}: {err.get('message', '')}"
        lines.append(f"{where}: {text}" if where else text)
    if not lines:
        message = " ".join(str(body.get("message") or body.get("code") or body).split())
        lines = [_COUNT.sub("", message)]
    return [_strip_ids(line) for line in lines]


def _response_lines(response: requests.Response | None) -> list[str]:
    if response is None:
        return ["no response"]
    try:
        lines = _error_lines(response.json())
    except ValueError:
        lines = [" ".join(response.text.split())[:200] or response.reason]
    return [f"HTTP {response.status_code}: {line}" for line in lines]


def _package(src: PolicySource) -> str:
    match = _PACKAGE.search(src.text)
    return match.group(1).removeprefix("data.") if match else ""


def conftest_packages(sources: Sequence[PolicySource], namespaces: conftest.Namespaces
                      ) -> tuple[list[str], list[str]]:
    """The conftest namespaces evaluated (packages of the conftest non-test files, selected),
    and an error per selected namespace no file declares."""
    declared = {_package(s) for s in sources
                if s.conftest and not is_test_file(s.name) and _package(s)}
    return namespaces.select(declared), namespaces.errors(declared)


def packages_of(sources: Sequence[PolicySource]) -> list[str]:
    """Evaluated packages (under remediator.policies) declared by the non-test sources (not the
    conftest ones: their namespaces are chosen in validation.conftest)."""
    found = set()
    for src in sources:
        match = _PACKAGE.search(src.text)
        if match is None or is_test_file(src.name) or src.conftest:
            continue
        package = match.group(1).removeprefix("data.")
        if analysis.Module(src.name, package).evaluated:
            found.add(package)
    return sorted(found)


def never_evaluated(sources: Sequence[PolicySource]) -> list[str]:
    """Sources that define ``deny`` outside remediator.policies (the embedded engine's static
    check says the same): such a policy would silently never run."""
    out = []
    for src in sources:
        match = _PACKAGE.search(src.text)
        package = match.group(1).removeprefix("data.") if match else ""
        if (is_test_file(src.name) or src.conftest
                or analysis.Module(src.name, package).evaluated):
            continue
        if re.search(r"^deny\b", src.text, re.MULTILINE):
            out.append(f"policy error: {src.name}: package {package} defines deny but is never "
                       f"evaluated: policies must be in a package under {analysis.POLICY_ROOT}, "
                       f"or be conftest policies (validation.conftest).")
    return out


def _walk(tree: Any, prefix: str, out: set[str], depth: int = 0) -> None:
    """Packages with a ``deny`` in a ``data.remediator.policies`` tree (preloaded policies)."""
    if not isinstance(tree, dict) or depth > 8:
        return
    if "deny" in tree:
        out.add(prefix)
    for key, value in tree.items():
        if key != "deny" and isinstance(value, dict) and re.fullmatch(r"\w+", key):
            _walk(value, f"{prefix}.{key}", out, depth + 1)


class OpaServerEngine:
    """``PolicyEngine`` backed by an OPA server; set up lazily, again after a failure."""

    name = "opa-server"

    def __init__(self, sources: Sequence[PolicySource], data: JSON, settings: OpaServer,
                 url: str, errors: Sequence[str] = (),
                 namespaces: conftest.Namespaces = conftest.MAIN, token: str | None = None):
        self.url = url.rstrip("/")
        self.settings = settings
        self.errors = [*errors, *never_evaluated(sources)]
        self._sources = list(sources)
        self._data = data
        self.packages = packages_of(self._sources)
        self.conftest_packages, problems = conftest_packages(self._sources, namespaces)
        self.errors += problems
        self._ready = False
        self._lock = threading.Lock()
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self._client = None  # every evaluation fails with this error
            self.errors.append(
                f"policy error: OPA server URL {url!r} is not like http://127.0.0.1:8181"
                if url else "policy error: validation.policyEngine is opa but no server is "
                f"configured (validation.opa.url or {OPA_URL_ENV})")
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        register(token)  # masked by value wherever an error might quote it
        # imported here: opa_client loads aiohttp, which `remediator validate` with the
        # embedded engine never needs (start-up time, bench/startup.py)
        from opa_client.opa import OpaClient

        self._client = OpaClient(host=parts.hostname, port=port, ssl=parts.scheme == "https",
                                 timeout=settings.timeout_seconds, retries=0, token=token)

    # ------------------------------------------------------------------------------ set-up

    def _where(self, what: str) -> str:
        return f"OPA server {self.url} ({what})"

    def _setup(self) -> None:
        import requests

        assert self._client is not None
        if not self._client.check_health():
            raise OpaFailure(f"{self._where('GET /health')}: unreachable or unhealthy "
                             f"(timeout {self.settings.timeout_seconds:g}s)")
        if not self.settings.push_policies:
            return
        ours = {ID_PREFIX + src.name for src in self._sources}
        try:
            stale = [p for p in self._client.get_policies_list()
                     if p.startswith(ID_PREFIX) and p not in ours]
            for policy_id in stale:
                self._client.delete_policy(policy_id)
        except requests.RequestException as exc:
            raise OpaFailure(f"{self._where('GET /v1/policies')}: {self._reason(exc)}") from None
        except Exception as exc:  # opa_client's own errors carry (code, message)
            _log.debug("OPA server: DELETE /v1/policies failed", exc_info=True)
            raise OpaFailure(f"{self._where('DELETE /v1/policies')}: "
                             f"{getattr(exc, 'message', exc)}") from None
        from opa_client.errors import RegoParseError

        failures = []
        evaluated = set(self.conftest_packages)
        for src in sorted(self._sources, key=lambda s: _push_order(s, evaluated)):
            try:
                self._client.update_policy_from_string(src.text, ID_PREFIX + src.name,
                                                       rego_compat=False)
            except RegoParseError as exc:
                failures += _error_lines({"message": exc.message, "errors": exc.errors}) \
                    if exc.errors else [f"{src.name}: {exc.message}"]
            except requests.RequestException as exc:
                raise OpaFailure(f"{self._where('PUT /v1/policies/' + ID_PREFIX + src.name)}: "
                                 f"{self._reason(exc)}") from None
            except ValueError as exc:  # a body that is not OPA's JSON error document
                failures.append(f"{src.name}: the server answered without JSON: {exc}")
        if failures:  # the server refuses a module: nothing it would answer can be trusted
            raise OpaFailure("\n".join(dict.fromkeys(failures)))
        # our settings, then the conftest data files (merged at the data root)
        documents = [("remediator/config", self._data.get("remediator", {}).get("config", {})),
                     *((k, v) for k, v in self._data.items() if k != "remediator")]
        for route, value in documents:
            try:
                self._put_data(route, value)
            except requests.RequestException as exc:
                raise OpaFailure(f"{self._where('PUT /v1/data/' + route)}: "
                                 f"{self._reason(exc)}") from None

    def _put_data(self, route: str, value: Any) -> None:
        """``PUT /v1/data/<route>`` of any JSON value (a conftest data file's lists and scalars:
        the client's ``update_or_create_data`` takes only objects), on the client's session
        (its token and TLS settings)."""
        import requests

        assert self._client is not None
        response = self._client._session.put(f"{self._client.root_url}/data/{route}", json=value,
                                             timeout=self.settings.timeout_seconds)
        if response.status_code != 204:
            raise requests.HTTPError(response=response)

    def _ensure_ready(self, again: bool = False) -> None:
        with self._lock:
            if again:
                self._ready = False
            if not self._ready:
                self._setup()
                self._ready = True

    def _reason(self, exc: requests.RequestException) -> str:
        import requests

        if isinstance(exc, requests.Timeout):
            return f"no answer within {self.settings.timeout_seconds:g}s"
        if isinstance(exc, requests.ConnectionError):
            return "unreachable"
        if isinstance(exc, requests.HTTPError):
            return "; ".join(_response_lines(exc.response))
        return type(exc).__name__

    # -------------------------------------------------------------------------- evaluation

    def query(self, path: str, input: JSON | None = None) -> Any:
        """The value of ``data.<path>`` (None when undefined); raises OpaFailure."""
        import requests

        assert self._client is not None
        route = path.removeprefix("data.").replace(".", "/")
        try:
            body = self._client.query_rule(input, route)
        except requests.RequestException as exc:
            if not isinstance(exc, requests.HTTPError):
                self._ready = False  # check health (and push) again before the next request
            raise OpaFailure(f"{self._where('POST /v1/data/' + route)}: "
                             f"{self._reason(exc)}") from None
        except ValueError as exc:
            raise OpaFailure(f"{self._where('POST /v1/data/' + route)}: not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise OpaFailure(f"{self._where('POST /v1/data/' + route)}: not a result document")
        return body.get("result")

    def evaluate(self, input: JSON) -> Evaluation:
        out = Evaluation(errors=list(self.errors))
        if self._client is None:
            return out
        try:
            self._ensure_ready()
            tree = self.query(analysis.POLICY_ROOT, input)
            missing = [p for p in self.packages if not _defined(tree, p)]
            if missing and self.settings.push_policies:  # a restarted server lost them
                self._ensure_ready(again=True)
                tree = self.query(analysis.POLICY_ROOT, input)
        except OpaFailure as exc:
            out.errors += [f"policy error: {line}" for line in str(exc).splitlines()]
            return out
        packages = set(self.packages)
        if not self.settings.push_policies:
            _walk(tree, analysis.POLICY_ROOT, packages)
        for package in sorted(packages):
            if not _defined(tree, package):
                how = "pushed" if self.settings.push_policies else "preloaded (pushPolicies: false)"
                out.errors.append(f"policy error: package {package} is not on "
                                  f"{self._where('POST /v1/data/remediator/policies')}: "
                                  f"it was {how} but the server does not have it")
                continue
            messages, errors = deny_messages(package, lookup(tree, package))
            out.violations += messages
            out.errors += errors
            for message in messages:
                out.rules.setdefault(message, rule_id(package))
        for namespace in self.conftest_packages:  # the object itself is conftest's input
            try:
                document = self.query(f"data.{namespace}", input.get("after"))
            except OpaFailure as exc:
                out.errors += [f"policy error: {line}" for line in str(exc).splitlines()]
                continue
            add_conftest(out, namespace, document)
        return out

    def run_tests(self) -> list[PolicyTest]:
        """Every ``test_`` rule of the loaded ``*_test.rego`` sources, queried on the server."""
        try:
            self._ensure_ready()
        except OpaFailure as exc:
            return [PolicyTest("(load)", False, f"policy error: {line}")
                    for line in str(exc).splitlines()]
        results = []
        for src in self._sources:
            match = _PACKAGE.search(src.text)
            if match is None or not is_test_file(src.name):
                continue
            package = f"data.{match.group(1)}"
            try:  # one request for the package; rule by rule only to name an error
                document = self.query(package)
            except OpaFailure:
                document = None
            for rule in sorted(set(_TEST_RULE.findall(src.text))):
                results.append(self._test(f"{package}.{rule}", document, rule))
        return results

    def _test(self, name: str, document: Any, rule: str) -> PolicyTest:
        if isinstance(document, dict):
            value = document.get(rule)
        else:
            try:
                value = self.query(name)
            except OpaFailure as exc:
                return PolicyTest(name, False, str(exc))
        if value is None:
            return PolicyTest(name, False, "undefined: a condition did not hold")
        return PolicyTest(name, value is not False, "false" if value is False else "")


def _push_order(src: PolicySource, conftest_evaluated: Collection[str] = ()
                ) -> tuple[bool, bool]:
    """Libraries before the policies that call their functions, tests last: OPA compiles each
    module as it arrives and refuses a call to a function it does not have yet."""
    package = _package(src)
    evaluated = analysis.Module(src.name, package).evaluated or (
        src.conftest and package in conftest_evaluated)
    return is_test_file(src.name), evaluated


def _defined(tree: Any, package: str) -> bool:
    return isinstance(package_node(tree, package), dict)


@functools.lru_cache(maxsize=16)
def _cached(sources: tuple[PolicySource, ...], data: str, settings: OpaServer, url: str,
            errors: tuple[str, ...], namespaces: conftest.Namespaces,
            token: str | None) -> OpaServerEngine:
    return OpaServerEngine(sources, json.loads(data), settings, url, errors, namespaces, token)


def server_engine(sources: Sequence[PolicySource], data: JSON, settings: OpaServer, url: str,
                  errors: Sequence[str] = (),
                  namespaces: conftest.Namespaces = conftest.MAIN,
                  token: str | None = None) -> OpaServerEngine:
    """An engine for this server, sources and data (and bearer ``token``), reused (pushed once)
    while they stay the same."""
    return _cached(tuple(sources), json.dumps(data, sort_keys=True), settings, url,
                   tuple(errors), namespaces, token)
