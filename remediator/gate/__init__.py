"""Gate: validate a changed Kubernetes object before a pull request is opened (see ``run``)."""

from __future__ import annotations

import lazy_loader

# The names are listed in __init__.pyi; each module loads on first use, so `validate`, which
# checks objects, does not import the pipeline's gate (renders, Helm, the change checks).
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
