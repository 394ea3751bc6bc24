"""Why an incident gets no change from locate (each message goes in the report)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import CLASS_TABLE
from ..model.skip import Skip

if TYPE_CHECKING:
    from ..model import FailureClass

#: the container field each failure class changes (to find the layer that already owns it)
FIELD_OF_CLASS: dict[FailureClass, str] = {r.name: r.locate_field for r in CLASS_TABLE
                                           if r.locate_field}


class LocateSkip(Skip):
    """No PR can be made for this incident; the message says why (it goes in the report).
    Locate's helpers raise their own subclasses where they know the reason."""

    stage = "locate"


class LocateDiagnosis(LocateSkip):
    """The source is found, but no field in it can be safely tied to the failure (a chart whose
    values key for the field cannot be read): a diagnosis, with the reason."""


class NotInSource(LocateSkip):
    """The object is not defined by this source (another source of the owner may define it)."""
