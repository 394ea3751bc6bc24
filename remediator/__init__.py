"""remediator: failing Kubernetes workloads in, reviewed pull requests out.

The layers, from the top: ``cli`` → ``service`` | ``ci`` → ``pipeline`` → ``config`` and the
stages (``cluster``, ``metrics``, ``detect``, ``locate``, ``draft``, ``edit``, ``gate``,
``forge``, ``verify``) → ``render`` → ``kernel`` → ``model`` (docs/development/architecture.md).
The release's identity is in ``kernel.release``.
"""

from .kernel.release import IMAGE, REPOSITORY, SCHEMA_URL, __version__

__all__ = ["IMAGE", "REPOSITORY", "SCHEMA_URL", "__version__"]
