"""How one setting is written in `.remediator.yaml`: the metadata of a settings dataclass field.

Every setting is declared once, as a dataclass field made with :func:`setting`: its Python name,
type and default are the field's; its key in the file, its bounds and its one-line description
are the metadata. `config` derives the JSON Schema, the loader and the configuration reference
(docs/configuration.md) from these declarations, so a new setting is one field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, replace
from typing import Any

#: larger than any quantity Kubernetes stores (int64 bytes or millicores); beyond it a typo
MAX_QUANTITY = 2**63
#: the JSON Schema of a Kubernetes quantity (`512Mi`, `2`, `500m`), checked with the kubernetes
#: client's own parser (format `quantity`) and, for a number, the same bounds as keywords every
#: JSON Schema validator applies (most check a format on strings only, jsonschema-rs included)
QUANTITY: Mapping[str, Any] = {"type": ["string", "number"], "format": "quantity",
                               "minimum": 0, "maximum": MAX_QUANTITY}
#: a ceiling or a default request: zero would make every value "too large" or request nothing
POSITIVE_QUANTITY: Mapping[str, Any] = {"type": ["string", "number"],
                                        "format": "positive-quantity",
                                        "exclusiveMinimum": 0, "maximum": MAX_QUANTITY}


@dataclass(frozen=True)
class Key:
    """The file side of one field."""

    #: the key in the file, relative to the enclosing mapping; dotted for a key nested one level
    #: deeper than the field (`logs.tailLines`); "" for a settings object whose keys sit in the
    #: enclosing mapping itself; None for a field that is never read from the file
    name: str | None
    doc: str
    #: JSON Schema keywords beyond the type: bounds, pattern, enum, format. With `enum`, the
    #: enum alone is the schema (no type).
    schema: Mapping[str, Any]
    #: the JSON Schema of a list's items (default: non-empty strings)
    items: Mapping[str, Any] | None = None
    #: file value -> field value, after the schema check (e.g. lower-casing); None: as typed
    convert: Callable[[Any], Any] | None = None
    #: repository-relative paths that must exist in the repository
    repo_paths: bool = False


def camel(name: str) -> str:
    """`max_open` -> `maxOpen`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


#: the ``key`` of a field named in the file as in Python, in camelCase
AUTO = "*"


def setting(default: Any = MISSING, *, doc: str, key: str | None = AUTO,
            factory: Callable[[], Any] | None = None, items: Mapping[str, Any] | None = None,
            convert: Callable[[Any], Any] | None = None, repo_paths: bool = False,
            **schema: Any) -> Any:
    """A settings field: ``default`` (or ``factory``), its file ``key`` (default: the field's
    name in camelCase), its one-line ``doc`` and its JSON Schema bounds as keyword arguments
    (``minimum=0``, ``pattern=...``; ``exclusive_minimum`` for ``exclusiveMinimum``)."""
    meta = {"setting": Key(name=key, doc=doc,
                           schema={camel(k): v for k, v in schema.items()},
                           items=items, convert=convert, repo_paths=repo_paths)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


# cached: fields live as long as their classes, and the schema, the repo-path check and the
# building of a configuration ask for each one
@functools.cache
def key_of(f: Any) -> Key | None:
    """The file side of dataclass field ``f`` (its key resolved), or None when it has none."""
    meta = f.metadata.get("setting")
    if meta is None:
        return None
    if meta.name == AUTO:
        return replace(meta, name=camel(f.name))
    return meta


#: a host name or IPv4 address, or `*.` and a domain (any host under it); no port, no scheme
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
HOST_PATTERN = rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$"
#: an environment variable name, or a prefix of names ending in `*`
ENV_PATTERN = r"^[-._a-zA-Z][-._a-zA-Z0-9]{0,127}\*?$"
#: what `git check-ref-format` accepts before our slug: no `..`, `~^:?*[\\`, spaces or `@{`,
#: no component starting with `.`, no `//`
BRANCH_PREFIX_PATTERN = r"^(?!.*(\.\.|//|@\{|/\.|\.lock/))(?![./])[^\x00-\x20\x7f~^:?*\[\\]+$"
#: a Rego package name (`main`, `kubernetes.admission`)
PACKAGE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
#: an http(s) URL of a server, no path
SERVER_URL_PATTERN = r"^https?://[^/?#\s]+/?$"
