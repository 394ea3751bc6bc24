"""Cost control: answers cached by failure signature, tokens counted per month, cost estimated.

Both live as small JSON files in a cache folder on the bot's side (never in the GitOps repo):
`answers/<key>.json` holds a model's raw tool call (it is re-validated on every use, so a stale
or tampered entry can do no more than a fresh answer), `usage-<YYYY-MM>.json` the month's tokens.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ...config import Pricing


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
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Ledger:
    def __init__(self, folder: Path, now: datetime.datetime | None = None) -> None:
        self.folder = folder
        month = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m")
        self.usage_file = folder / f"usage-{month}.json"

    def cached(self, key: str) -> dict[str, Any] | None:
        data = _read_json(self.folder / "answers" / f"{key}.json")
        return data if isinstance(data, dict) else None

    def store(self, key: str, answer: dict[str, Any]) -> None:
        _write_json(self.folder / "answers" / f"{key}.json", answer)

    def used(self) -> int:
        data = _read_json(self.usage_file)
        return int(data.get("tokens", 0)) if isinstance(data, dict) else 0

    def add(self, tokens: int) -> None:
        data = _read_json(self.usage_file)
        data = data if isinstance(data, dict) else {}
        data["tokens"] = int(data.get("tokens", 0)) + tokens
        data["calls"] = int(data.get("calls", 0)) + 1
        _write_json(self.usage_file, data)
