"""Files of one owner's folder that another owner's render reads too.

A kustomization may pull in another deployed folder whole (argocd-example-apps: `pre-post-sync`
lists `../kustomize-guestbook`, which the `kustomize-guestbook` Application also deploys;
kustomize's `multibases`). An edit of any file the folder's render reads then changes the other
owner's objects as well: the outer render includes the edited folder, so the gate's "other
renders unchanged" check (which leaves out renders that include the target overlay, as a
wrapper of it changes with it) does not see it. Only the owners tell a wrapper from another
deployment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import Location
    from .repo import RepoIndex

#: the GitOps tools' own objects: their settings are the owner's, not a shared layer
_OWNER_GROUPS = ("argoproj.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io")


def edited_files(loc: Location, index: RepoIndex) -> list[str]:
    """The files a change at ``loc`` writes, but an owner object's own file (its patches,
    images or variables are read by the tool for that owner only)."""
    paths = [loc.target.path, *(p.target.path for p in loc.prerequisites)]
    if loc.image_override is not None and loc.image_override.target is not None:
        paths.append(loc.image_override.target.path)
    owned = {d.path for d in index.docs if d.group in _OWNER_GROUPS}
    return [p for p in dict.fromkeys(paths) if p not in owned]


def other_owners_reading(loc: Location, source_path: str, index: RepoIndex,
                         owners: dict[str, list[str]]) -> str:
    """Why the change at ``loc`` in the folder ``source_path`` would reach other owners: a
    deployed folder other than ``source_path`` whose render reads an edited file, owned by
    someone who does not deploy ``source_path``; "" when there is none."""
    mine = set(owners.get(source_path, []))
    deployed = [d for d, who in owners.items() if who]
    for path in edited_files(loc, index):
        for folder in index.renders_of_file(path, deployed):
            others = [o for o in owners.get(folder, []) if o not in mine]
            if folder != source_path and others:
                return (f"`{path}` is also read by the render of `{folder or '.'}`, deployed by "
                        f"{', '.join(others)}: an edit there changes that deployment too; the "
                        "narrower layer is a patch in the owner's own settings, which "
                        "remediator does not add yet")
    return ""
