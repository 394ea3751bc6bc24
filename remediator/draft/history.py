"""Earlier image tags of a file, read from the repository's git history (for image reverts)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import yamlio
from ..k8s import split_image

MAX_COMMITS = 50


@dataclass
class TagInHistory:
    tag: str
    commit: str  # full sha
    date: str  # ISO 8601
    summary: str  # commit subject


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


def image_tags(repo_root: Path, path: str, image_name: str) -> list[TagInHistory]:
    """Tags of ``image_name`` the file had in earlier commits, newest first, each once.

    A repository without git history (or a path git does not know) gives an empty list.
    """
    try:
        import git  # GitPython; imported here so that the rules drafter loads without git
    except ImportError:  # pragma: no cover - a declared dependency
        return []
    try:
        repo = git.Repo(repo_root, search_parent_directories=False)
        commits = list(repo.iter_commits(paths=path, max_count=MAX_COMMITS))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError, ValueError):
        return []
    seen: dict[str, TagInHistory] = {}
    for commit in commits:
        try:
            blob = commit.tree / path
            text = blob.data_stream.read().decode("utf-8")
            # every scalar as written: an unquoted `newTag: 1.10` is the tag "1.10", not 1.1
            docs = yamlio.load_documents(text, path, raw_scalars=True)
        except (KeyError, UnicodeDecodeError, yamlio.UnsafeYAML):
            continue
        found: list[str] = []
        _tags_in(docs, image_name, found)
        for tag in found:
            if tag not in seen:
                seen[tag] = TagInHistory(tag, commit.hexsha, commit.committed_datetime.isoformat(),
                                         str(commit.summary))
    return list(seen.values())
