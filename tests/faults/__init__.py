"""Fault injection: real `remediator run --forge github` processes against the GitHub REST emulator
(tests/support/github_emulator.py) and the Kubernetes API emulator (tests/support/kube_api.py), with
processes killed, frozen and restarted and requests failed after taking effect. Each test asserts
GitHub's final state: one PR per signature, one dashboard, no push over another writer, nothing
written after losing the lease."""
