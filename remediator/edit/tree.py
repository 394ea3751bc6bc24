"""Replaying RFC 6902 operations on a ruamel round-trip tree.

The operations were already checked with ``jsonpatch`` on a plain copy (see ``apply``), so this
module only has to perform them faithfully while keeping comments, quotes and key order.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .comments import attach_tail, detach_tail, drop_comments, keep_comment_gap
from .scalars import new_key, to_node

SUPPORTED_OPS = ("add", "replace", "remove", "test")


def parse_pointer(pointer: str) -> list[str]:
    """RFC 6901 reference tokens of ``pointer`` ("" is the whole document)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _child(node: Any, token: str) -> Any:
    if isinstance(node, list):
        return node[int(token)]
    return node[token]


def _index(seq: list[Any], token: str) -> int:
    return len(seq) if token == "-" else int(token)


def apply_op(root: Any, op: dict[str, Any], quote: str) -> Any:
    """Apply one operation to the tree rooted at ``root``; returns the (possibly new) root."""
    name, parts = op["op"], parse_pointer(op["path"])
    if name == "test":
        return root
    if not parts:  # the whole document: nothing to keep but the new value
        return CommentedMap() if name == "remove" else to_node(op["value"], quote, root)
    parent = root
    for token in parts[:-1]:
        parent = _child(parent, token)
    last = parts[-1]
    if isinstance(parent, CommentedSeq):
        _apply_seq(parent, name, last, op, quote)
    elif isinstance(parent, CommentedMap):
        _apply_map(parent, name, last, op, quote)
    else:  # jsonpatch accepted it on the plain copy, so the trees disagree (e.g. merge keys)
        raise ValueError(f"cannot edit inside {type(parent).__name__} at {op['path']}")
    return root


def _own_keys(mapping: CommentedMap) -> list[Any]:
    """Keys written in this mapping, without those a ``<<:`` merge key brings in (editing one of
    those adds a local key; the anchored mapping and its comments are left alone)."""
    own = getattr(mapping, "_ok", None)  # ruamel's set of the mapping's own keys
    return [k for k in mapping if own is None or k in own]


def _apply_map(parent: CommentedMap, name: str, key: str, op: dict[str, Any], quote: str) -> None:
    if name == "remove":
        _remove(parent, key, _own_keys(parent))
        return
    if key in _own_keys(parent):  # replace, or add onto a member (RFC 6902: replaces it)
        tail, old = detach_tail(parent, key), parent[key]
        parent[key] = to_node(op["value"], quote, old)
        keep_comment_gap(parent, key, old, parent[key])
        attach_tail(parent, key, tail)
        return
    keys = _own_keys(parent)
    tail = detach_tail(parent, keys[-1]) if keys else ""
    parent[new_key(key, quote)] = to_node(op["value"], quote)
    attach_tail(parent, key, tail)


def _apply_seq(parent: CommentedSeq, name: str, token: str, op: dict[str, Any], quote: str) -> None:
    index = _index(parent, token)
    if name == "remove":
        _remove(parent, index, list(range(len(parent))))
        return
    if name == "replace":
        tail, old = detach_tail(parent, index), parent[index]
        parent[index] = to_node(op["value"], quote, old)
        keep_comment_gap(parent, index, old, parent[index])
        attach_tail(parent, index, tail)
        return
    # a new string item is quoted like its neighbours (["--port", "8080"] gets "--x", not --x)
    template = next((item for item in parent if isinstance(item, str)), None)
    value = to_node(op["value"], quote, template)
    if index > 0:  # add after an existing item: that item's trailing lines move below the new one
        tail = detach_tail(parent, index - 1)
        parent.insert(index, value)
        attach_tail(parent, index, tail)
    else:
        parent.insert(0, value)


def _remove(parent: CommentedMap | CommentedSeq, key: Any, keys: list[Any]) -> None:
    """Delete one entry; the lines that followed it stay, after the entry before it."""
    if key not in keys:
        raise ValueError(f"{key!r} comes from a '<<' merge key: remove it where it is defined")
    tail = detach_tail(parent, key)
    position = keys.index(key)
    drop_comments(parent, key)
    del parent[key]
    if position > 0:
        attach_tail(parent, keys[position - 1], tail)
    # else: nothing precedes it in this collection, so the tail (a comment about the next entry,
    # or blank lines) is dropped with it; the parent key's own comment is untouched
