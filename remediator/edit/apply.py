"""``apply_edits``: JSON Patch edits on repo files -> in-memory file changes with minimal diffs."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonpatch
import jsonpointer
from ruamel.yaml.error import YAMLError

from remediator.kernel import yamlio
from remediator.model import DocumentEdit, DocumentRef, FileChange

from .diff import unified_diff
from .embedded import splice
from .errors import EditError
from .paths import clean_path, resolve_inside
from .roundtrip import edit_document, new_document
from .split import document_spans
from .style import DEFAULT_STYLE, detect_style
from .tree import SUPPORTED_OPS

if TYPE_CHECKING:
    from .split import Span
    from .style import Style

BOM = "\ufeff"


def apply_edits(repo_root: Path, edits: list[DocumentEdit]) -> list[FileChange]:
    """Apply every edit in memory: one FileChange per file, in order of first appearance.

    Nothing is written. Any op that does not apply raises EditError and no change is returned.
    """
    groups: dict[str, list[DocumentEdit]] = {}
    for edit in edits:
        groups.setdefault(clean_path(edit.target.path), []).append(edit)
    changes: list[FileChange] = []
    for path, file_edits in groups.items():
        if any(e.create for e in file_edits):
            style = _style_hint(repo_root, path, groups)
            changes.append(_create_file(repo_root, path, file_edits, style))
        else:
            changes.append(_edit_file(repo_root, path, file_edits))
    return changes


def _describe(path: str, index: int, number: int, op: Any) -> str:
    if isinstance(op, dict):
        return f"{path} (document {index}): op {number} {op.get('op')} {op.get('path')!r}"
    return f"{path} (document {index}): op {number}"


def _unshare(value: Any) -> Any:
    """Deep copy that also breaks YAML alias sharing.

    An edit of an aliased node then changes one place only; the round trip, which would change
    every alias, is caught as a mismatch instead of silently editing other places.
    """
    if isinstance(value, dict):
        return {k: _unshare(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshare(v) for v in value]
    return value


def _reason(exc: Exception) -> str:
    """jsonpointer quotes the whole containing object ("member 'x' not found in {...}"): keep the
    message short, and free of document content that may be sensitive."""
    text = str(exc) or type(exc).__name__
    text = re.split(r" in [\[{]", text, maxsplit=1)[0]
    return text if len(text) <= 160 else text[:157] + "..."


def _patched(path: str, index: int, document: Any, ops: list[Any]) -> Any:
    """``document`` with ``ops`` applied by jsonpatch, one op at a time to name the failing one."""
    if not isinstance(ops, list):
        raise EditError(f"{path} (document {index}): ops must be a list of JSON Patch operations")
    result = _unshare(document)
    for number, op in enumerate(copy.deepcopy(ops)):
        where = _describe(path, index, number, op)
        if not isinstance(op, dict) or op.get("op") not in SUPPORTED_OPS:
            raise EditError(f"{where}: unsupported operation (only {', '.join(SUPPORTED_OPS)})")
        if not isinstance(op.get("path"), str):
            raise EditError(f"{where}: 'path' must be a string")
        try:
            result = jsonpatch.JsonPatch([op]).apply(result, in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            raise EditError(f"{where}: test failed: value differs") from None
        except (
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
            KeyError,
            IndexError,
            TypeError,
            ValueError,
        ) as exc:
            raise EditError(f"{where}: does not apply: {_reason(exc)}") from None
    return result


def _create_file(root: Path, path: str, edits: list[DocumentEdit], style: Style) -> FileChange:
    full = resolve_inside(root, path)
    if full.exists() or full.is_symlink():
        raise EditError(f"{path}: refusing to create: the file already exists")
    document: Any = {}
    for edit in edits:
        if edit.target.index != 0:
            raise EditError(f"{path}: a new file has only document 0, not {edit.target.index}")
        document = _patched(path, 0, document, edit.ops)
    new_text = new_document(document, style)
    return FileChange(path, "", new_text, unified_diff(path, "", new_text, new_file=True))


def _read(root: Path, path: str) -> str:
    resolve_inside(root, path)
    try:
        return yamlio.read_text(root, path)
    except FileNotFoundError:
        raise EditError(f"{path}: does not exist (set create to make a new file)") from None
    except (yamlio.UnsafeYAML, OSError) as exc:
        raise EditError(f"{path}: cannot read: {exc}") from None


def _edit_file(root: Path, path: str, edits: list[DocumentEdit]) -> FileChange:
    old_text = _read(root, path)
    bom = old_text.startswith(BOM)
    text = old_text.removeprefix(BOM)
    crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
    if crlf:  # edit as LF, put the CRLFs back at the end
        text = text.replace("\r\n", "\n")
    targets = {(e.target.index, tuple(e.target.embedded)) for e in edits}
    if any(e.target.embedded for e in edits) and len(targets) > 1:
        raise EditError(f"{path}: an edit inside a string must be the file's only edit")
    if edits[0].target.embedded:
        index, at = targets.pop()
        ops = [op for e in edits for op in e.ops]
        new_text = splice(path, text, index, at, lambda inner: _edited(
            f"{path} ({'/'.join(map(str, at))})", inner,
            [DocumentEdit(DocumentRef(path, 0), ops)]))
    else:
        new_text = _edited(path, text, edits)
    if crlf:
        new_text = new_text.replace("\n", "\r\n")
    if bom:
        new_text = BOM + new_text
    return FileChange(path, old_text, new_text, unified_diff(path, old_text, new_text))


def _edited(path: str, text: str, edits: list[DocumentEdit]) -> str:
    """``text`` (LF line ends, no BOM) with the edits applied, minimal diff."""
    try:
        documents = yamlio.load_documents(text, path)
    except yamlio.UnsafeYAML as exc:
        raise EditError(str(exc)) from None
    try:
        spans = document_spans(text)
    except YAMLError as exc:  # a file the plain loader took but ruamel's parser does not
        raise EditError(f"{path}: cannot parse for editing: {str(exc).splitlines()[0]}") from None
    if len(spans) != len(documents):  # would mean our split disagrees with the loader
        raise EditError(f"{path}: cannot split into its {len(documents)} documents")
    expected = list(documents)
    ops_by_doc: dict[int, list[Any]] = {}
    for edit in edits:
        index = edit.target.index
        if not 0 <= index < len(documents):
            raise EditError(f"{path}: has {len(documents)} document(s), no document {index}")
        # an empty document ("---" and nothing) is edited like a new file: from {}
        current = {} if expected[index] is None else expected[index]
        expected[index] = _patched(path, index, current, edit.ops)
        ops_by_doc.setdefault(index, []).extend(edit.ops)
    new_text = _splice(path, text, spans, ops_by_doc, expected)
    if _load_all(new_text) != expected:  # guards the splicing
        raise EditError(f"{path}: internal error: the edited file does not load as patched")
    return new_text


def _load_all(text: str) -> list[Any]:
    try:
        return yamlio.load_documents(text)
    except yamlio.UnsafeYAML:
        return []


def _splice(
    path: str, text: str, spans: list[Span], ops_by_doc: dict[int, list[Any]], expected: list[Any]
) -> str:
    """The file text with each edited document's content lines re-emitted, the rest untouched."""
    pieces: list[str] = []
    cursor = 0
    for index in sorted(ops_by_doc):
        span = spans[index]
        if span.inline_start:
            raise EditError(
                f"{path} (document {index}): content starts on the '---' line; "
                "cannot edit it without rewriting that line"
            )
        try:
            body = edit_document(text[span.start : span.end], ops_by_doc[index], expected[index])
        except ValueError as exc:
            raise EditError(f"{path} (document {index}): {exc}") from None
        if span.empty and span.start > 0 and text[span.start - 1] != "\n":
            body = "\n" + body  # "---" was the last line and had no newline
        pieces += [text[cursor : span.start], body]
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _style_hint(root: Path, path: str, groups: dict[str, list[DocumentEdit]]) -> Style:
    """Indentation for a new file: copied from an existing file edited in the same batch, the
    nearest first (a new patch in an overlay next to the kustomization.yaml it is added to)."""
    folder = path.rpartition("/")[0]
    others = [p for p, es in groups.items() if p != path and not any(e.create for e in es)]
    others.sort(key=lambda p: p.rpartition("/")[0] != folder)
    for other in others:
        try:
            text = yamlio.read_text(root, other).replace("\r\n", "\n").removeprefix(BOM)
            spans = document_spans(text)
        except (yamlio.UnsafeYAML, OSError, ValueError, YAMLError):
            continue
        for span in spans:
            if not span.empty and not span.inline_start:
                return detect_style(text[span.start : span.end])
    return DEFAULT_STYLE
