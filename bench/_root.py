"""Imported first by every bench script: the repo root goes first on ``sys.path`` and ``bench/``
itself comes off it (its ``github.py`` would shadow PyGithub's ``github`` package)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]
