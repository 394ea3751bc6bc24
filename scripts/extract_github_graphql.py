"""Extract the part of GitHub's GraphQL schema that the GitHub forge uses (auto-merge).

Source: the `@octokit/graphql-schema` npm package (GitHub's published schema, `schema.graphql`).
Run from the repo root; it fetches the package once with npm into a temporary folder:

    python scripts/extract_github_graphql.py                 # fetch with `npm pack`, then extract
    python scripts/extract_github_graphql.py schema.graphql  # from an unpacked schema

Writes tests/support/github_api/schema.graphql: the types below, with only the fields listed (all
fields where None), GitHub's descriptions kept and GitHub's own directives dropped. The test
emulator builds its GraphQL endpoint from it (graphql-core): a query PyGithub sends that GitHub's
schema would refuse is refused there too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from graphql import build_schema, parse, print_ast, validate_schema
from graphql.language import DocumentNode

PACKAGE = "@octokit/graphql-schema"
OUT = Path(__file__).resolve().parent.parent / "tests" / "support" / "github_api" / "schema.graphql"

#: type -> the fields kept (None: all); why: PyGithub's PullRequest.enable_automerge /
#: disable_automerge send these mutations and read `actor { ... } clientMutationId`
KEEP: dict[str, set[str] | None] = {
    "Query": {"id", "node"},
    "Mutation": {"enablePullRequestAutoMerge", "disablePullRequestAutoMerge"},
    "Node": None,
    "Actor": None,
    "Bot": {"id", "login", "avatarUrl", "resourcePath", "url"},
    "PullRequest": {"id", "number", "autoMergeRequest", "url"},
    "AutoMergeRequest": None,
    "EnablePullRequestAutoMergeInput": None,
    "EnablePullRequestAutoMergePayload": None,
    "DisablePullRequestAutoMergeInput": None,
    "DisablePullRequestAutoMergePayload": None,
    "PullRequestMergeMethod": None,
    "URI": None,
    "GitObjectID": None,
    "DateTime": None,
}
BUILTIN_DIRECTIVES = {"deprecated", "specifiedBy"}


def fetch() -> str:
    tmp = Path(tempfile.mkdtemp(prefix="octokit-graphql-schema-"))
    out = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True,
                         capture_output=True, text=True).stdout.split()[-1]
    with tarfile.open(tmp / out) as tar:
        text = tar.extractfile("package/schema.graphql").read().decode()  # type: ignore[union-attr]
        version = json.load(tar.extractfile("package/package.json"))["version"]  # type: ignore[arg-type]
    print(f"{PACKAGE}@{version}", file=sys.stderr)
    return text


def _copy(node: Any, **changes: Any) -> Any:
    return node.__class__(**{**{k: getattr(node, k) for k in node.keys}, **changes})


def _without_directives(node: Any) -> Any:
    kept = [d for d in (node.directives or ()) if d.name.value in BUILTIN_DIRECTIVES]
    return _copy(node, directives=tuple(kept))


def extract(sdl: str) -> str:
    definitions = []
    for node in parse(sdl, no_location=True).definitions:
        name = getattr(getattr(node, "name", None), "value", None)
        if name not in KEEP:
            continue
        changes: dict[str, Any] = {}
        fields = KEEP[name]
        if getattr(node, "fields", None) is not None:
            changes["fields"] = tuple(_without_directives(f) for f in node.fields
                                      if fields is None or f.name.value in fields)
            missing = (fields or set()) - {f.name.value for f in node.fields}
            if missing:
                raise SystemExit(f"{name}: no field(s) {', '.join(sorted(missing))}")
        if getattr(node, "interfaces", None) is not None:
            changes["interfaces"] = tuple(i for i in node.interfaces if i.name.value in KEEP)
        definitions.append(_without_directives(_copy(node, **changes)))
    missing = set(KEEP) - {d.name.value for d in definitions}
    if missing:
        raise SystemExit(f"types not in the schema: {', '.join(sorted(missing))}")
    text = print_ast(DocumentNode(definitions=tuple(definitions)))
    errors = validate_schema(build_schema(text))  # every kept field's type is kept too
    if errors:
        raise SystemExit(f"the subset is not a valid schema: {errors[0].message}")
    return ("# Extracted from GitHub's published GraphQL schema (@octokit/graphql-schema) by\n"
            "# scripts/extract_github_graphql.py: do not edit by hand.\n\n" + text + "\n")


def main() -> None:
    sdl = Path(sys.argv[1]).read_text(encoding="utf-8") if len(sys.argv) > 1 else fetch()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(extract(sdl), encoding="utf-8")
    print(f"{OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
