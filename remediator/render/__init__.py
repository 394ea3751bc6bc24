"""Rendering with the real tools, shared by the stages (below them).

``kustomize``: `kustomize build` of a folder; ``helm``: `helm template` of a release, the chart
taken from a folder of the repository or pulled from its chart repository; ``values_key``: which
values key of a chart sets a container field, proven by rendering; ``helmvalues``: reading and
writing Helm values layers; ``gitops``: what Argo CD and Flux add on top of a render; ``owner``:
which Argo CD Application or Flux object deploys a live object (shared by locate and verify).
"""
