"""Plain data passed between the stages.

Every stage takes and returns these dataclasses; none of them does I/O. Kubernetes objects stay as
the plain JSON dicts the API (or a snapshot) gave us: typed models cost more than they help here.
"""

from __future__ import annotations

import lazy_loader

# The names are listed once, in __init__.pyi (what the type checker reads); each is imported from
# its module on first use. Building the package's ~75 dataclasses costs ~25 ms on Python 3.11,
# which `remediator --help` and `validate` should not pay for the ones they never touch.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
