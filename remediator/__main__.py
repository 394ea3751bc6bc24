"""The process entry: the `remediator` command and `python -m remediator`.

The collector is paused before the command line is imported and resumed once the command to run
is loaded (``kernel.collector``): nothing is imported here before that but the collector module.
"""

from __future__ import annotations

from .kernel import collector


def main() -> None:
    collector.pause()
    from .cli import main as command_line

    command_line()


if __name__ == "__main__":
    main()
