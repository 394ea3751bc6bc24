"""Draft: turn a located incident into a proposal or a diagnosis (see ``drafter``)."""

from __future__ import annotations

from .drafter import draft
from .llm import LLMDrafter, closed_examples, make_drafter, missing_client
from .rightsize import recommend, round_cpu, round_memory

__all__ = [
    "LLMDrafter",
    "closed_examples",
    "draft",
    "make_drafter",
    "missing_client",
    "recommend",
    "round_cpu",
    "round_memory",
]
