"""`.remediator.yaml`: the repo-committed configuration, validated with clear errors.

Unknown keys are rejected (a typo must not silently fall back to a default), and every error names
the line it is on. Secrets never live here: tokens and keys come from the environment.
"""

from __future__ import annotations

import io
import os
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

from ..kernel import files, yamlio
from ..model.setting import key_of
from .schema import accepts, error_message, line_of, optional_of, type_hints, validator, walk
from .settings import CONFIG_FILE, Config, ConfigError

if TYPE_CHECKING:
    from ..model.setting import Key

__all__ = ["load_config", "parse_config"]


def _fail(text: str, name: str, path: list[Any], message: str) -> ConfigError:
    # the round-trip parser (for the line) only on this error path: every command loads the
    # configuration, and ruamel.yaml costs `validate` ~10 ms at start
    from ruamel.yaml import YAML

    line = line_of(YAML().load(io.StringIO(text)), path)
    where = f"{name}: line {line}" if line else name
    dotted = ".".join(str(p) for p in path) or "(top level)"
    return ConfigError(f"{where}: {dotted}: {message}")


def parse_config(text: str, name: str = CONFIG_FILE, repo: Path | None = None) -> Config:
    """Validate and build a configuration; with ``repo``, paths in it must exist there."""
    try:
        docs = yamlio.load_documents(text, name)
    except yamlio.UnsafeYAML as exc:
        raise ConfigError(str(exc)) from None
    docs = [d for d in docs if d is not None]
    if not docs:
        return Config(source=name)
    if len(docs) > 1:
        raise ConfigError(f"{name}: expected one YAML document, found {len(docs)}")
    data = docs[0]
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: line 1: expected a mapping at the top level")
    errors = [] if accepts(data) else sorted(validator().iter_errors(data),
                                             key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            path = path + extra[:1]
        raise _fail(text, name, path, error_message(err))
    _check_drafting(text, name, data)
    cfg = build(Config, data)
    cfg.source = name
    # one list for the drafter and the gate's `literals` policy
    cfg.validation.allowed_hosts = list(cfg.drafting.allowed_hosts)
    if repo is not None:
        _check_repo_paths(text, name, cfg, repo)
    return cfg


def _check_repo_paths(text: str, name: str, cfg: Config, repo: Path) -> None:
    """Paths in the file (``repo_paths`` settings) must exist in the repository, inside it."""
    real = repo.resolve()
    for leaf in walk(Config):
        if not leaf.key.repo_paths:
            continue
        value: Any = cfg
        for attr in leaf.attrs:
            value = getattr(value, attr)
        for i, rel in enumerate(value):
            target = (repo / rel).resolve()
            if not target.is_relative_to(real):
                raise _fail(text, name, [*leaf.file_path, i], f"{rel!r} is outside the repository")
            if not target.exists():
                raise _fail(text, name, [*leaf.file_path, i],
                            f"{rel!r} does not exist in the repository")


def build(cls: Any, data: dict[str, Any]) -> Any:
    """Settings class ``cls`` from its (schema-checked) mapping: absent keys keep the defaults."""
    hints = type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        key = key_of(f)
        if key is None or key.name is None:
            continue
        tp = hints[f.name]
        if key.name == "":
            kwargs[f.name] = build(tp, data)
            continue
        present, raw = _lookup(data, key.name.split("."))
        if is_dataclass(tp):
            kwargs[f.name] = build(tp, raw or {})
        elif present:
            kwargs[f.name] = _value(tp, key, raw)
    return cls(**kwargs)


def _lookup(data: dict[str, Any], path: list[str]) -> tuple[bool, Any]:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _value(tp: Any, key: Key, raw: Any) -> Any:
    if key.convert is not None:
        return key.convert(list(raw) if isinstance(raw, list) else raw)
    origin = get_origin(tp)
    if origin is list:
        (item,) = get_args(tp)
        return [build(item, x) for x in raw] if is_dataclass(item) else list(raw)
    if origin is dict:
        return dict(raw)
    inner = optional_of(tp)
    if inner is not None:
        tp = inner
        if raw is None:
            return raw
    if tp in (float, str, bool):
        return tp(raw)
    if tp is int:  # JSON Schema's integer takes 1024.0 too: the setting is still an int
        return int(raw)
    return raw


def _check_drafting(text: str, name: str, data: dict[str, Any]) -> None:
    """What the schema cannot say in one line: a model provider needs a model (and an
    OpenAI-compatible one its endpoint)."""
    dr = data.get("drafting") or {}
    provider = dr.get("provider", "rules")
    if provider == "rules":
        return
    if not dr.get("model"):
        raise _fail(text, name, ["drafting", "provider"],
                    f"provider {provider!r} needs drafting.model (the model name to use)")
    if provider == "openai-compatible" and not dr.get("baseUrl"):
        raise _fail(text, name, ["drafting", "provider"],
                    "provider 'openai-compatible' needs drafting.baseUrl (e.g. "
                    "http://ollama:11434/v1)")


def load_config(repo: Path, explicit: Path | None = None) -> Config:
    """The config: an explicit file, else the repo's `.remediator.yaml`, else the defaults."""
    path = explicit if explicit is not None else repo / CONFIG_FILE
    if explicit is None and not path.exists():
        return Config()
    if explicit is not None and not os.path.lexists(path):
        raise ConfigError(f"{path}: no such file")
    try:
        if explicit is None:
            text = yamlio.read_text(repo, CONFIG_FILE)
        else:  # a regular file, bounded: a FIFO or /dev/zero would block or never end
            text = files.read_bytes(path, yamlio.MAX_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except files.UnreadableFile as exc:
        raise ConfigError(str(exc)) from None
    except (OSError, UnicodeDecodeError, yamlio.UnsafeYAML) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, str(path) if explicit is not None else CONFIG_FILE, repo)
