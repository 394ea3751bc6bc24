"""remediator: failing Kubernetes workloads in, reviewed pull requests out.

The layers, from the top: ``cli`` → ``service`` | ``ci`` → ``pipeline`` → the stages (``cluster``,
``detect``, ``locate``, ``draft``, ``edit``, ``gate``, ``forge``) → ``config`` → ``render`` →
``kernel`` → ``model``. The release's identity is in ``kernel.release``.
"""

from .kernel.release import IMAGE, REPOSITORY, SCHEMA_URL, __version__

__all__ = ["IMAGE", "REPOSITORY", "SCHEMA_URL", "__version__"]
