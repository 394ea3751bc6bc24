"""Why an incident gets no change: one family of exceptions, raised where the reason is known.

The message is the reason, one line, as the report shows it. Each stage raises its own subclass
(`locate.LocateSkip` and the skips of its helpers); the pipeline catches `Skip` once, so a helper
deep in a stage need not be translated on its way out.
"""

from __future__ import annotations


class Skip(Exception):
    """No change for this incident; the message says why (it goes in the report)."""

    #: the stage that gave up, for logs and tests
    stage = ""
