"""Rewrite what ships with the package about the built-in policy modules, read at start instead
of being worked out again:

- remediator/gate/builtin_analysis.json: their static summaries (remediator.gate.analysis),
  instead of parsing and walking their AST;
- remediator/gate/builtin_program.bin and builtin_program.json: the built-in packages compiled
  for regorus's virtual machine and what they were compiled from (remediator.gate.compiled),
  instead of compiling them.

Run it after changing a file in policies/ or upgrading regorus (each is kept for one regorus
release and for each module's exact text; a test fails when a file is stale).
"""

from __future__ import annotations

from remediator.gate.analysis import SHIPPED
from remediator.gate.compiled import PROGRAM, PROGRAM_RECORD, builtin_program
from remediator.gate.modules import builtin_analysis

if __name__ == "__main__":
    SHIPPED.write_text(builtin_analysis(), encoding="utf-8")
    program, record = builtin_program()
    PROGRAM.write_bytes(program)
    PROGRAM_RECORD.write_text(record, encoding="utf-8")
    for path in (SHIPPED, PROGRAM, PROGRAM_RECORD):
        print(f"wrote {path}")
