"""A validated model answer → a Proposal of the same shape the rules produce.

Every edit passes four checks before the edit stage sees it: the tool schema (tools.py), the
file (one of the located files, the one the field lives in), the value (fields.py) and the
allow-list of the failure class (draft/allowlist.py). A rejection is a diagnosis that keeps the
model's own diagnosis and says what was refused; it never carries edits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...kernel.k8s import get_container
from ...kernel.redact import redact
from ...model import FailureClass, FieldValue, Proposal
from .. import rules
from ..allowlist import check_allowed
from ..paths import ConflictingEdits, NoSuchContainer
from .fields import Converter, Rejected, fields_for, file_of, override_edit
from .tools import NO_FIX, checked_confidence

if TYPE_CHECKING:
    from ...model import DocumentEdit, Incident, Location
    from .tools import Answer

#: an edit the model itself doubts is a diagnosis, not a pull request
MIN_CONFIDENCE = 0.5
_HTML = re.compile(r"<")
_MENTION = re.compile(r"(?<![\w`])@([\w-]+(?:/[\w-]+)?)")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)\)")
#: terminal escapes and other control characters (newlines and tabs stay)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain(text: str) -> str:
    """Model text made inert for a PR body: no HTML (nor a look-alike hidden record), no
    @-mentions that notify, no images or links that render, no secret it may quote (the
    evidence it read was redacted, the located document's values not all); the words stay
    readable. Lone surrogates (valid in JSON, not in UTF-8) and control characters go: the text
    is written to files and terminals."""
    text = _CONTROL.sub("", text.encode("utf-8", "replace").decode("utf-8"))
    text = _HTML.sub("&lt;", redact(text)[0])
    text = _IMAGE_OR_LINK.sub(lambda m: f"{m.group(1)} (`{m.group(2)}`)", text)
    return _MENTION.sub(lambda m: f"`@{m.group(1)}`", text)


def build(answer: Answer, incident: Incident, loc: Location, drafter: str,
          max_startup_seconds: int, *, allowed_hosts: Iterable[str] = (),
          allowed_env: Iterable[str] = ()) -> Proposal:
    """The proposal for ``answer``; Rejected when any edit is not safe to make.
    ``allowed_hosts``/``allowed_env``: drafting.allowedHosts / allowedEnv."""
    answer.diagnosis, answer.rationale = plain(answer.diagnosis), plain(answer.rationale)
    if answer.tool == NO_FIX:
        return Proposal(drafter, _first_sentence(answer.diagnosis), answer.diagnosis)
    cls, c = incident.failure_class, incident.container
    confidence = checked_confidence(answer.confidence)
    if confidence < MIN_CONFIDENCE:
        raise Rejected(f"the model's own confidence ({confidence:g}) is below "
                       f"{MIN_CONFIDENCE:g}")
    allowed = fields_for(cls, loc)
    conv = Converter(incident, loc, max_startup_seconds, allowed_hosts=allowed_hosts,
                     allowed_env=allowed_env)
    changes: dict[tuple[str, ...], Any] = {}
    records: list[dict[str, Any]] = []
    announced: list[FieldValue] = []
    image = ""
    for e in answer.edits:
        field, file = str(e["field"]), str(e["file"])
        if field not in allowed:
            raise Rejected(f"field {field[:60]!r} is not allowed for {cls}")
        expected = file_of(field, cls, loc)
        if file != expected:
            raise Rejected(f"`{file[:200]}` is not where {field} of {c} is set (`{expected}`)")
        new = conv.changes(field, e["value"])
        if set(new) & set(changes):
            raise Rejected(f"field {field!r} is edited twice")
        changes.update(new)
        if field == "image":
            image = str(new[("image",)])
        records.append({"file": expected, "field": f"containers[{c}].{field}",
                        **_record(loc, c, field, e["value"], next(iter(new.values())))})
        announced += _announced(c, field, e["value"], new)
    edits: list[DocumentEdit] = []
    ov = loc.image_override
    if image and ov is not None and ov.target is not None and \
            cls == FailureClass.IMAGE_PULL_BACK_OFF:
        edits.append(override_edit(loc, image))
        changes.pop(("image",))
    if changes:
        try:
            # the rules' own operations: container entries, patches, Helm values keys alike
            ops = rules._ops(loc, c, changes)
        except (NoSuchContainer, ConflictingEdits, IndexError) as exc:
            raise Rejected(f"cannot apply to `{loc.target.path}`: {exc}") from None
        if ops:
            edits += rules._edit(loc, ops)
    if not edits:
        raise Rejected("the edits change nothing")
    proposal = Proposal(
        drafter=drafter,
        reason=f"{_first_sentence(answer.diagnosis)}; changes "
               + ", ".join(f"{r['field'].split('.', 1)[1]}" for r in records),
        diagnosis=answer.diagnosis + (f"\n\nWhy this change: {answer.rationale}"
                                      if answer.rationale else ""),
        edits=edits,
        changes=records,
        title=f"set {', '.join(r['field'].split('.', 1)[1] for r in records)} of {c}",
        risk=("Drafted by a language model from the evidence above and re-checked against the "
              "allow-list and the validation gate; review the change against the diagnosis. "
              "Rollback: revert this commit."),
        confidence=confidence,
        announced=announced,
    )
    refused = check_allowed(cls, loc, proposal)
    if refused:
        raise Rejected(refused)
    return proposal


def _old(loc: Location, container: str, field: str) -> Any:
    node: Any = get_container(loc.rendered, container)
    for seg in field.split("."):
        node = node.get(seg) if isinstance(node, dict) else None
    return node


_KEYED = {"env": "name", "volumeMounts": "mountPath"}


def _announced(container: str, field: str, asked: Any, new: dict[tuple[str, ...], Any]
               ) -> list[FieldValue]:
    """What the edit gives the container; for lists set by key, the entries the answer names
    (as the document will hold them) and the ones it removes."""
    key = _KEYED.get(field)
    if key is None:
        return [FieldValue(container, rel, value) for rel, value in new.items()]
    named = {str(e.get(key)) for e in asked if isinstance(e, dict)}
    removed = tuple(sorted(str(e.get(key)) for e in asked
                           if isinstance(e, dict) and e.get("remove") is True))
    entries = [e for e in new[(field,)] if isinstance(e, dict) and str(e.get(key)) in named]
    return [FieldValue(container, (field,), entries, key, removed)]


def _record(loc: Location, container: str, field: str, asked: Any, new: Any) -> dict[str, Any]:
    """Old and new values for the hidden record; for lists set by key, only the entries the
    answer names (the rest of the list did not change)."""
    old = _old(loc, container, field)
    key = _KEYED.get(field)
    if key is None or not isinstance(old, list):
        return {"old": old, "new": new}
    named = {str(e.get(key)) for e in asked if isinstance(e, dict)}
    return {"old": [e for e in old if isinstance(e, dict) and str(e.get(key)) in named],
            "new": asked}


def _first_sentence(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "model diagnosis"
    return line.split(". ")[0].rstrip(".")[:200]


def rejected(incident: Incident, drafter: str, diagnosis: str, reason: str) -> Proposal:
    """The model's diagnosis, with the refusal of its change on record."""
    diagnosis, reason = plain(diagnosis), plain(reason)
    text = (diagnosis.strip() + "\n\n" if diagnosis.strip() else "") + (
        f"The model's proposed change was refused before validation: {reason}. "
        "No change is proposed.")
    return Proposal(drafter, f"model's change refused: {reason}"[:300], text)
