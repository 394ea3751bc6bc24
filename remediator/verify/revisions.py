"""Which git revisions the cluster runs for a workload: what its GitOps owner last synced.

Argo CD `status.sync.revision` (`revisions` for multi-source apps); Flux
`status.lastAppliedOriginRevision` / `lastAppliedRevision` of the Kustomization (for a
HelmRelease: of the Kustomization that applies it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..model import ObjectRef
from ..render.owner import identify

if TYPE_CHECKING:
    from ..model import JSON, ClusterState, VerifySettings

#: a git commit at the end of a revision (`<sha>`, `main@sha1:<sha>`, `main/<sha>`), not the
#: tail of an artifact digest (`latest@sha256:<64 hex>`)
_SHA = re.compile(r"(?<![0-9a-f])([0-9a-f]{40})$")


def _gitops_object(state: ClusterState, kind: str, namespace: str, name: str) -> JSON:
    for ref, obj in state.objects.items():
        if (ref.kind, ref.namespace, ref.name) == (kind, namespace, name):
            return obj
    return {}


def synced_revisions(state: ClusterState, workload: JSON, settings: VerifySettings
                     ) -> list[str]:
    """The git revisions the workload's GitOps owner last synced (``workload``: the identity a
    PR record keeps, `apiVersion`, `kind`, `namespace`, `name`); none for a workload no owner
    is found for."""
    try:
        ref = ObjectRef(str(workload["apiVersion"]), str(workload["kind"]),
                        str(workload["namespace"]), str(workload["name"]))
    except (KeyError, TypeError):
        return []
    live = state.objects.get(ref)
    owner = identify(ref, (live or {}).get("metadata") or {},
                     settings.argocd_label_tracking) if live else None
    if owner is None:
        return []
    if owner.tool == "argocd":
        sync = (_gitops_object(state, "Application", owner.namespace, owner.name)
                .get("status") or {}).get("sync") or {}
        revs = [sync.get("revision"), *(sync.get("revisions") or [])]
    else:
        obj = _gitops_object(state, "HelmRelease" if owner.tool == "flux-helmrelease"
                             else "Kustomization", owner.namespace, owner.name)
        if owner.tool == "flux-helmrelease":
            labels = (obj.get("metadata") or {}).get("labels") or {}
            obj = _gitops_object(state, "Kustomization",
                                 str(labels.get("kustomize.toolkit.fluxcd.io/namespace", "")),
                                 str(labels.get("kustomize.toolkit.fluxcd.io/name", "")))
        status = obj.get("status") or {}
        # an ExternalArtifact's revision is its digest; the commit it was built from is the
        # origin revision (Flux 2.7, ArtifactGenerator `originRevision`)
        revs = [status.get("lastAppliedOriginRevision"), status.get("lastAppliedRevision")]
    return [m.group(1) for r in revs if isinstance(r, str) and (m := _SHA.search(r))]
