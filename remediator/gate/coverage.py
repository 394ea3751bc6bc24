"""Line coverage of the Rego policies by their `test_` rules (`remediator policy test
--coverage`), merged from regorus's per-engine reports.

Each test runs on its own clone of the engine, which records what it evaluated; a line counts as
covered when any test evaluated it. Test files (``*_test.rego``) are not reported: they are the
tests, not what is tested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class FileCoverage:
    path: str
    covered: set[int] = field(default_factory=set)
    not_covered: set[int] = field(default_factory=set)  # evaluable lines no test reached

    @property
    def missed(self) -> list[int]:
        return sorted(self.not_covered - self.covered)

    @property
    def percent(self) -> float:
        total = len(self.covered | self.not_covered)
        return 100.0 if total == 0 else 100.0 * len(self.covered) / total


@dataclass
class Coverage:
    files: dict[str, FileCoverage] = field(default_factory=dict)

    def add(self, report_json: str) -> None:
        """Merge one regorus coverage report (``get_coverage_report_as_json``)."""
        for f in json.loads(report_json).get("files", []):
            path = str(f.get("path", ""))
            if not path or path.endswith("_test.rego"):
                continue
            one = self.files.setdefault(path, FileCoverage(path))
            one.covered.update(int(n) for n in f.get("covered", []))
            one.not_covered.update(int(n) for n in f.get("not_covered", []))

    @property
    def percent(self) -> float:
        covered = sum(len(f.covered) for f in self.files.values())
        total = sum(len(f.covered | f.not_covered) for f in self.files.values())
        return 100.0 if total == 0 else 100.0 * covered / total

    def lines(self) -> list[str]:
        """One line per file, then the total: `COVER path 93.8% (not covered: 12, 15)`."""
        out = []
        for f in sorted(self.files.values(), key=lambda f: f.path):
            missed = f.missed
            tail = f" (not covered: {', '.join(map(str, missed))})" if missed else ""
            out.append(f"COVER {f.path} {f.percent:.1f}%{tail}")
        out.append(f"coverage {self.percent:.1f}% of {len(self.files)} policy files")
        return out
