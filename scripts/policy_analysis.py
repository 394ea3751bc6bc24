"""Rewrite remediator/gate/builtin_analysis.json: the static summaries of the built-in policy
modules (remediator.gate.analysis), read at start instead of parsing and walking their AST.

Run it after changing a file in policies/ or upgrading regorus (the summaries are kept for one
regorus release and for each module's exact text; a test fails when the file is stale).
"""

from __future__ import annotations

from remediator.gate.analysis import SHIPPED
from remediator.gate.modules import builtin_analysis

if __name__ == "__main__":
    SHIPPED.write_text(builtin_analysis(), encoding="utf-8")
    print(f"wrote {SHIPPED}")
