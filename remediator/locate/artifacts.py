"""Flux 2.7 artifacts: an ExternalArtifact (`source.toolkit.fluxcd.io`) that an ArtifactGenerator
(`source.extensions.fluxcd.io`, source-watcher) builds from a GitRepository, read back as the
folders of this repository it copies.

flux2-kustomize-helm-example splits its monorepo this way: the ArtifactGenerator copies
`@monorepo/apps/base/**` to `@artifact/base/` and `@monorepo/apps/production/**` to
`@artifact/production/` into the ExternalArtifact `apps`, and the Flux Kustomization `apps`
deploys its `path: ./production`: the repository folder `apps/production`, whose
`../base/podinfo` is `apps/base/podinfo` in the artifact as in the repository.

The artifact is followed when it is a view of one folder of one GitRepository (its *root*, here
`apps`): every copy keeps the paths below that root as they are, so a kustomization reads the
same files in the artifact and in the repository, and the repository's render is what Flux
applies. Anything else is a skip with the reason: copies from another kind of source (an
OCIRepository, a Bucket, another artifact), from two repositories, `Merge` / `Extract`
strategies (the artifact's files are not the repository's), copies that move files to other
relative places, and generators that expand a `pathPattern`. A file the generator does not copy
(not matched, or excluded) is never the layer.

Copy semantics (source-watcher's builder): `@a/dir/**` copies the contents of `dir` into the
destination folder; `@a/dir` (a folder, no glob) copies `dir` itself into it; a file goes to the
destination file, or into the destination folder when that ends with `/`; other globs (matched
one path segment per `*`) keep each match's full path below the destination.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..render.gitops import source_folder
from .errors import LocateSkip

if TYPE_CHECKING:
    from ..model import JSON
    from .repo import RepoIndex

GENERATOR_GROUP = "source.extensions.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
_GLOB_CHARS = re.compile(r"[*?\[\]]")


class ArtifactSkip(LocateSkip):
    """The artifact cannot be read as folders of this repository; the message is the reason."""


def _segments_match(pattern: str, path: str) -> bool:
    """Whether ``path`` matches a doublestar pattern (`*` within one segment, `**` any number
    of segments), as the generator's `exclude` patterns are matched."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        else:
            c = pattern[i]
            regex += "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
            i += 1
    return re.fullmatch(regex, path) is not None


def _within(path: str, folder: str) -> bool:
    return not folder or path == folder or path.startswith(f"{folder}/")


@dataclass(frozen=True)
class Copy:
    """One copy operation, as repository paths and where they land in the artifact."""

    shape: str  # "tree" (a folder's contents, recursively) | "file" | "glob"
    repo: str  # the repository folder, file, or glob pattern
    artifact: str  # where the folder's contents / the file / the matches land
    exclude: tuple[str, ...] = ()
    exclude_base: str = ""  # excludes are matched below this folder too

    def _excluded(self, path: str) -> bool:
        rel = path[len(self.exclude_base) + 1:] if self.exclude_base and _within(
            path, self.exclude_base) else path
        name = posixpath.basename(path)
        return any(_segments_match(p, path) or _segments_match(p, rel)
                   or ("/" not in p and _segments_match(p, name)) for p in self.exclude)

    def holds(self, path: str) -> bool:
        """Whether the repository file ``path`` is copied into the artifact by this operation."""
        if self.shape == "file":
            return path == self.repo
        if self.shape == "tree":
            return _within(path, self.repo) and path != self.repo and not self._excluded(path)
        parts, want = path.split("/"), self.repo.split("/")
        return len(parts) >= len(want) and all(
            fnmatch.fnmatchcase(p, w) for p, w in zip(parts, want, strict=False)) and \
            not self._excluded(path)

    def holds_folder(self, folder: str, files: Iterable[str]) -> bool:
        """Whether the repository folder is copied with all its manifests ``files`` (so a
        folder Flux lists file by file has the same manifests in the artifact)."""
        return self.shape == "tree" and _within(folder, self.repo) and not any(
            self._excluded(f) for f in files if _within(f, folder))


@dataclass
class ArtifactLayout:
    """An ExternalArtifact read as the folder ``root`` of the GitRepository it is built from."""

    artifact: str  # "<namespace>/<name>" of the ExternalArtifact
    generator: str  # "<namespace>/<name>" of the ArtifactGenerator
    git_name: str
    git_namespace: str
    root: str  # the repository folder that is the artifact's root ("" for the repository's root)
    copies: list[Copy] = field(default_factory=list)

    def holds(self, path: str) -> bool:
        """Whether the repository file ``path`` is in the artifact."""
        return any(c.holds(path) for c in self.copies)

    def folder(self, path: str, files: Iterable[str] = ()) -> str:
        """The repository folder for the artifact's folder ``path`` (a Kustomization's
        `spec.path`), when the artifact holds it as the repository has it (``files``: the
        repository's manifests, none of which it may exclude there)."""
        rel = source_folder(path)
        repo = posixpath.normpath(posixpath.join(self.root, rel)) if rel else self.root
        repo = "" if repo == "." else repo
        listed = list(files)
        if any(c.holds_folder(repo, listed) for c in self.copies):
            return repo
        kustomization = [posixpath.join(repo, f) if repo else f
                         for f in ("kustomization.yaml", "kustomization.yml", "Kustomization")]
        if any(self.holds(f) for f in kustomization):
            return repo  # a kustomization reads only what it names: each file is checked later
        raise ArtifactSkip(f"ExternalArtifact {self.artifact} does not hold the repository folder "
                           f"`{repo or '.'}` whole (its ArtifactGenerator {self.generator} copies "
                           f"{self.copied()}), so what Flux renders from `{path}` is not that "
                           "folder")

    def copied(self) -> str:
        return ", ".join(f"`{c.repo or '.'}`" for c in self.copies)

    def describe(self) -> str:
        return (f"ExternalArtifact {self.artifact}, which ArtifactGenerator {self.generator} "
                f"builds from `{self.root or '.'}` of GitRepository {self.git_name}")


def _copy(op: JSON, root: Path, generator: str) -> tuple[str, Copy]:
    """(alias, the operation as repository paths)."""
    src, dst = str(op.get("from") or ""), str(op.get("to") or "")
    strategy = str(op.get("strategy") or "Overwrite")
    if strategy != "Overwrite":
        raise ArtifactSkip(f"ArtifactGenerator {generator} copies `{src}` with the `{strategy}` "
                           "strategy: the artifact's files are not the repository's")
    alias, sep, pattern = src[1:].partition("/") if src.startswith("@") else ("", "", "")
    if not alias or not sep or not dst.startswith("@artifact/"):
        raise ArtifactSkip(f"ArtifactGenerator {generator} has a copy from `{src}` to `{dst}` "
                           "that is not `@<alias>/<path>` to `@artifact/<path>`")
    dest = dst[len("@artifact/"):]
    into_folder = dst.endswith("/") or not dest
    dest = source_folder(dest) if dest else ""
    exclude = tuple(str(p) for p in op.get("exclude") or [] if isinstance(p, str))
    if pattern == "**" or (pattern.endswith("/**") and not _GLOB_CHARS.search(pattern[:-3])):
        folder = source_folder(pattern[:-3]) if pattern != "**" else ""
        return alias, Copy("tree", folder, dest, exclude, folder)
    if _GLOB_CHARS.search(pattern):
        literal = []
        for part in pattern.strip("/").split("/"):
            if _GLOB_CHARS.search(part):
                break
            literal.append(part)
        return alias, Copy("glob", pattern.strip("/"), dest, exclude, "/".join(literal))
    path = source_folder(pattern)
    if path == ".." or path.startswith("../"):
        raise ArtifactSkip(f"ArtifactGenerator {generator} copies `{src}`, outside its source")
    if (root / path).is_dir():
        return alias, Copy("tree", path, posixpath.join(dest, posixpath.basename(path)) if dest
                           else posixpath.basename(path), exclude, path)
    target = posixpath.join(dest, posixpath.basename(path)) if into_folder and dest else \
        posixpath.basename(path) if into_folder else dest
    return alias, Copy("file", path, target, exclude)


def _root_of(c: Copy) -> str | None:
    """The repository folder the artifact's root must be for ``c`` to keep relative paths."""
    if c.shape == "glob":
        return "" if not c.artifact else None
    if not c.artifact:
        return c.repo if c.shape == "tree" else None
    if c.repo == c.artifact:
        return ""
    if c.repo.endswith(f"/{c.artifact}"):
        return c.repo[:-len(c.artifact) - 1]
    return None


def layout(generator: JSON, artifact: str, root: Path) -> ArtifactLayout:
    """How the ArtifactGenerator ``generator`` builds its artifact named ``artifact``."""
    meta = generator.get("metadata") or {}
    gen_ns = str(meta.get("namespace") or "")
    gen = f"{gen_ns}/{meta.get('name')}"
    spec = generator.get("spec") or {}
    if not isinstance(spec, dict):
        raise ArtifactSkip(f"ArtifactGenerator {gen} has no spec")
    if spec.get("pathPattern"):
        raise ArtifactSkip(f"ArtifactGenerator {gen} expands `pathPattern` "
                           f"`{spec['pathPattern']}`: which folders feed ExternalArtifact "
                           f"{artifact} is not followed")
    entry = next((a for a in spec.get("artifacts") or [] if isinstance(a, dict)
                  and a.get("name") == artifact), None)
    if entry is None:
        raise ArtifactSkip(f"ArtifactGenerator {gen} does not generate {artifact}")
    sources = {str(s.get("alias")): s for s in spec.get("sources") or [] if isinstance(s, dict)}
    copies, used = [], set()
    for op in entry.get("copy") or []:
        alias, c = _copy(op if isinstance(op, dict) else {}, root, gen)
        src = sources.get(alias)
        if src is None:
            raise ArtifactSkip(f"ArtifactGenerator {gen} copies from `@{alias}`, which is not "
                               "one of its sources")
        if src.get("kind") != "GitRepository":
            raise ArtifactSkip(f"ExternalArtifact {gen_ns}/{artifact} takes files from the "
                               f"{src.get('kind')} {src.get('name')} (ArtifactGenerator {gen}): "
                               "only files from this Git repository are patched")
        used.add((str(src.get("name") or ""), str(src.get("namespace") or gen_ns)))
        copies.append(c)
    if not copies:
        raise ArtifactSkip(f"ArtifactGenerator {gen} copies nothing into {artifact}")
    if len(used) > 1:
        names = ", ".join(sorted(f"{ns}/{n}" for n, ns in used))
        raise ArtifactSkip(f"ExternalArtifact {gen_ns}/{artifact} combines several "
                           f"GitRepositories ({names}): what comes from this repository "
                           "cannot be rendered alone")
    roots = {_root_of(c) for c in copies}
    if len(roots) != 1 or None in roots:
        moves = ", ".join(f"`{c.repo or '.'}` to `{c.artifact or '.'}`" for c in copies)
        raise ArtifactSkip(f"ArtifactGenerator {gen} places files at other relative paths in "
                           f"ExternalArtifact {gen_ns}/{artifact} than in the repository "
                           f"({moves}): rendering the repository's folders would not be what "
                           "Flux renders")
    [(git_name, git_ns)] = used
    return ArtifactLayout(f"{gen_ns}/{artifact}", gen, git_name, git_ns, roots.pop() or "",
                          copies)


def _objects(kind: str, group: str, objects: list[JSON], index: RepoIndex, namespace: str
             ) -> list[tuple[JSON, str]]:
    """(object, where) of a kind in the cluster snapshot, then the repository's copies."""
    out = [(o, "cluster") for o in objects if o.get("kind") == kind
           and str(o.get("apiVersion", "")).startswith(group)
           and (o.get("metadata") or {}).get("namespace", namespace) == namespace]
    out += [(d.body, f"repo file {d.path}") for d in index.docs if d.kind == kind
            and d.group == group and d.namespace in ("", namespace)]
    return out


def resolve(name: str, namespace: str, path: str, objects: list[JSON], index: RepoIndex
            ) -> tuple[ArtifactLayout, str]:
    """The layout of the ExternalArtifact ``namespace/name`` and the repository folder of its
    ``path``: from its `spec.sourceRef` when the cluster snapshot holds it, else from the
    ArtifactGenerators (cluster first, then the repository) that generate an artifact of that
    name and hold that folder. Generators that disagree are a skip."""
    what = f"ExternalArtifact {namespace}/{name}"
    live = next((o for o, _ in _objects("ExternalArtifact", SOURCE_GROUP, objects, index,
                                        namespace)
                 if (o.get("metadata") or {}).get("name") == name), None)
    gen_name = ""
    if live is not None:
        ref = (live.get("spec") or {}).get("sourceRef") or {}
        if ref.get("kind") != "ArtifactGenerator" or not str(ref.get("apiVersion", "")) \
                .startswith(GENERATOR_GROUP):
            made_by = f"{ref.get('kind')} {ref.get('name')}" if ref else "an unnamed producer"
            raise ArtifactSkip(f"{what} is produced by {made_by}, not an ArtifactGenerator: "
                               "where its files come from is not known")
        gen_name, namespace = str(ref.get("name") or ""), str(ref.get("namespace") or namespace)
    generators = [(g, where) for g, where in _objects("ArtifactGenerator", GENERATOR_GROUP,
                                                      objects, index, namespace)
                  if (not gen_name or (g.get("metadata") or {}).get("name") == gen_name)
                  and any(isinstance(a, dict) and a.get("name") == name
                          for a in (g.get("spec") or {}).get("artifacts") or [])]
    if not generators:
        raise ArtifactSkip(f"{what}: no ArtifactGenerator that generates it was found in the "
                           "cluster snapshot or the repository")
    in_cluster = [(g, w) for g, w in generators if w == "cluster"]
    found: list[tuple[ArtifactLayout, str, str]] = []
    first_error: ArtifactSkip | None = None
    for generator, where in in_cluster or generators:
        try:
            lo = layout(generator, name, index.root)
            manifests = {d.path for d in index.docs} | {
                str(k.get("_file")) for k in index.kustomizations.values()}
            found.append((lo, lo.folder(path, manifests), where))
        except ArtifactSkip as exc:
            first_error = first_error or exc
    if not found:
        assert first_error is not None
        raise first_error
    if len({(lo.git_name, lo.git_namespace, folder) for lo, folder, _ in found}) > 1:
        files = ", ".join(sorted(w for _, _, w in found))
        raise ArtifactSkip(f"{what} is generated differently by {len(found)} ArtifactGenerators "
                           f"({files}) and the cluster snapshot does not say which one applies")
    # e.g. clusters/staging and clusters/production both generate `apps`; only the one that
    # copies `apps/production` holds `./production`: that one is the layout
    return found[0][0], found[0][1]
