"""The input limits in force (`limits:` in `.remediator.yaml`, `model.settings.Limits`).

Readers deep in the stages (the YAML loader, the snapshot reader, git, kustomize and Helm runs,
the model's HTTP reply) ask :func:`current` when they read, so a limit is one setting and not a
parameter threaded through every call. A command sets them once its configuration is read
(:func:`use`, inside :func:`kept`, which puts the previous ones back when the command ends);
until then, and in a process that never reads a configuration, the defaults hold. A module
global, not a context variable: the threads a command starts see the same limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..model.settings import Limits

_current = Limits()


def current() -> Limits:
    return _current


def use(limits: Limits) -> None:
    """Set the limits in force (until the enclosing :func:`kept` ends)."""
    global _current
    _current = limits


@contextmanager
def kept() -> Iterator[None]:
    """Whatever is set within, the limits in force before are back at the end."""
    before = _current
    try:
        yield
    finally:
        use(before)


@contextmanager
def applied(limits: Limits) -> Iterator[Limits]:
    """``limits`` in force for the ``with`` block."""
    with kept():
        use(limits)
        yield limits
