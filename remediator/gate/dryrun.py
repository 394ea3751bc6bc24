"""Server-side dry-run: would the cluster's API server accept the changed object?

The rendered object is sent as a server-side apply (``PATCH`` with
``application/apply-patch+yaml``, ``fieldManager=remediator``, ``force=true``) with
``dryRun=All``: the API server defaults, validates and runs admission (webhooks included) and
stores nothing. Through the official ``kubernetes`` client: ``DynamicClient`` finds the
resource by discovery, so any kind the cluster serves (CRDs too) can be checked.

``validation.dryRun``:
- ``auto`` (default): run when a cluster is configured and answers; otherwise the check is
  reported as not run (never as passed);
- ``true``: required: no cluster, or one that does not answer, fails the check;
- ``false``: not run.

The cluster: in a pod, the service account (``KUBERNETES_SERVICE_HOST``); else the kubeconfig
(``KUBECONFIG`` or ``~/.kube/config``, its current context). An API error (422 invalid, 403
admission webhook denial, 404 unknown namespace or kind...) fails the check with the API
server's message.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import CheckResult

if TYPE_CHECKING:
    from kubernetes import client
    from kubernetes.dynamic.exceptions import DynamicApiError

    from ..model import JSON

# The kubernetes client is imported where a cluster is asked, not with this module: it costs
# about half a second, which `remediator validate` and `--help` never need (bench/startup.py).

_log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
FIELD_MANAGER = "remediator"
#: set by the API server: sending them back would be refused or conflict
SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields",
                 "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")


class Unreachable(Exception):
    """No cluster to ask (one line: why)."""


def api_client(context: str | None = None, kubeconfig: str | None = None) -> client.ApiClient:
    """A client for the cluster we run in, else the kubeconfig's current (or given) context."""
    if context is None and kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        configuration = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise Unreachable(f"in-cluster configuration: {exc}") from None
        return client.ApiClient(configuration)
    paths = kubeconfig or os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())
    if not any(Path(p).is_file() for p in paths.split(os.pathsep) if p):
        raise Unreachable("no cluster configured (no kubeconfig at "
                          f"{paths}, not running in a cluster)")
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        return config.new_client_from_config(config_file=paths, context=context)
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        raise Unreachable(f"kubeconfig {paths}: {' '.join(str(exc).split())}") from None


def _status_message(exc: DynamicApiError) -> str:
    """The API server's Status message (one line), else what the client knows."""
    try:
        body = json.loads(exc.body) if exc.body else {}
    except (TypeError, ValueError):
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    text = message or exc.reason or str(exc)
    return f"HTTP {exc.status} {body.get('reason') or exc.reason or ''}: " \
        f"{' '.join(str(text).split())}".replace("  ", " ")


def sendable(obj: JSON) -> JSON:
    """The object without what the API server sets (status, resourceVersion, ...)."""
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in SERVER_FIELDS:
            meta.pop(key, None)
        if not meta.get("namespace"):
            meta.pop("namespace", None)
    return out


def _not_run(message: str) -> CheckResult:
    return CheckResult("dry-run", False, [f"{message}: not run"], ran=False)


def _unavailable(mode: str, why: str) -> CheckResult:
    if mode == "true":
        return CheckResult("dry-run", False, [f"{why} (validation.dryRun: true requires a "
                                              "cluster)"])
    return _not_run(why)


def check_dry_run(obj: JSON | None, mode: str, timeout: float = TIMEOUT_SECONDS,
                  namespace: str = "", context: str | None = None,
                  kubeconfig: str | None = None) -> CheckResult:
    """The ``dry-run`` check of one changed object (``mode``: auto, true or false).

    ``namespace``: where the object lives when it does not say (a render without a namespace
    is applied to the live object's namespace, as Argo CD / Flux apply it)."""
    if mode == "false":
        return _not_run("disabled (validation.dryRun: false)")
    if obj is None:
        return _not_run("the change did not render")
    obj = sendable(obj)
    if namespace and not (obj.get("metadata") or {}).get("namespace"):
        obj.setdefault("metadata", {})["namespace"] = namespace
    try:
        api = api_client(context, kubeconfig)
    except Unreachable as exc:
        return _unavailable(mode, str(exc))
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    host = api.configuration.host
    with api:
        try:
            client.VersionApi(api).get_code(_request_timeout=timeout)
        except ApiException as exc:  # answered, but not as an API server we may use
            return _unavailable(mode, f"cluster {host} does not answer GET /version: "
                                      f"HTTP {exc.status} {exc.reason}")
        except Exception as exc:  # connection refused, timeout, TLS...
            _log.debug("dry-run: cluster %s unreachable", host, exc_info=True)
            why = " ".join(str(exc).split())[:200] or type(exc).__name__
            return _unavailable(mode, f"cluster {host} unreachable: {why}")
        return _apply(api, obj, host, timeout)


def _apply(api: client.ApiClient, obj: JSON, host: str, timeout: float) -> CheckResult:
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    meta = obj.get("metadata") or {}
    label = f"{kind} {meta.get('namespace', '')}/{meta.get('name', '')}".replace(" /", " ")
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

    with tempfile.TemporaryDirectory(prefix="remediator-discovery-") as tmp:
        try:
            dynamic = DynamicClient(api, cache_file=str(Path(tmp) / "discovery.json"))
            resource = dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            return CheckResult("dry-run", False, [
                f"cluster {host} does not serve {kind} {api_version} (a CRD not installed?)"])
        except DynamicApiError as exc:
            return CheckResult("dry-run", False, [f"discovery: {_status_message(exc)}"])
        except Exception as exc:
            _log.debug("dry-run: discovery on %s failed", host, exc_info=True)
            return CheckResult("dry-run", False, [f"discovery on {host} failed: "
                                                  f"{' '.join(str(exc).split())[:200]}"])
        try:
            dynamic.server_side_apply(resource, body=obj, namespace=meta.get("namespace"),
                                      field_manager=FIELD_MANAGER, force_conflicts=True,
                                      dry_run="All", _request_timeout=timeout)
        except DynamicApiError as exc:
            return CheckResult("dry-run", False, [f"the API server refuses {label}: "
                                                  f"{_status_message(exc)}"])
        except Exception as exc:
            _log.debug("dry-run of %s on %s failed", label, host, exc_info=True)
            return CheckResult("dry-run", False, [f"dry-run of {label} on {host} failed: "
                                                  f"{' '.join(str(exc).split())[:200]}"])
    return CheckResult("dry-run", True, [f"the API server at {host} accepts {label} "
                                         "(server-side apply, dryRun=All)"])

