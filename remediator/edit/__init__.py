"""The edit stage: JSON Patch edits on YAML documents -> file changes with minimal diffs.

``apply_edits`` validates each edit's RFC 6902 operations on a plain copy (jsonpatch), replays them
on ruamel's round-trip tree of just the edited documents (comments, quotes, key order and the
document's own indentation survive), splices the re-emitted documents back between the untouched
bytes of the file and returns one ``FileChange`` per file. Nothing is written to disk;
``write_changes`` does that for a working tree.

Modules: ``apply`` (orchestration), ``split`` (document spans), ``style`` (indentation), ``tree``
(op replay), ``comments`` (comment placement), ``scalars`` (quoting), ``merge`` (keeping original
lines ruamel would normalise), ``diff``, ``paths``, ``write``.
"""

from __future__ import annotations

from .apply import apply_edits
from .errors import EditError
from .write import write_changes

__all__ = ["EditError", "apply_edits", "write_changes"]
