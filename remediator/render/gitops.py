"""What Argo CD and Flux do on top of a Kustomize source, as plain data: the kustomization
fields they add (rendered by a wrapper kustomization, see ``kustomize.build``) and Flux's
post-build variable substitution. Shared by locate (to find the layer) and the gate (to render
the change exactly as the tool will).
"""

from __future__ import annotations

import copy
import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel import yamlio
from ..kernel.k8s import dig, split_image

if TYPE_CHECKING:
    from ..model import JSON, DocumentRef, TopLayer

#: `${VAR}`, `${VAR:=default}`, `${VAR:-default}`, `${VAR=default}`, `${VAR-default}`
#: (the forms of Flux's envsubst that only pick a value; string functions are not emulated)
VAR_REF = re.compile(r"\$\{([_A-Za-z][_A-Za-z0-9]*)(?:(:?[=-])([^}]*))?\}")
SUBSTITUTE_DISABLED = "kustomize.toolkit.fluxcd.io/substitute"


def kustomize_options(tool: str, settings: JSON) -> JSON:
    """The owner's own kustomize settings: an Application source's `kustomize:`, a Flux
    Kustomization's `spec`."""
    if tool == "argocd":
        options = settings.get("kustomize")
        return options if isinstance(options, dict) else {}
    if tool == "flux-kustomization":
        return settings
    return {}


def _argo_image(entry: str) -> JSON:
    """Argo CD's `[name=]new-image[:tag|@digest]` as a kustomize `images:` entry."""
    name, _, new = entry.partition("=") if "=" in entry else ("", "", entry)
    head, _, digest = new.partition("@")
    image, tag = split_image(head)
    out: JSON = {"name": name or image}
    if name and image != name:
        out["newName"] = image
    if tag:
        out["newTag"] = tag
    if digest:
        out["digest"] = digest
    return out


def wrapper_fields(tool: str, settings: JSON) -> JSON:
    """The kustomization fields the tool adds on top of the source folder (paths in
    `components` / `patches[].path` stay relative to that folder)."""
    o = kustomize_options(tool, settings)
    out: JSON = {}
    for key in ("namePrefix", "nameSuffix", "patches", "components"):
        if o.get(key):
            out[key] = copy.deepcopy(o[key])
    if tool == "argocd":
        images = [_argo_image(i) for i in o.get("images") or [] if isinstance(i, str)]
        if images:
            out["images"] = images
        for key in ("replicas", "commonLabels", "commonAnnotations", "namespace"):
            if o.get(key):
                out[key] = copy.deepcopy(o[key])
    elif tool == "flux-kustomization":
        if o.get("images"):
            out["images"] = copy.deepcopy(o["images"])
        if o.get("targetNamespace"):
            out["namespace"] = o["targetNamespace"]
        meta = o.get("commonMetadata")
        if isinstance(meta, dict):
            if isinstance(meta.get("annotations"), dict):
                out["commonAnnotations"] = dict(meta["annotations"])
            if isinstance(meta.get("labels"), dict):
                out["labels"] = [{"pairs": dict(meta["labels"]), "includeSelectors": False}]
    return out


class Variables(dict[str, str]):
    """Post-build variables; ``complete`` is False when some may come from where they cannot be
    read (a Secret, a ConfigMap not in the repository): an undefined one is then left as it is
    rather than guessed empty."""

    complete: bool = True


def substitute_text(text: str, variables: dict[str, str]) -> str:
    """``text`` with every simple `${...}` reference replaced as Flux's envsubst does: the
    variable's value when it is defined, else the default, else the empty string."""
    complete = getattr(variables, "complete", True)

    def one(m: re.Match[str]) -> str:
        var, op, default = m.group(1), m.group(2), m.group(3)
        if var in variables and not (op and op.startswith(":") and variables[var] == ""):
            return variables[var]
        if not complete:
            return m.group(0)
        return default if op else ""
    return VAR_REF.sub(one, text)


def substitute(obj: Any, variables: dict[str, str]) -> Any:
    """Every string of a rendered object substituted (objects that opt out are returned as
    they are)."""
    if isinstance(obj, dict) and _disabled(obj):
        return obj
    if isinstance(obj, dict):
        return {k: substitute(v, variables) for k, v in obj.items()}
    if isinstance(obj, list):
        return [substitute(v, variables) for v in obj]
    if isinstance(obj, str) and "${" in obj:
        return substitute_text(obj, variables)
    return obj


def _disabled(obj: JSON) -> bool:
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "kind" not in obj:
        return False
    marks = [*(meta.get("labels") or {}).items(), *(meta.get("annotations") or {}).items()]
    return any(k == SUBSTITUTE_DISABLED and v == "disabled" for k, v in marks)


def post_build(settings: JSON) -> JSON:
    """A Flux Kustomization spec's `postBuild` (empty when absent or malformed)."""
    post = settings.get("postBuild")
    return post if isinstance(post, dict) else {}


def merged_settings(tool: str, settings: JSON, overrides: list[JSON]) -> JSON:
    """An Argo CD source's settings with its `.argocd-source*.yaml` files merged over them
    (lowest precedence first; each file's `kustomize:` keys replace the Application's)."""
    if tool != "argocd" or not overrides:
        return settings
    kustomize = dict(kustomize_options(tool, settings))
    for doc in overrides:
        extra = doc.get("kustomize")
        if isinstance(extra, dict):
            kustomize.update(extra)
    return {**settings, "kustomize": kustomize}


def variables(settings: JSON, configmaps: list[JSON | None]) -> Variables | None:
    """Flux's post-build variables as far as the repository tells them (None: no
    substitution at all). ConfigMaps are those of `substituteFrom`, in its order (None for a
    Secret or one not in the repository: their values stay unknown); later entries win, and
    the inline `substitute` wins over all of them."""
    post = post_build(settings)
    if not post.get("substitute") and not post.get("substituteFrom"):
        return None
    out = Variables()
    out.complete = len(configmaps) == len(post.get("substituteFrom") or []) and all(
        cm is not None for cm in configmaps)
    for cm in configmaps:
        data = (cm or {}).get("data")
        if isinstance(data, dict):
            out.update({str(k): str(v) for k, v in data.items()})
    inline = post.get("substitute")
    if isinstance(inline, dict):
        out.update({str(k): str(v) for k, v in inline.items()})
    return out


def _doc(root: Path, ref: DocumentRef | None) -> JSON | None:
    return None if ref is None else _read_doc(root, ref.path, ref.index)


def _read_doc(root: Path, path: str, index: int = 0) -> JSON | None:
    try:
        docs = yamlio.load_documents(yamlio.read_text(root, path), path)
    except (yamlio.UnsafeYAML, OSError):
        return None
    doc = docs[index] if index < len(docs) else None
    return doc if isinstance(doc, dict) else None


def read_top(root: Path, top: TopLayer) -> tuple[JSON, Variables | None]:
    """(wrapper fields, post-build variables) of a top layer, read from the files under
    ``root`` (the repository, or the gate's scratch copy with the change applied)."""
    settings = top.settings
    owner = _doc(root, top.owner)
    if owner is not None:
        node = dig(owner, top.settings_path)
        if isinstance(node, dict):
            settings = node
    overrides = [d for d in (_read_doc(root, f) for f in top.override_files) if d]
    settings = merged_settings(top.tool, settings, overrides)
    configmaps = [_doc(root, ref) for ref in top.substitute_from]
    return wrapper_fields(top.tool, settings), (
        variables(settings, configmaps) if top.tool == "flux-kustomization" else None)


def normalize_repo_url(url: str) -> str:
    """Compare Git URLs the way a human would: scheme, user, `.git` and case do not matter."""
    u = url.strip()
    m = re.match(r"^[\w.-]+@([\w.-]+):(.+)$", u)  # scp-like: git@github.com:acme/repo.git
    if m:
        u = f"{m.group(1)}/{m.group(2)}"
    u = re.sub(r"^[a-z+]+://", "", u, flags=re.I)
    u = re.sub(r"^[^@/]+@", "", u)  # credentials or ssh user
    u = u.rstrip("/")
    if u.endswith(".git"):
        u = u[:-4]
    host, _, path = u.partition("/")
    return f"{host.lower()}/{path}"


def same_repo(url: str, repo_url: str) -> bool:
    """Whether ``url`` names the configured repository ``repo_url`` (any, when none is set)."""
    return not repo_url or normalize_repo_url(url) == normalize_repo_url(repo_url)


def source_folder(path: str) -> str:
    """An owner's source path as a repo folder: `./apps/x/` → `apps/x`; `.` → `` (the root)."""
    p = posixpath.normpath(path.strip().strip("/") or ".")
    return "" if p == "." else p


def deployed_paths(obj: JSON, repo_url: str = "") -> list[str]:
    """Repo folders an Argo CD Application (`spec.source(s)[].path` of a source in the
    repository ``repo_url``, any when it is empty) or a Flux Kustomization (`spec.path`)
    deploys. Shared by locate (a folder's owners) and validate (which renders are judged)."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    raw_spec = obj.get("spec")
    spec: JSON = raw_spec if isinstance(raw_spec, dict) else {}
    out = []
    if obj.get("kind") == "Application" and group == "argoproj.io":
        for s in [spec.get("source"), *(spec.get("sources") or [])]:
            if isinstance(s, dict) and isinstance(s.get("path"), str) and (
                not s.get("repoURL") or same_repo(str(s["repoURL"]), repo_url)
            ):
                out.append(source_folder(s["path"]))
    elif (obj.get("kind") == "Kustomization" and group == "kustomize.toolkit.fluxcd.io"
          and isinstance(spec.get("path"), str)):
        out.append(source_folder(spec["path"]))
    return out
