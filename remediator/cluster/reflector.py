"""List-then-watch of one resource type into a shared store (the client-go reflector pattern).

List (paged) gives the objects and a resourceVersion; a watch from that version streams changes.
Bookmarks advance the version without objects, so a reconnect does not replay or miss anything.
A broken stream or a failing request is retried from the last version with jittered exponential
backoff. Every ``resync_seconds`` a full relist catches anything a watch could have lost.

A version the server says it cannot use means relist (from a fresh, quorum list), with the same
backoff, never a retry of that version: `410 Gone` / "too old resource version" (compacted away),
and "Too large resource version" (a 504 `Timeout` with the `ResourceVersionTooLarge` cause, as
an HTTP status or as a watch's ERROR event; older servers say it only in the message, some with
a 500). The last one is what an API server answers after etcd was restored from a backup: its
versions went back below ours, and retrying ours would see nothing until it caught up (then
miss what came between). For the same reason an event whose version is lower than the one the
watch had reached means relist: the server's history was rewritten under us.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import urllib3

from . import shapes
from .api import ApiError

if TYPE_CHECKING:
    from .api import JSON, Kind, RawClient

PAGE = 500


@dataclass
class WatchOptions:
    """How the live source talks to the API server. ``sleep``, ``monotonic`` and ``jitter`` are
    injectable so tests drive backoff and resync without waiting."""

    watch_timeout_seconds: int = 300
    resync_seconds: float = 900.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random  # in [0, 1)


@dataclass
class Store:
    """Objects by kind and (namespace, name), with a change counter readers can wait on.

    Each object's shape is checked once, when it arrives (`shapes.problem`): one of the wrong
    shape is kept out, in ``malformed``, the way a snapshot's is dropped, so reading the store
    as a `ClusterState` costs no walk over every object."""

    objects: dict[str, dict[tuple[str, str], JSON]] = field(default_factory=dict)
    #: (kind, namespace, name) -> "what it is (what is wrong)", for the state's warning
    malformed: dict[tuple[str, str, str], str] = field(default_factory=dict)
    changes: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)
    #: called with (event type, object) for every change a watch applied (the detector's
    #: hook), holding the store's lock: it must be quick and never wait on the store
    on_change: Callable[[str, JSON], None] | None = None
    #: called after a list replaced a part of the store (a change may have gone unseen)
    on_relist: Callable[[], None] | None = None

    def replace(self, kind: Kind, namespace: str, items: list[JSON]) -> None:
        with self.cond:
            table = self.objects.setdefault(kind.kind, {})
            for key in [k for k in table if not namespace or k[0] == namespace]:
                del table[key]
            for bad in [k for k in self.malformed
                        if k[0] == kind.kind and (not namespace or k[1] == namespace)]:
                del self.malformed[bad]
            for obj in items:
                self._put(kind, obj)
            self.changes += 1
            # under the lock: whoever sees the change in the store finds it was announced
            if self.on_relist is not None:
                self.on_relist()
            self.cond.notify_all()

    def apply(self, kind: Kind, event: str, obj: JSON) -> None:
        with self.cond:
            if event == "DELETED":
                _slim(obj, kind)
                key = _key(obj)
                self.objects.setdefault(kind.kind, {}).pop(key, None)
                self.malformed.pop((kind.kind, *key), None)
            else:
                obj = self._put(kind, obj)
            self.changes += 1
            if self.on_change is not None:
                self.on_change(event, obj)
            self.cond.notify_all()

    def _put(self, kind: Kind, obj: JSON) -> JSON:
        obj = _slim(obj, kind)
        key = _key(obj)
        table = self.objects.setdefault(kind.kind, {})
        wrong = shapes.problem(obj)
        if wrong:
            table.pop(key, None)
            self.malformed[(kind.kind, *key)] = f"{shapes.label(obj)} ({wrong})"
        else:
            table[key] = obj
            self.malformed.pop((kind.kind, *key), None)
        return obj

    def poke(self) -> None:
        """Wake waiters without a change (a reflector's progress: bookmark, error, relist)."""
        with self.cond:
            self.cond.notify_all()

    def items(self) -> list[JSON]:
        with self.cond:
            return [o for table in self.objects.values() for o in table.values()]

    def tables(self) -> tuple[list[tuple[str, list[JSON]]], list[str]]:
        """Each kind's objects (in the order `items` gives them) and the malformed ones."""
        with self.cond:
            return ([(kind, list(table.values())) for kind, table in self.objects.items()],
                    list(self.malformed.values()))

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout)


def _key(obj: JSON) -> tuple[str, str]:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _slim(obj: JSON, kind: Kind) -> JSON:
    """List items come without kind/apiVersion; managedFields are large and never read."""
    obj["kind"], obj["apiVersion"] = kind.kind, kind.api_version
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return obj


class Reflector:
    """Keeps ``store`` in line with one kind (in one namespace, or all namespaces)."""

    def __init__(self, raw: RawClient, kind: Kind, store: Store, options: WatchOptions,
                 namespace: str = "", field_selector: str = ""):
        self.raw, self.kind, self.store, self.options = raw, kind, store, options
        self.namespace = namespace if kind.namespaced else ""
        self.field_selector = field_selector if kind.namespaced else ""
        self.resource_version = ""
        self.listed_at: float | None = None
        self.synced = threading.Event()
        #: relists: the version was unusable (410, too large, went backwards)
        self.stats = {"lists": 0, "watches": 0, "relists": 0, "errors": 0, "bookmarks": 0,
                      "events": 0}
        self.last_error = ""

    def list(self) -> list[JSON]:
        """One full paged list; replaces this reflector's part of the store."""
        items: list[JSON] = []
        query = {"limit": str(PAGE), "fieldSelector": self.field_selector}
        while True:
            page = json.loads(self.raw.get(self.kind.path(self.namespace), query))
            items.extend(page.get("items") or [])
            meta = page.get("metadata") or {}
            if not meta.get("continue"):
                break
            query = {**query, "continue": str(meta["continue"])}
        self.store.replace(self.kind, self.namespace, items)
        self.resource_version = str(meta.get("resourceVersion") or "")
        self.stats["lists"] += 1
        self.listed_at = self.options.monotonic()
        self.synced.set()
        return items

    def watch_once(self, timeout_seconds: int) -> None:
        """One watch request from the current version; `ApiError` when it failed (see
        `version_unusable` for the ones that call for a relist)."""
        query = {"resourceVersion": self.resource_version, "allowWatchBookmarks": "true",
                 "fieldSelector": self.field_selector}
        self.stats["watches"] += 1
        self.store.poke()
        for line in self.raw.watch_lines(self.kind.path(self.namespace), query, timeout_seconds):
            event = json.loads(line)
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                raise ApiError.of_status(0, obj)
            rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
            if kind in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK") and _older(
                    rv, self.resource_version):
                raise ApiError(0, f"resourceVersion went backwards: {rv} after "
                               f"{self.resource_version} "
                               "(the server's history was rewritten, an etcd restore?)",
                               WENT_BACKWARDS)
            if kind == "BOOKMARK":
                self.stats["bookmarks"] += 1
                self.store.poke()
            elif kind in ("ADDED", "MODIFIED", "DELETED"):
                self.stats["events"] += 1
                self.store.apply(self.kind, kind, obj)
            if rv:
                self.resource_version = rv

    def run(self, stop: threading.Event) -> None:
        """List, then watch until ``stop``; relist when the version is unusable and every
        resync period; back off on consecutive failures."""
        o = self.options
        failures = 0
        while not stop.is_set():
            try:
                if self.listed_at is None or o.monotonic() - self.listed_at >= o.resync_seconds:
                    self.list()
                left = o.resync_seconds - (o.monotonic() - (self.listed_at or 0.0))
                timeout = max(1, int(min(o.watch_timeout_seconds, left)))
                self.watch_once(timeout)
                failures = 0
            except (ApiError, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                failures += 1
                self.stats["errors"] += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, ApiError) and version_unusable(exc):
                    self.stats["relists"] += 1
                    self.listed_at = None  # relist, never retry this version
                self.store.poke()
                o.sleep(backoff(failures, o))


#: the reason given to an event older than the watch's start (not an API server's reason)
WENT_BACKWARDS = "ResourceVersionWentBackwards"


def version_unusable(exc: ApiError) -> bool:
    """The server cannot serve from our resourceVersion: relist instead of retrying it.
    410 (Gone / Expired), the `ResourceVersionTooLarge` cause, "Too large resource version" in
    the message (servers before 1.17.6 gave no cause; the status is 504, or 500 from some),
    "too old resource version" in a message under another status, and a version that went
    backwards."""
    said = " ".join((exc.message, *exc.causes)).lower()
    return (exc.status == 410 or exc.reason in ("Expired", "Gone", WENT_BACKWARDS)
            or "ResourceVersionTooLarge" in exc.causes
            or "too large resource version" in said or "too old resource version" in said)


def _older(rv: str, than: str) -> bool:
    """``rv`` is a lower version than ``than``. Versions are opaque to clients (the API
    conventions), but an etcd-backed server's are integers that only grow, in every watch
    stream: only those are compared."""
    return rv.isdigit() and than.isdigit() and int(rv) < int(than)


def backoff(failures: int, o: Any) -> float:
    """Exponential with full jitter in its upper half: spread reconnect storms, never zero."""
    ceiling = min(o.backoff_max, o.backoff_initial * 2 ** min(failures - 1, 30))
    return ceiling / 2 + ceiling / 2 * o.jitter()
