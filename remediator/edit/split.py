"""Cutting a multi-document YAML text into per-document spans.

Only the lines holding a document's content are ever re-emitted; everything around them (comments
before the first ``---``, the ``---`` lines themselves with their comments, ``...`` end markers,
trailing comments and blank lines) stays byte-for-byte as it was. Documents are counted from the
parser's events, exactly as a YAML loader counts them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    ScalarEvent,
)


@dataclass(frozen=True)
class Span:
    """Character range [start, end) of one document's content lines in the file text."""

    start: int
    end: int
    #: content begins on the ``---`` line itself (``--- !tag``, ``--- |``): not editable in place
    inline_start: bool = False
    empty: bool = False


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Index just past the newline ending the line that holds ``index`` (or len(text))."""
    nl = text.find("\n", index)
    return len(text) if nl < 0 else nl + 1


def _content_end(text: str, events: list[Event]) -> int:
    """End of the line holding the last content character of a document."""
    end, flow_depth = 0, 0
    last: Event | None = None
    for ev in events:
        if isinstance(ev, CollectionStartEvent):
            flow_depth += 1 if ev.flow_style else 0
        elif isinstance(ev, CollectionEndEvent):
            # a block collection "ends" where the next token starts (after trailing comments);
            # only a flow collection's end mark is a real character (``]`` or ``}``)
            if flow_depth:
                flow_depth -= 1
                end, last = max(end, ev.end_mark.index), ev
            continue
        if isinstance(ev, ScalarEvent | AliasEvent):
            end, last = max(end, ev.end_mark.index), ev
    # a block scalar ends at the start of the line after its last line; others mid-line
    stop = end if end and text[end - 1] == "\n" else _line_end(text, end)
    keep = isinstance(last, ScalarEvent) and last.style in ("|", ">") and "+" in text[
        last.start_mark.index : _line_end(text, last.start_mark.index)
    ].split("#")[0]
    if not keep:  # blank lines after a clipped block scalar belong to the gap, not the value
        while stop > 0 and text[_line_start(text, stop - 1) : stop].strip() == "":
            stop = _line_start(text, stop - 1)
    return stop


def document_spans(text: str) -> list[Span]:
    """One span per document of ``text`` (which must already be known to parse)."""
    spans: list[Span] = []
    current: list[Event] = []
    doc_start: DocumentStartEvent | None = None
    for ev in YAML(typ="safe", pure=True).parse(io.StringIO(text)):
        if isinstance(ev, DocumentStartEvent):
            doc_start, current = ev, []
        elif isinstance(ev, DocumentEndEvent):
            assert doc_start is not None
            spans.append(_span(text, doc_start, current))
        else:
            current.append(ev)
    return spans


def _span(text: str, doc_start: DocumentStartEvent, events: list[Event]) -> Span:
    root = events[0]
    start = _line_start(text, root.start_mark.index)
    if (
        len(events) == 1
        and isinstance(root, ScalarEvent)
        and root.value == ""
        and root.style is None
        and root.tag is None
        and root.anchor is None
    ):
        # an empty document (``---`` then nothing): new content goes on the line after ``---``
        at = _line_end(text, doc_start.start_mark.index) if doc_start.explicit else start
        return Span(at, at, empty=True)
    inline = bool(doc_start.explicit) and root.start_mark.line == doc_start.start_mark.line
    return Span(start, _content_end(text, events), inline_start=inline)
