"""The git side every forge shares: a forge holds its clone of the GitOps repository
(``GitClone``) and answers the pipeline's git questions through it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from .gitclone import GitClone


class GitBackedForge:
    """The git side every forge shares: its clone of the GitOps repository (``self.git``)."""

    git: GitClone

    @property
    def base(self) -> str:
        return self.git.base

    @base.setter
    def base(self, value: str) -> None:
        self.git.base = value

    @property
    def clone_dir(self) -> Path:
        return self.git.clone_dir

    warnings: list[str]

    def checkout(self) -> Path:
        path = self.git.checkout()
        self.warnings.extend(self.git.notes)
        return path

    def base_commit(self) -> str:
        return self.git.base_commit()

    def start_branch(self, branch: str) -> None:
        self.git.start_branch(branch)

    def commit_and_push(self, branch: str, message: str, paths: list[str]) -> str:
        return self.git.commit_and_push(branch, message, paths)

    def foreign_commits(self, branch: str) -> list[str]:
        return self.git.foreign_commits(branch)

    def fix_commit(self, signature: str) -> str | None:
        return self.git.fix_commit(signature)

    def contains(self, revision: str, commit: str) -> bool:
        return self.git.contains(revision, commit)
