"""The cyclic garbage collector around one command's process.

A command's process imports 60 to 300 modules before it does any work (``validate`` of one
file, the service...). What they make (modules, classes, functions, compiled patterns) lives
until the process ends, yet with the collector on, every collection that runs while they load,
and the collections of the whole run and at exit, walk all of it again: about a tenth of the
start-up of ``remediator validate FILE`` (bench/startup.py). So the process entry
(``remediator.__main__``) pauses the collector before it imports anything, and once the command
to run is loaded (the top-level group's callback, which click calls after loading the command
and before running it) ``resume`` moves everything that exists to the generation no collection
walks (``gc.freeze``) and turns the collector on again: the command's own work is collected as
usual, the service's too.

Only the process entry pauses: a process that runs a command inside itself (a test's
``CliRunner``) keeps its collector as it is, and ``resume`` then does nothing.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Turn the collector off until ``resume`` (when it is on: a process that turned it off
    itself keeps it off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what exists and turn the collector on again, if ``pause`` turned it off."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
