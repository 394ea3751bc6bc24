"""Keeping ruamel's comments where a human would expect them when entries come and go.

ruamel stores the lines that follow an entry (blank lines, comments about the *next* entry) in the
comment slot of the deepest last scalar of that entry: ``ca.items[key][2]`` in a mapping,
``ca.items[index][0]`` in a sequence, as one token whose text is the end-of-line part ("# eol\n"
or just "\n") followed by those lines (the "tail"). An entry inserted after it would therefore be
emitted *below* the blank line that separated this block from the next one, and a removed entry
would take the comment about its successor with it. These helpers move the tail instead.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

Container = CommentedMap | CommentedSeq


def _slot(container: Container, key: Any) -> tuple[Container, Any, int]:
    """(collection, key, position in ca.items[key]) of the comment after entry ``key``'s subtree."""
    while True:
        value = container[key]
        if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style():
            container, key = value, list(value.keys())[-1]
        elif isinstance(value, CommentedSeq) and len(value) and not value.fa.flow_style():
            container, key = value, len(value) - 1
        else:
            return container, key, 2 if isinstance(container, CommentedMap) else 0


def detach_tail(container: Container, key: Any) -> str:
    """Remove and return the lines after entry ``key``'s end-of-line comment ("" when none)."""
    owner, k, pos = _slot(container, key)
    entry = owner.ca.items.get(k)
    token = entry[pos] if entry and len(entry) > pos else None
    if not isinstance(token, CommentToken) or "\n" not in token.value:
        return ""
    eol, _, tail = token.value.partition("\n")
    token.value = eol + "\n"
    return tail


def attach_tail(container: Container, key: Any, tail: str) -> None:
    """Append ``tail`` (from :func:`detach_tail`) after entry ``key``'s subtree."""
    if not tail:
        return
    owner, k, pos = _slot(container, key)
    entry = owner.ca.items.setdefault(k, [None, None, None, None])
    token = entry[pos]
    if isinstance(token, CommentToken):
        text = token.value if token.value.endswith("\n") else token.value + "\n"
        if text.endswith("\n\n") and tail.startswith("\n"):
            tail = tail[1:]  # both end/start with a blank line (an entry between them was removed)
        token.value = text + tail
    else:
        entry[pos] = CommentToken("\n" + tail, CommentMark(0), None)


def drop_comments(container: Container, key: Any) -> None:
    """Forget the comments stored for a mapping key that is being deleted.

    ``CommentedMap.__delitem__`` leaves them behind: a later ``add`` of the same key would
    resurrect them.
    """
    if isinstance(container, CommentedMap):
        container.ca.items.pop(key, None)


def _width(value: Any) -> int:
    """Roughly how many columns a scalar takes when emitted (quotes included)."""
    if isinstance(value, bool):
        return 4 if value else 5
    if value is None:
        return 0
    text = str(value)
    if isinstance(value, SingleQuotedScalarString | DoubleQuotedScalarString):
        return len(text) + 2
    return len(text)


def keep_comment_gap(container: Container, key: Any, old: Any, new: Any) -> None:
    """Move an end-of-line comment by the change in the value's width.

    ruamel keeps such a comment at its original column, so ``memory: 128Mi   # x`` replaced by a
    much longer or shorter value would otherwise lose the author's spacing before the ``#``.
    """
    if isinstance(old, dict | list) or isinstance(new, dict | list):
        return
    entry = container.ca.items.get(key)
    pos = 2 if isinstance(container, CommentedMap) else 0
    token = entry[pos] if entry and len(entry) > pos else None
    if not isinstance(token, CommentToken) or not token.value.startswith("#"):
        return
    mark = token.start_mark
    column = getattr(mark, "column", None)
    if isinstance(column, int):
        entry[pos] = CommentToken(
            token.value, CommentMark(max(0, column + _width(new) - _width(old))), None
        )
