"""Shared helpers with no knowledge of the stages: safe YAML (``yamlio``), Kubernetes object
paths (``k8s``), redaction (``redact``), working trees (``worktree``), the Lease and its fence
(``leader``), the bundled data files (``bundled``). Import the modules themselves."""
