"""Cost control: answers cached by failure signature, tokens counted per month, cost estimated.

Both live as small JSON files in a cache folder on the bot's side (never in the GitOps repo):
`answers/<key>.json` holds a model's raw tool call (it is re-validated on every use, so a stale
or tampered entry can do no more than a fresh answer), `usage-<YYYY-MM>.json` the month's tokens.
A folder that cannot be written (a read-only HOME) is a warning, not a failure: answers and
usage are then kept in memory for the life of the process.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...model.settings import Pricing

log = logging.getLogger(__name__)


def cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def cost(pricing: Pricing, input_tokens: int, output_tokens: int) -> float:
    return (input_tokens * pricing.input_per_million
            + output_tokens * pricing.output_per_million) / 1_000_000


def format_cost(pricing: Pricing, dollars: float) -> str:
    if not (pricing.input_per_million or pricing.output_per_million):
        return "unknown (set drafting.pricing)"
    return f"${dollars:.4f}"


def _write_json(path: Path, data: Any) -> None:
    """Atomic: a crash mid-write leaves the old file, never half a JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def _count(data: Any, key: str) -> int:
    value = data.get(key, 0) if isinstance(data, dict) else 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class Ledger:
    def __init__(self, folder: Path | None, now: datetime.datetime | None = None) -> None:
        """``folder`` None: there is none (no HOME to put it in); memory only."""
        self.folder = folder or Path("")
        month = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m")
        self.usage_file = self.folder / f"usage-{month}.json"
        #: why the folder is not used ('' while it is); then the maps below hold everything
        self.problem = "" if folder is not None else (
            "there is no folder for the model answer cache (no home folder): answers and token "
            "usage are kept in memory only")
        self._answers: dict[str, dict[str, Any]] = {}
        self._usage: dict[str, int] = {}

    def probe(self) -> str:
        """'' when the folder can be written; else why not (then memory is used instead)."""
        if self.problem:
            return self.problem
        try:
            (self.folder / "answers").mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder / "answers", prefix=".probe-")
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            self._off(exc)
        return self.problem

    def _off(self, exc: OSError) -> None:
        if not self.problem:
            self._usage = {"tokens": self.used(), "calls": 0}
            self.problem = (f"the model answer cache {self.folder} cannot be written "
                            f"({exc.strerror or type(exc).__name__}): answers and token usage "
                            "are kept in memory only")
            log.warning("%s", self.problem)

    def _write(self, path: Path, data: Any) -> bool:
        if self.problem:
            return False
        try:
            _write_json(path, data)
        except OSError as exc:
            self._off(exc)
            return False
        return True

    def cached(self, key: str) -> dict[str, Any] | None:
        if key in self._answers:
            return self._answers[key]
        data = None if self.problem else _read_json(self.folder / "answers" / f"{key}.json")
        return data if isinstance(data, dict) else None

    def store(self, key: str, answer: dict[str, Any]) -> None:
        if not self._write(self.folder / "answers" / f"{key}.json", answer):
            self._answers[key] = answer

    def used(self) -> int:
        if self.problem:
            return self._usage.get("tokens", 0)
        return _count(_read_json(self.usage_file), "tokens")

    def add(self, tokens: int) -> None:
        if not self.problem:
            data = _read_json(self.usage_file)
            new = {"tokens": _count(data, "tokens") + tokens, "calls": _count(data, "calls") + 1}
            if self._write(self.usage_file, new):
                return
        self._usage["tokens"] = self._usage.get("tokens", 0) + tokens
        self._usage["calls"] = self._usage.get("calls", 0) + 1
