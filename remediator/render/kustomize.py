"""Rendering kustomizations with the real tool (`kustomize build` or `kubectl kustomize`).

Origin annotations are requested through a throw-away wrapper kustomization in a temporary folder
that points at the target with a relative path, so the user's tree is never written to.

A folder without a kustomization file is rendered the way Flux's kustomize-controller does it
(fluxcd/pkg `kustomize.Generator`): the wrapper lists every `.yaml` / `.yml` file under it, and a
sub-folder that holds a kustomization file as one resource, not descended into. Files the
source-controller leaves out of the artifact are left out too: its default exclusions and the
`.sourceignore` files of the folder and the folders above it (gitignore syntax).
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..kernel import files, limits, proc, turns, yamlio

if TYPE_CHECKING:
    import tempfile

    import pathspec  # imported where a Flux folder is listed (~9 ms at every start)

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
#: what source-controller never puts into a GitRepository artifact (VCS, CI and tool configs)
FLUX_EXCLUDED = (".git/", ".gitignore", ".gitmodules", ".gitattributes", ".github/",
                 ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml",
                 "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
                 "**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml")


def is_remote(entry: str) -> bool:
    """A kustomize resource that lives in another repository or on the web (never fetched)."""
    return ("://" in entry or entry.startswith(("git@", "github.com/", "gitlab.com/",
                                                  "bitbucket.org/"))
            or "?ref=" in entry or "?version=" in entry)


#: fields whose entries are files read as input (strings, or mappings with a `path`)
INPUT_FIELDS = ("patchesStrategicMerge", "patches", "patchesJson6902", "replacements",
                "configurations", "crds", "generators", "transformers", "validators")
GENERATOR_FIELDS = ("configMapGenerator", "secretGenerator")


class NamedFiles(NamedTuple):
    """The local files one kustomization names, as repo paths (joined to its folder)."""
    #: `resources` / `bases` / `components` entries: object files or kustomization folders
    references: list[str]
    #: everything else it reads: patch files, generator sources, replacements, transformer
    #: and generator configs, CRDs, the OpenAPI schema
    inputs: list[str]
    #: of the inputs, the generator sources: data copied into a ConfigMap or Secret as it is,
    #: never parsed by kustomize (a `.yml` there may be any application's config)
    data: list[str]


def _generator_sources(entry: dict[str, Any]) -> list[str]:
    """Files a configMapGenerator / secretGenerator entry reads (`files` may be `key=path`)."""
    out = [item.split("=", 1)[-1] for item in entry.get("files") or [] if isinstance(item, str)]
    out += [item for item in entry.get("envs") or [] if isinstance(item, str)]
    if isinstance(entry.get("env"), str):
        out.append(entry["env"])
    return out


def files_named(directory: str, body: dict[str, Any]) -> NamedFiles:
    """The local files the kustomization ``body`` in ``directory`` (repo-relative, "" for the
    root) names directly; inline patches and remote entries are left out. The one reading of
    a kustomization's file references: locate asks "who else reads this file", validate "which
    builds does this change touch"."""
    refs: list[str] = []
    for key in ("resources", "bases", "components"):
        refs += [e for e in body.get(key) or [] if isinstance(e, str) and not is_remote(e)]
    inputs: list[str] = []
    for key in INPUT_FIELDS:
        for entry in body.get(key) or []:
            if isinstance(entry, str) and "\n" not in entry:
                inputs.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
                inputs.append(entry["path"])
    data = [f for key in GENERATOR_FIELDS for entry in body.get(key) or []
            if isinstance(entry, dict) for f in _generator_sources(entry)]
    inputs += data
    openapi = body.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        inputs.append(openapi["path"])

    def join(p: str) -> str:
        return posixpath.normpath(posixpath.join(directory, p))

    return NamedFiles([join(r) for r in refs], [join(i) for i in inputs if not is_remote(i)],
                      [join(d) for d in data if not is_remote(d)])


def roots(includes: Mapping[str, Iterable[str]]) -> set[str]:
    """Kustomizations (folder -> the kustomization folders it pulls in) that no *other* one
    pulls in: what a GitOps tool deploys."""
    included = {d for outer, inner in includes.items() for d in inner if d != outer}
    return {d for d in includes if d not in included}


class RenderError(RuntimeError):
    """The kustomization did not render (or no renderer is installed); one-line message."""


def _scratch() -> tempfile.TemporaryDirectory[str]:
    import tempfile  # loads shutil, random...: only when something is rendered

    return tempfile.TemporaryDirectory(prefix="remediator-kustomize-")


@lru_cache(maxsize=1)
def renderer() -> list[str] | None:
    """The command that renders a kustomization directory, or None when none is installed."""
    import shutil  # with bz2, lzma...: `validate` of plain manifests renders nothing

    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def special_file(target: Path, shown_from: Path | None = None) -> str:
    """Why kustomize must not be given ``target``: the first file its kustomizations name
    (followed from folder to folder) that is not a regular file, as "`path` is a FIFO", or "".
    A FIFO has size 0 and blocks its reader forever; a device never ends. ``stat`` only: the
    file is never opened. Paths are shown relative to ``shown_from`` (default: ``target``)."""

    def shown(path: Path) -> str:
        return os.path.relpath(path, shown_from or target)

    queue, seen = [target], set[Path]()
    while queue and len(seen) < 10_000:
        folder = Path(os.path.realpath(queue.pop()))
        if folder in seen:
            continue
        seen.add(folder)
        names = [folder / f for f in KUSTOMIZATION_FILES if os.path.lexists(folder / f)][:1]
        for name in names:
            try:
                mode = name.stat().st_mode
                body = yamlio.load_documents(files.read_bytes(
                    name, limits.current().file_bytes).decode("utf-8"), name.name) \
                    if stat.S_ISREG(mode) else None
            except (OSError, ValueError):  # UnreadableFile, UnsafeYAML: kustomize says why
                continue
            if body is None:
                return f"`{shown(name)}` is {files.kind_of(mode)}"
            doc = body[0] if body and isinstance(body[0], dict) else {}
            named = files_named("", doc)
            for rel in [*named.references, *named.inputs]:
                path = folder / rel
                try:
                    mode = path.stat().st_mode
                except (OSError, ValueError):
                    continue  # missing or a loop: kustomize reports it at once
                if stat.S_ISDIR(mode):
                    queue.append(path)
                elif not stat.S_ISREG(mode):
                    return f"`{shown(path)}` is {files.kind_of(mode)}"
    return ""


def _run(target: Path, cwd: str, label: str, outside: bool = False,
         shown_from: Path | None = None) -> str:
    cmd = renderer()
    if cmd is None:
        raise RenderError(
            "cannot render kustomizations: neither kustomize nor kubectl is installed")
    special = special_file(target, shown_from)
    if special:  # refused at once, rather than kustomize blocking on it until the deadline
        raise RenderError(f"kustomize build of {label} refused: {special}, not a regular file")
    bounds = limits.current()
    try:
        with turns.waiting():  # other incidents of the pass plan meanwhile (kernel/turns)
            result = proc.run([*cmd, str(target),
                               *(["--load-restrictor=LoadRestrictionsNone"] if outside else [])],
                              cwd=cwd, timeout=bounds.render_timeout_seconds,
                              max_output=bounds.command_output_bytes)
    except proc.Stopped as exc:
        raise RenderError(f"rendering {label} stopped: {str(exc).partition(': ')[2]}") from None
    except OSError as exc:
        raise RenderError(f"cannot run {cmd[0]}: {exc.strerror or exc}") from None
    if result.returncode != 0:
        raise RenderError(f"kustomize build of {label} failed: "
                          f"{failure_reason(result.stderr, result.returncode)}")
    return result.stdout.decode("utf-8", errors="replace")


def failure_reason(stderr: str, returncode: int) -> str:
    """kustomize's error on one line. kubectl logs it through klog: `err="..."` on one line, or,
    when the error spans lines (a failed remote fetch quoting git's output), `err=<` then the
    lines, tab-indented, then ` >`; `kustomize build` prints `Error: ...`."""
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if line.rstrip().endswith("err=<"):
            body = [ln.strip() for ln in lines[i + 1:]]
            body = body[:body.index(">")] if ">" in body else body
            if body:
                return " ".join(body)
    reason = lines[-1] if lines else f"exit code {returncode}"
    if "err=" in reason:
        reason = reason.split("err=", 1)[1].strip('"')
    return reason


def _objects(text: str, label: str) -> list[dict[str, Any]]:
    try:
        docs = yamlio.load_documents(text, f"render of {label}")
    except yamlio.UnsafeYAML as exc:
        raise RenderError(str(exc)) from None
    return [d for d in docs if isinstance(d, dict)]


def has_kustomization(directory: Path) -> bool:
    return any((directory / f).is_file() for f in KUSTOMIZATION_FILES)


def _ignored(directory: Path, root: Path) -> pathspec.GitIgnoreSpec:
    """source-controller's exclusions that apply under ``directory``: its defaults and the
    `.sourceignore` patterns of ``root`` down to ``directory`` (each relative to its folder),
    as one spec over paths relative to ``root``."""
    lines = list(FLUX_EXCLUDED)
    rel = directory.relative_to(root) if directory.is_relative_to(root) else Path()
    folders = [root, *(root / Path(*rel.parts[:i + 1]) for i in range(len(rel.parts)))]
    for folder in folders:
        ignore = folder / ".sourceignore"
        if not ignore.is_file():
            continue
        prefix = folder.relative_to(root).as_posix()
        for line in ignore.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if not line or line.startswith("#") or prefix == ".":
                lines.append(line)
                continue
            neg, pat = ("!", line[1:]) if line.startswith("!") else ("", line)
            # a pattern without an inner slash matches at any depth below its own folder
            inner = "/" in pat.rstrip("/")
            lines.append(f"{neg}{prefix}/{'' if inner else '**/'}{pat.lstrip('/')}")
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def flux_resources(directory: Path, root: Path | None = None) -> list[Path]:
    """What Flux's generated kustomization lists for a folder without one: every YAML file
    under it, and each sub-folder holding a kustomization file (not descended into); sorted
    as a directory walk visits them. ``root`` is the repository (for `.sourceignore`)."""
    directory = directory.resolve()
    root = (root or directory).resolve()
    ignored = _ignored(directory, root)
    out: list[Path] = []

    def skip(path: Path, is_dir: bool) -> bool:
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        return ignored.match_file(rel + ("/" if is_dir else ""))

    for dirpath, dirnames, filenames in os.walk(directory):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if skip(sub, True) or sub.is_symlink():
                continue
            if has_kustomization(sub):
                out.append(sub)
            else:
                keep.append(d)
        dirnames[:] = keep
        out += [here / f for f in sorted(filenames)
                if f.endswith((".yaml", ".yml")) and not skip(here / f, False)]
    return sorted(out, key=lambda p: p.relative_to(directory).parts)


def _wrapper(directory: Path, tmp: str, top: dict[str, Any] | None, origins: bool,
             root: Path | None = None) -> bool:
    """Write the throw-away kustomization that renders ``directory`` with ``top`` (the fields a
    GitOps tool adds on top of it) into ``tmp``. Paths in ``top`` are relative to ``directory``,
    as the tool reads them; they are rewritten relative to the wrapper. Returns whether files
    outside the wrapper are loaded (then the load restrictor must allow it). A folder without a
    kustomization file is listed file by file, as Flux generates it."""
    outside = not has_kustomization(directory)
    resources = [directory] if not outside else flux_resources(directory, root)
    fields: dict[str, Any] = {"resources": [os.path.relpath(r, tmp) for r in resources]}
    for key, value in (top or {}).items():
        if key == "components":
            value = [os.path.relpath(directory / str(c), tmp) for c in value]
        elif key == "patches":
            value = [dict(p) for p in value if isinstance(p, dict)]
            for p in value:
                if isinstance(p.get("path"), str):
                    p["path"] = os.path.relpath(directory / p["path"], tmp)
                    outside = True
        fields[key] = value
    if origins:
        fields["buildMetadata"] = ["originAnnotations"]
    Path(tmp, "kustomization.yaml").write_text(json.dumps(fields, indent=1), encoding="utf-8")
    return outside


def build(directory: Path, label: str = "", top: dict[str, Any] | None = None,
          root: Path | None = None) -> list[dict[str, Any]]:
    """Render ``directory`` (with ``top`` added on top of it, if given) and return its
    objects. ``root``: the repository, whose `.sourceignore` files apply to a folder rendered
    as Flux generates it."""
    directory = directory.resolve()
    label = label or directory.name
    with _scratch() as tmp:
        if not top and has_kustomization(directory):
            return _objects(_run(directory, tmp, label), label)
        outside = _wrapper(directory, tmp, top, origins=False, root=root)
        return _objects(_run(Path(tmp), tmp, label, outside, directory), label)


def build_with_origins(
    directory: Path, label: str = "", top: dict[str, Any] | None = None,
    root: Path | None = None,
) -> list[tuple[dict[str, Any], Path | None]]:
    """Render ``directory`` (with ``top`` on top); each object comes with the absolute path of
    the file it came from (None when it was generated or came from a remote base). The origin
    annotation is removed."""
    directory = directory.resolve()
    label = label or directory.name
    with _scratch() as tmp:
        outside = _wrapper(directory, tmp, top, origins=True, root=root)
        objects = _objects(_run(Path(tmp), tmp, label, outside, directory), label)
        out: list[tuple[dict[str, Any], Path | None]] = []
        for obj in objects:
            out.append((strip_build_annotations(obj), _origin(obj, Path(tmp))))
    return out


def _origin(obj: dict[str, Any], base: Path) -> Path | None:
    ann = ((obj.get("metadata") or {}).get("annotations") or {}).get(ORIGIN_ANNOTATION)
    if not ann:
        return None
    try:
        docs = yamlio.load_documents(ann)
    except yamlio.UnsafeYAML:
        return None
    data = docs[0] if docs else None
    if not isinstance(data, dict) or "repo" in data or not data.get("path"):
        return None
    return Path(os.path.normpath(base / str(data["path"])))


def strip_build_annotations(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    ann = meta.get("annotations")
    if isinstance(ann, dict) and ORIGIN_ANNOTATION in ann:
        ann = {k: v for k, v in ann.items() if k != ORIGIN_ANNOTATION}
        meta = {**meta}
        if ann:
            meta["annotations"] = ann
        else:
            meta.pop("annotations", None)
        obj = {**obj, "metadata": meta}
    return obj
