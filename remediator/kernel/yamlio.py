"""Reading YAML from repositories we do not trust.

Shared by every stage that reads the GitOps repo. A hostile or broken repo must cost us a warning,
never a crash, a hang or a read outside the tree:
- symlinks that resolve outside the repo root are not followed;
- files over `limits.fileBytes`, 0-byte files and non-UTF-8 files are skipped with a warning;
- alias ("billion laughs") bombs are refused before anything is expanded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import files, limits

# libyaml when the PyYAML wheel has it (it normally does): parsing is most of a repo scan's cost.
_FastSafe: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: every scalar as the string it is written as (for values whose text matters, like tags)
_FastRaw: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_VALUE_TAG = "tag:yaml.org,2002:value"


class _Loader(_FastSafe):
    """The safe loader, reading YAML 1.1's "value key" `=` as the string it is: go-yaml (kubectl,
    Argo CD, Flux) does, and Alertmanager's `matchType: =` is common."""


_Loader.add_constructor(_VALUE_TAG, yaml.SafeLoader.construct_yaml_str)


class _RawLoader(_FastRaw):
    pass


class _ReanchoringComposer(yaml.composer.Composer):
    """An anchor defined again names the newer node from there on, as the YAML spec says and
    go-yaml does (`- name: &name A ... - name: &name B`, common in home-lab repositories);
    PyYAML and libyaml refuse it. Only used for a text libyaml refused for that reason."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        events: Any = self  # the parser this composer is mixed with
        if not events.check_event(yaml.AliasEvent):
            anchor = events.peek_event().anchor
            if anchor is not None:
                self.anchors.pop(anchor, None)
        return super().compose_node(parent, index)


class _ReanchoringLoader(
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _ReanchoringComposer,
        yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _ReanchoringComposer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


_ReanchoringLoader.add_constructor(  # type: ignore[type-var]
    _VALUE_TAG, yaml.SafeLoader.construct_yaml_str)


class _ReanchoringRawLoader(
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _ReanchoringComposer,
        yaml.constructor.BaseConstructor, yaml.resolver.BaseResolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _ReanchoringComposer.__init__(self)
        yaml.constructor.BaseConstructor.__init__(self)
        yaml.resolver.BaseResolver.__init__(self)


def _reanchored(exc: yaml.YAMLError) -> bool:
    return "duplicate anchor" in str(getattr(exc, "context", None) or "")

#: the defaults of the limits (`limits.fileBytes`, `yamlNodes`, `yamlDepth`); the ones in force
#: are ``limits.current()``'s. Deeper nesting is refused: Kubernetes manifests stay far below,
#: and the C composer recurses (tens of thousands of levels crash the process instead of raising)
MAX_FILE_BYTES = limits.Limits().file_bytes
MAX_EXPANDED_NODES = limits.Limits().yaml_nodes
MAX_DEPTH = limits.Limits().yaml_depth
YAML_SUFFIXES = (".yaml", ".yml")
SKIP_DIRS = {".git", "node_modules", ".terraform"}


class UnsafeYAML(ValueError):
    """The text is not YAML we are willing to load (bomb, bad encoding, syntax error)."""


class _DuplicateKey(ValueError):
    pass


def _too_deep(name: str) -> UnsafeYAML:
    """The one refusal for deep nesting, whoever sees it first: our guard, PyYAML's own limit
    (PyYAML >= 6.0.4 raises "exceeded maximum nesting depth"), or a recursing composer."""
    return UnsafeYAML(f"{name}: refused: nested more than {limits.current().yaml_depth} levels "
                      "deep")


def _is_nesting_error(exc: yaml.YAMLError) -> bool:
    return "nesting depth" in str(getattr(exc, "problem", None) or exc)


_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class LoadedFile:
    """A YAML file of the repository, read and parsed safely."""

    path: str  # repo-relative, forward slashes
    text: str
    documents: list[Any]  # plain Python data (dict/list/scalars); None for empty documents


@dataclass
class RepoFiles:
    """The YAML files of a repository as a scan found them, and what it could not read."""

    root: Path
    files: list[LoadedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: files that do not parse and are plainly no manifests: a template for another tool
    #: (Ansible), a config with an application's own tags (mkdocs.yml); nothing a GitOps tool
    #: reads, so nothing to warn about
    not_manifests: list[str] = field(default_factory=list)


def _expanded_size(node: Node, memo: dict[int, int], limit: int) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = limit + 1  # a node reached again while being sized is a cycle: too big
    size = 1
    if isinstance(node, SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo, limit)
            if size > limit:
                break
    elif isinstance(node, MappingNode):
        keys: set[str] = set()
        for k, _ in node.value:
            # kubectl, Argo CD and Flux reject duplicate keys; a loader silently keeps the last
            if isinstance(k, ScalarNode) and k.tag != _MERGE_TAG:
                if k.value in keys:
                    raise _DuplicateKey(f"line {k.start_mark.line + 1}: duplicate key {k.value!r}")
                keys.add(k.value)
        for k, v in node.value:
            size += _expanded_size(k, memo, limit) + _expanded_size(v, memo, limit)
            if size > limit:
                break
    memo[key] = size
    return size


def _refuse_deep_nesting(text: str, name: str) -> None:
    """Refuse text nested deeper than MAX_DEPTH, without ever composing it.

    Block nesting on a line is bounded by its indentation and indicator prefix (`- `, `? `),
    flow nesting by the number of `[` and `{` in the text: when both together stay under the
    limit (every ordinary file), nothing more is done. Otherwise the parser's event stream (an
    iterative parser, no recursion) gives the real depth.
    """
    max_depth = limits.current().yaml_depth
    brackets = text.count("[") + text.count("{")
    prefix = max((len(ln) - len(ln.lstrip(" -?:\t")) for ln in text.splitlines()), default=0)
    if brackets + prefix <= max_depth:
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    raise _too_deep(name)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        if _is_nesting_error(exc):
            raise _too_deep(name) from None
        return  # the loader reports syntax errors with their line


def load_documents(text: str, name: str = "<text>", *, raw_scalars: bool = False) -> list[Any]:
    """Parse a multi-document YAML text into plain data, refusing alias bombs.

    Each document is composed to a node graph first; aliased nodes are shared in it, so the
    expanded size is computed without expanding anything, and only then is it constructed.
    Plain data only (the safe loader): no tags, no Python objects. YAML 1.1 scalars, as the
    Kubernetes tooling reads them.
    """
    _refuse_deep_nesting(text, name)
    try:
        return _load(text, name, _RawLoader if raw_scalars else _Loader)
    except _Reanchor:
        # the pure-Python composer, slower: only for the rare text that redefines an anchor
        return _load(text, name, _ReanchoringRawLoader if raw_scalars else _ReanchoringLoader)


class _Reanchor(Exception):
    pass


def _load(text: str, name: str, loader_class: Any) -> list[Any]:
    loader = loader_class(text)
    docs: list[Any] = []
    max_nodes = limits.current().yaml_nodes
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None and _expanded_size(node, {}, max_nodes) > max_nodes:
                raise UnsafeYAML(f"{name}: refused: aliases expand to more than {max_nodes} nodes")
            docs.append(loader.construct_document(node) if node is not None else None)
    except yaml.YAMLError as exc:
        if _is_nesting_error(exc):
            raise _too_deep(name) from None
        if _reanchored(exc) and not isinstance(loader, _ReanchoringComposer):
            raise _Reanchor from None
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UnsafeYAML(f"{name}:{where} invalid YAML: {problem}") from None
    except _DuplicateKey as exc:
        raise UnsafeYAML(f"{name}: {exc}") from None
    except RecursionError:
        raise _too_deep(name) from None
    finally:
        loader.dispose()
    return docs


#: text that only a template engine reads: Jinja / Ansible (`{% ... %}`, `{{ x }}` unquoted at
#: the start of a value), Go templates outside a Helm chart
_TEMPLATE = re.compile(r"\{%-?\s|^[^#\n]*:\s+\{\{|^\s*-?\s*\{\{", re.M)
_MANIFEST = re.compile(r"^(?:apiVersion|kind):", re.M)
#: why text that does not parse is plainly not a Kubernetes manifest (`not_a_manifest`)
NO_API = "no apiVersion/kind"
TEMPLATE = "template"


def not_a_manifest(text: str) -> str:
    """Why YAML text that does not parse is plainly no Kubernetes manifest at all, or "" when
    it may be a broken one: no top-level `apiVersion:` / `kind:` (mkdocs.yml, an application's
    own config with its custom tags) is ``NO_API``; a template (Jinja, Ansible) that only its
    engine turns into YAML is ``TEMPLATE``."""
    if not _MANIFEST.search(text):
        return NO_API
    if _TEMPLATE.search(text):
        return TEMPLATE
    return ""


def read_text(root: Path, rel: str) -> str:
    """Read one repo file with the same safety rules as the scan (a regular file inside the
    repository, bounded). Raises UnsafeYAML, or FileNotFoundError when it does not exist."""
    path = root / rel
    try:
        resolved = files.resolve_within(path)
        if not resolved.is_relative_to(files.resolve_within(root)):
            raise UnsafeYAML(f"{rel}: refused: resolves outside the repository")
        size, limit = resolved.stat().st_size, limits.current().file_bytes
        if size > limit:
            raise UnsafeYAML(f"{rel}: skipped: {size} bytes is over the {limit} byte limit")
        data = files.read_bytes(resolved, limit)
    except files.UnreadableFile as exc:
        raise UnsafeYAML(f"{rel}: skipped: {str(exc).partition(': ')[2]}") from None
    except FileNotFoundError:
        raise  # the caller tells "missing" from "unsafe" (edit: set create to make a new file)
    except OSError as exc:
        raise UnsafeYAML(f"{rel}: skipped: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeYAML(f"{rel}: skipped: not UTF-8") from None


def iter_yaml_paths(root: Path) -> Iterator[tuple[str, Path]]:
    """Repo-relative paths of YAML files under root, never leaving the tree."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for fn in sorted(filenames):
            if not fn.endswith(YAML_SUFFIXES) and fn != "Kustomization":
                continue
            path = Path(dirpath) / fn
            yield path.relative_to(root).as_posix(), path


def scan_repo(root: Path) -> RepoFiles:
    """Load every YAML file of a repository, collecting a warning for each one skipped."""
    out = RepoFiles(root=root)
    real_root = root.resolve()
    for rel, path in iter_yaml_paths(root):
        try:
            if path.is_symlink() and not files.resolve_within(path).is_relative_to(real_root):
                out.warnings.append(f"{rel}: skipped: symlink points outside the repository")
                continue
            if path.stat().st_size == 0:
                out.warnings.append(f"{rel}: skipped: empty file")
                continue
            text = read_text(root, rel)
        except UnsafeYAML as exc:
            out.warnings.append(str(exc))
            continue
        except files.UnreadableFile as exc:
            out.warnings.append(f"{rel}: skipped: {str(exc).partition(': ')[2]}")
            continue
        except OSError as exc:
            out.warnings.append(f"{rel}: skipped: {exc.strerror or exc}")
            continue
        try:
            docs = load_documents(text, rel)
        except UnsafeYAML as exc:
            why = not_a_manifest(text) if " invalid YAML: " in str(exc) else ""
            # without apiVersion/kind only a custom tag says "not ours": a broken kustomization
            # or values file has neither and must still be reported
            if why == TEMPLATE or (why == NO_API and "could not determine a constructor"
                                   in str(exc)):
                out.not_manifests.append(rel)
            else:
                out.warnings.append(str(exc))
            continue
        out.files.append(LoadedFile(rel, text, docs))
    return out
