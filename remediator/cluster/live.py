"""The live cluster source: list-then-watch into a store, read as the same `ClusterState` the
snapshot loader builds (so detect works unchanged), plus bounded, redacted pod logs on demand.

Namespace scope is applied by the API server: `scope.namespaces` → one namespaced list/watch per
namespace; `scope.excludeNamespaces` → a `metadata.namespace!=` field selector. Nodes are always
read cluster-wide (scheduling evidence needs their allocatable). Secrets are never requested.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..kernel.redact import redact
from ..model import ClusterState, ObjectRef
from .api import CORE_KINDS, ApiError, ClusterError, discover_gitops
from .config_kinds import readable_optional_kinds
from .owners import resolve_owners
from .reflector import Reflector, Store, WatchOptions
from .snapshot import dropped_warning

if TYPE_CHECKING:
    from ..model import JSON
    from .api import Kind, RawClient


@dataclass
class LogLimits:
    tail_lines: int = 200
    limit_bytes: int = 64 * 1024


@dataclass
class LiveOptions:
    namespaces: list[str] = field(default_factory=list)  # empty: all
    exclude_namespaces: list[str] = field(default_factory=list)
    watch: WatchOptions = field(default_factory=WatchOptions)
    logs: LogLimits = field(default_factory=LogLimits)
    #: the time the state represents (injectable: tests walk scenarios on a fake clock)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LiveCluster:
    def __init__(self, raw: RawClient, name: str, options: LiveOptions | None = None):
        self.raw = raw
        self.name = name
        self.options = options or LiveOptions()
        self.store = Store()
        self.notes: list[str] = []
        self.reflectors: list[Reflector] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ setup
    def _kinds(self) -> list[Kind]:
        try:
            gitops, notes = discover_gitops(self.raw)
            optional, optional_notes = readable_optional_kinds(self.raw)
        except ApiError as exc:
            raise ClusterError(f"cannot use the cluster: {exc.message}") from None
        self.notes.extend(notes)
        self.notes.extend(optional_notes)
        return [*CORE_KINDS, *optional, *gitops]

    def _build_reflectors(self) -> None:
        if self.reflectors:
            return
        o = self.options
        excluded = ",".join(f"metadata.namespace!={ns}" for ns in o.exclude_namespaces)
        wanted = [ns for ns in o.namespaces if ns not in o.exclude_namespaces]
        for kind in self._kinds():
            if kind.namespaced and o.namespaces:
                for ns in wanted:
                    self.reflectors.append(Reflector(self.raw, kind, self.store, o.watch, ns))
            else:
                self.reflectors.append(
                    Reflector(self.raw, kind, self.store, o.watch, "", excluded))

    def list_once(self) -> None:
        """One list of everything (a single pass, `snapshot`): no watches left open."""
        self._build_reflectors()
        for r in self.reflectors:
            try:
                r.list()
            except ApiError as exc:
                raise _unusable(r.kind, exc) from None

    def start(self) -> None:
        """List everything once (failing loudly if the cluster is unusable), then keep watching
        in one thread per reflector."""
        self.list_once()
        for r in self.reflectors:
            t = threading.Thread(target=r.run, args=(self._stop,), daemon=True,
                                 name=f"watch-{r.kind.plural}-{r.namespace or 'all'}")
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self.raw.close_streams()
        for t in self._threads:
            t.join(timeout=30)

    # ------------------------------------------------------------------ reading
    def items(self) -> list[JSON]:
        return self.store.items()

    def state(self) -> ClusterState:
        """The current view as a `ClusterState` ("now" is the source's clock): what
        `build_state` makes of `items()`, without walking every object again (the store
        checked each one's shape when it came)."""
        tables, malformed = self.store.tables()
        state = ClusterState(name=self.name, now=rfc3339(self.options.clock()))
        for kind, objs in tables:
            if kind == "Pod":
                state.pods.extend(objs)
            elif kind == "Event":
                state.events.extend(objs)
            elif kind == "Node":
                state.nodes.extend(objs)
            else:
                state.objects.update((ObjectRef.of(o), o) for o in objs)
        state.warnings = [*self.notes, *([dropped_warning(malformed)] if malformed else [])]
        state.pod_owner = resolve_owners(state.pods, state.objects)
        return state

    def fetch_logs(self, targets: Iterable[tuple[str, str, str]]
                   ) -> dict[tuple[str, str, str, bool], str]:
        """Current and previous logs of (namespace, pod, container), tail bounded by lines and
        bytes, redacted before they are returned. Missing logs are simply absent."""
        limits = self.options.logs
        out: dict[tuple[str, str, str, bool], str] = {}
        for namespace, pod, container in targets:
            for previous in (False, True):
                query = {"container": container, "tailLines": str(limits.tail_lines),
                         "limitBytes": str(limits.limit_bytes)}
                if previous:
                    query["previous"] = "true"
                try:
                    text = self.raw.text(f"/api/v1/namespaces/{namespace}/pods/{pod}/log", query)
                except ApiError:
                    continue  # no previous container, pod gone, logs not permitted: no evidence
                if text:
                    out[(namespace, pod, container, previous)] = redact(text)[0]
        return out


def _unusable(kind: Kind, exc: ApiError) -> Exception:
    if exc.status in (401, 403):
        return ClusterError(f"not allowed to list {kind.plural} ({kind.api_version}): "
                            f"{exc.message} (see the ClusterRole in docs/watcher.md)")
    return ClusterError(f"cannot list {kind.plural} ({kind.api_version}): {exc}")
