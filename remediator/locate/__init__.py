"""Locate: the one document in the GitOps repo a human would edit to fix an incident (see
``locator``)."""

from __future__ import annotations

from .errors import LocateDiagnosis, LocateSkip
from .locator import Locator
from .repo import RepoIndex
from .revisions import Branches, default_branch

__all__ = ["Branches", "LocateDiagnosis", "LocateSkip", "Locator", "RepoIndex", "default_branch"]
