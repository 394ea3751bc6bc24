"""Earlier image tags, read from the repository's git history (for image reverts).

The files read are the ones where the tag is set: the located file and its image-setting layer;
for a Flux HelmRelease, every file its Flux Kustomization's render reads (the base release, the
environment's values patch, `valuesFrom` ConfigMaps and their generator files), since the tag
usually lives lower down than the layer a change goes to. In Helm values the tag is found under
the chart's own values key (`image.tag`, with or without a `repository` next to it).
"""

from __future__ import annotations

import contextlib
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..kernel import gitio, limits, yamlio
from ..kernel.k8s import dig, split_image
from ..render import kustomize
from . import gitlog

MAX_COMMITS = 50
#: kustomizations followed from a Flux Kustomization's folder (bases of bases...)
MAX_FOLDERS = 50


@dataclass
class TagInHistory:
    tag: str
    commit: str  # full sha
    date: str  # ISO 8601
    summary: str  # commit subject


@dataclass(frozen=True)
class ValuesKey:
    """Where Helm values keep the tag: ``key`` (`("image",)`) + `tag`, in the HelmRelease
    named one of ``releases`` (its `spec.values`), in values files and in values held in
    strings (a `valuesFrom` ConfigMap, an Argo CD `helm.values`)."""

    key: tuple[str, ...]
    releases: frozenset[str] = frozenset()


def _values_roots(doc: Any, values: ValuesKey) -> list[Any]:
    """The Helm values mappings of a document (or of a document held in one of its strings)."""
    if not isinstance(doc, dict):
        return []
    kind = doc.get("kind")
    if kind is None and "apiVersion" not in doc:
        return [doc]  # a plain values file
    if kind == "HelmRelease":
        name = (doc.get("metadata") or {}).get("name")
        return [dig(doc, ("spec", "values"))] if name in values.releases else []
    if kind == "Application":
        spec = doc.get("spec") or {}
        sources = [spec.get("source") or {}, *(spec.get("sources") or [])]
        return [dig(s, ("helm", "valuesObject")) for s in sources if isinstance(s, dict)]
    return []


def _embedded(data: Any) -> list[Any]:
    """Documents held in multi-line strings (ConfigMap values, Argo CD `helm.values`)."""
    if isinstance(data, dict):
        return [d for v in data.values() for d in _embedded(v)]
    if isinstance(data, list):
        return [d for v in data for d in _embedded(v)]
    if isinstance(data, str) and "\n" in data:
        with contextlib.suppress(yamlio.UnsafeYAML):
            return yamlio.load_documents(data, "embedded document", raw_scalars=True)
    return []


def _keyed_tags(docs: list[Any], values: ValuesKey, out: list[str]) -> None:
    for doc in docs:
        for root in [*_values_roots(doc, values), *_embedded(doc)]:
            tag = dig(root, (*values.key, "tag"))
            if isinstance(tag, str) and tag:
                out.append(tag)


def _tags_in(data: Any, image_name: str, out: list[str]) -> None:
    if isinstance(data, dict):
        # kustomize `images:` entry: the image that runs is newName (when set), else name
        runs_as = data.get("newName") or data.get("name")
        if runs_as == image_name and isinstance(data.get("newTag"), str):
            out.append(data["newTag"])
        # Argo CD Helm parameter (Image Updater writes these): `{name: image.tag, value: ...}`
        if str(data.get("name", "")).endswith("image.tag") and isinstance(data.get("value"), str):
            out.append(data["value"])
        # Helm values: `image: {repository: ..., tag: ...}` (with an optional `registry:`)
        repo = data.get("repository")
        if isinstance(repo, str) and isinstance(data.get("tag"), str) and image_name in (
            repo, f"{data.get('registry')}/{repo}"
        ):
            out.append(data["tag"])
        for v in data.values():
            _tags_in(v, image_name, out)
    elif isinstance(data, list):
        for v in data:
            _tags_in(v, image_name, out)
    elif isinstance(data, str) and "\n" in data:
        # a document in a string: an inline patch of an Argo CD Application / Flux
        # Kustomization, or values a ConfigMap holds for Flux's valuesFrom
        with contextlib.suppress(yamlio.UnsafeYAML):
            _tags_in(yamlio.load_documents(data, "embedded document", raw_scalars=True),
                     image_name, out)
    elif isinstance(data, str):
        # Argo CD image settings read `[name=]new-image:tag`: the image is after the `=`
        name, tag = split_image(data.split("=", 1)[1] if "=" in data else data)
        if name == image_name and tag:
            out.append(tag)


def _kustomization(root: Path, folder: str) -> dict[str, Any] | None:
    for name in kustomize.KUSTOMIZATION_FILES:
        rel = posixpath.join(folder, name) if folder else name
        if (root / rel).is_file():
            try:
                docs = yamlio.load_documents(yamlio.read_text(root, rel), rel)
            except (yamlio.UnsafeYAML, OSError):
                return None
            return docs[0] if docs and isinstance(docs[0], dict) else None
    return None


def rendered_files(root: Path, folder: str) -> list[str]:
    """The repo files a Flux Kustomization's render of ``folder`` reads: through a
    kustomization's resources, patches and generator sources, bases included; every YAML file
    under a folder without one (Flux generates the kustomization)."""
    files: list[str] = []
    queue, seen = [folder], set[str]()
    while queue and len(seen) < MAX_FOLDERS:
        current = queue.pop(0)
        if current in seen or (current and not (root / current).is_dir()):
            continue
        seen.add(current)
        body = _kustomization(root, current)
        if body is None:
            files += [posixpath.join(current, rel) if current else rel
                      for rel, _ in yamlio.iter_yaml_paths(root / current)]
            continue
        named = kustomize.files_named(current, body)
        for ref in [*named.references, *named.inputs]:
            ref = "" if ref == "." else ref
            if (root / ref).is_dir():
                queue.append(ref)
            elif (root / ref).is_file():
                files.append(ref)
    return list(dict.fromkeys(files))


def image_tags(repo_root: Path, paths: str | list[str], image_name: str,
               values: ValuesKey | None = None) -> list[TagInHistory]:
    """Tags of ``image_name`` the files had in earlier commits, newest first, each once (with
    the newest commit that had it). ``values``: also the tags under that Helm values key.

    A repository without git history (or a path git does not know) gives an empty list.
    """
    if not (repo_root / ".git").exists():  # not a checkout (git would ask a folder above)
        return []
    # the folder, not a GitPython Repo: Repo() reads .git/config itself, without a deadline
    repo = repo_root
    if isinstance(paths, str):
        paths = [paths]
    seen: dict[str, TagInHistory] = {}
    when: dict[str, int] = {}  # tag -> commit time (epoch seconds; dates carry time zones)
    try:
        log = gitlog.file_log(repo_root)
    except (gitio.GitError, ValueError):  # no commit yet
        return []
    for path in dict.fromkeys(paths):
        logged = gitlog.commits_of(log, path, MAX_COMMITS)
        try:
            commits = logged if logged is not None else [
                gitlog.LoggedCommit(c.hexsha, c.committed_date, c.committed_iso, c.summary)
                for c in gitio.commits(repo, "HEAD", "--", path, max_count=MAX_COMMITS)]
        except (gitio.GitError, ValueError):
            continue
        for commit in commits:  # newest first
            try:
                # a git command within the deadline, never GitPython's object reads (its
                # persistent cat-file has none); a file too large to be a manifest is not read
                data = gitio.blob(repo, commit.sha, path, limits.current().file_bytes)
                if data is None:
                    continue
                # every scalar as written: an unquoted `newTag: 1.10` is the tag "1.10"
                docs = yamlio.load_documents(data.decode("utf-8"), path, raw_scalars=True)
            except gitio.GitError as exc:
                if gitio.timed_out(exc):
                    return []  # the object store does not answer: no history today
                continue
            except (UnicodeDecodeError, yamlio.UnsafeYAML):
                continue
            found: list[str] = []
            _tags_in(docs, image_name, found)
            if values is not None:
                _keyed_tags(docs, values, found)
            for tag in found:
                if tag not in seen or commit.time > when[tag]:
                    when[tag] = commit.time
                    seen[tag] = TagInHistory(tag, commit.sha, commit.date, commit.summary)
    # newest first across the files (a stable sort keeps one file's order on equal times)
    return sorted(seen.values(), key=lambda h: when[h.tag], reverse=True)
