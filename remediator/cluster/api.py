"""The Kubernetes API as raw JSON through the official client's connection handling.

The `kubernetes` client gives us kubeconfig / in-cluster loading, contexts, TLS, tokens and
exec-plugin refresh. Its typed models are not used: deserialising a 10,000-pod list into them
costs many times what `json.loads` does (bench/scan.py `scan_vs_typed_models`), and the later
stages want plain dicts anyway. So requests go through `ApiClient.param_serialize`/`call_api`
and bodies are read as bytes (`_preload_content=False` in the client's terms).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

JSON = dict[str, Any]


class ClusterError(RuntimeError):
    """The cluster cannot be reached or used; the message is one line."""


class ApiError(Exception):
    """A failed request, or an ERROR event in a watch stream: the ``Status`` the API server
    answered (``reason`` and the ``details.causes`` reasons and messages, when it gave them)."""

    def __init__(self, status: int, message: str, reason: str = "",
                 causes: tuple[str, ...] = ()):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.reason = reason
        self.causes = causes

    @classmethod
    def of_status(cls, status: int, body: Any, fallback: str = "") -> ApiError:
        """From a ``Status`` object (anything else: ``fallback`` is the message); ``status`` is
        the HTTP status, 0 for a watch's ERROR event (the Status's ``code`` then)."""
        if not isinstance(body, dict):
            return cls(status, fallback)
        details = body.get("details")
        details = details if isinstance(details, dict) else {}
        causes = tuple(str(c.get(k) or "") for c in details.get("causes") or []
                       if isinstance(c, dict) for k in ("reason", "message"))
        code = status or body.get("code")
        return cls(code if isinstance(code, int) else 0, str(body.get("message") or fallback),
                   str(body.get("reason") or ""), causes)


@dataclass(frozen=True)
class Kind:
    """A watched resource type."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace and self.namespaced:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


#: what detect and locate read (DESIGN.md snapshot kinds). Secrets are deliberately absent.
CORE_KINDS = (
    Kind("", "v1", "pods", "Pod"),
    Kind("", "v1", "events", "Event"),
    Kind("", "v1", "nodes", "Node", namespaced=False),
    Kind("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
    Kind("apps", "v1", "replicasets", "ReplicaSet"),
    Kind("apps", "v1", "deployments", "Deployment"),
    Kind("apps", "v1", "statefulsets", "StatefulSet"),
    Kind("apps", "v1", "daemonsets", "DaemonSet"),
    Kind("batch", "v1", "jobs", "Job"),
    Kind("batch", "v1", "cronjobs", "CronJob"),
    Kind("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
)
#: GitOps controllers' objects: (group, plural, kind), version discovered, skipped when absent
GITOPS_KINDS = (
    ("argoproj.io", "applications", "Application"),
    ("kustomize.toolkit.fluxcd.io", "kustomizations", "Kustomization"),
    ("helm.toolkit.fluxcd.io", "helmreleases", "HelmRelease"),
    ("source.toolkit.fluxcd.io", "gitrepositories", "GitRepository"),
    # Flux 2.7: a Kustomization may deploy an ExternalArtifact an ArtifactGenerator builds
    ("source.toolkit.fluxcd.io", "externalartifacts", "ExternalArtifact"),
    ("source.extensions.fluxcd.io", "artifactgenerators", "ArtifactGenerator"),
)


def connect(context: str | None = None, kubeconfig: str | None = None) -> k8s_client.ApiClient:
    """An API client: the service account when running in a pod (and no context is asked for),
    else the kubeconfig (``$KUBECONFIG`` or ~/.kube/config) and its current or given context."""
    try:
        if context is None and kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            configuration = k8s_client.Configuration()
            k8s_config.load_incluster_config(client_configuration=configuration)
        else:
            configuration = k8s_client.Configuration()
            k8s_config.load_kube_config(config_file=kubeconfig, context=context,
                                        client_configuration=configuration)
        # one long-lived connection per watch, plus lists and logs
        configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize, 64)
    except (ConfigException, OSError, TypeError, ValueError) as exc:
        where = f" (context {context})" if context else ""
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(f"cannot load the cluster configuration{where}: {first}") from None
    return k8s_client.ApiClient(configuration)


class RawClient:
    """GET requests returning raw bytes, lines of a watch stream, or text (logs)."""

    def __init__(self, api_client: k8s_client.ApiClient, timeout: float = 30.0):
        self.api = api_client
        self.timeout = timeout
        self._streams: set[Any] = set()
        self._lock = threading.Lock()
        self.closed = False

    def close_streams(self) -> None:
        """Cut every open watch stream (shutting down: their readers return at once)."""
        with self._lock:
            self.closed = True
            streams = list(self._streams)
        for resp in streams:
            shutdown = getattr(resp, "shutdown", None)  # urllib3 >= 2.3: safe across threads
            (shutdown or resp.close)()

    @property
    def host(self) -> str:
        return str(self.api.configuration.host)

    def _call(self, path: str, query: dict[str, str], read_timeout: float | None = None) -> Any:
        params = [(k, v) for k, v in query.items() if v not in ("", None)]
        method, url, headers, _, _ = self.api.param_serialize(
            "GET", path, query_params=params, header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"])
        try:
            resp = self.api.call_api(method, url, headers,
                                     _request_timeout=(self.timeout, read_timeout or self.timeout))
        except k8s_client.ApiException as exc:
            raise ApiError.of_status(exc.status or 0, _json_or_none(exc.body),
                                     str(exc.reason)) from None
        except urllib3.exceptions.MaxRetryError as exc:
            raise ApiError(0, f"cannot reach {self.host}: {exc.reason}") from None
        if not 200 <= resp.status <= 299:
            body = resp.read() or b""
            status = _json_or_none(body)
            shown = resp.reason if isinstance(status, dict) else (
                body[:200].decode(errors="replace") or resp.reason)
            raise ApiError.of_status(resp.status, status, str(shown))
        return resp.response  # the urllib3 response, not yet read

    def get(self, path: str, query: dict[str, str] | None = None) -> bytes:
        resp = self._call(path, query or {})
        return bytes(resp.data)

    def get_json(self, path: str, query: dict[str, str] | None = None) -> JSON:
        data = json.loads(self.get(path, query))
        if not isinstance(data, dict):
            raise ApiError(0, f"{path}: expected a JSON object")
        return data

    def watch_lines(self, path: str, query: dict[str, str], timeout_seconds: int
                    ) -> Iterator[bytes]:
        """Lines of a watch stream; the read timeout is a little longer than the server's."""
        resp = self._call(path, {**query, "watch": "true",
                                 "timeoutSeconds": str(timeout_seconds)},
                          read_timeout=timeout_seconds + 15)
        with self._lock:
            if self.closed:  # closed while this watch was being opened
                resp.release_conn()
                return
            self._streams.add(resp)
        try:
            buffer = b""
            for chunk in resp.stream(amt=None, decode_content=False):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield line
        finally:
            with self._lock:
                self._streams.discard(resp)
            resp.release_conn()

    def text(self, path: str, query: dict[str, str]) -> str:
        return self.get(path, query).decode("utf-8", errors="replace")


def _json_or_none(body: Any) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, TypeError):
        return None


def discover_gitops(raw: RawClient) -> tuple[list[Kind], list[str]]:
    """The Argo CD / Flux kinds served here (preferred version), and notes on absent ones."""
    found: list[Kind] = []
    notes: list[str] = []
    for group, plural, kind in GITOPS_KINDS:
        try:
            info = raw.get_json(f"/apis/{group}")
            gv = str((info.get("preferredVersion") or {}).get("groupVersion") or "")
            resources = raw.get_json(f"/apis/{gv}").get("resources") or [] if gv else []
        except ApiError as exc:
            if exc.status in (403, 404):
                notes.append(f"{kind} ({group}) not served: not watched")
                continue
            raise
        if any(r.get("name") == plural for r in resources if isinstance(r, dict)):
            found.append(Kind(group, gv.split("/", 1)[1], plural, kind))
        else:
            notes.append(f"{kind} ({group}) not served: not watched")
    return found, notes
