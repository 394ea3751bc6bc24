"""The one exception the edit stage raises."""

from __future__ import annotations


class EditError(ValueError):
    """An edit cannot be applied; the message is one line naming the file and the failing op."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
