"""Rendering with the real tools, shared by locate and the gate (below the stages).

``kustomize``: `kustomize build` of a folder; ``helm``: `helm template` of a release, the chart
taken from a folder of the repository or pulled from its chart repository; ``values_key``: which
values key of a chart sets a container field, proven by rendering; ``helmvalues``: reading and
writing Helm values layers; ``gitops``: what Argo CD and Flux add on top of a render.
"""
