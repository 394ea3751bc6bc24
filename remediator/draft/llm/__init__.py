"""The model drafter (see ``drafter``)."""

from __future__ import annotations

from .drafter import Fallback, LLMDrafter, default_cache_dir, make_drafter
from .examples import closed_examples
from .providers import missing_client

__all__ = ["Fallback", "LLMDrafter", "closed_examples", "default_cache_dir", "make_drafter",
           "missing_client"]
