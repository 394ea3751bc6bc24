"""Make every quoted reference to the release agree with `remediator/kernel/release.py`.

The version (`__version__`) and the repository remediator is published from (`REPOSITORY`, and
`IMAGE` from it) live in remediator/kernel/release.py. Documentation and workflow files quote them
where a user copies them: the reusable workflow's `uses: OWNER/NAME/...@vX.Y.Z` and
`remediator-ref`, the pre-commit `repo`/`rev`, the image `ghcr.io/OWNER/NAME:X.Y.Z`, the Helm
chart's `appVersion` and image, the project URLs. After changing `release.py` (a release, or a
fork publishing its own build):

    python scripts/release_refs.py          # rewrite the references
    python scripts/release_refs.py --check  # list the stale ones, exit 1 (the test suite runs it)

Only references to remediator itself are touched (the repository's name, `remediator`, must
appear in them); example images and repositories of the example GitOps repository are not.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ["README.md", "Dockerfile", "pyproject.toml", ".github/workflows/validate.yml",
         ".github/workflows/release.yml", "gitops-repo-example/.github/workflows/remediator.yml",
         "gitops-repo-example/remediator/deployment.yaml", "gitops-repo-example/.remediator.yaml",
         "deploy/helm/remediator/Chart.yaml", "deploy/helm/remediator/values.yaml",
         *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md"))]
OWNER_NAME = r"[\w.-]+/[\w.-]+"
VERSION = r"v?[0-9]+\.[0-9]+\.[0-9]+[\w.+-]*"


def identity() -> dict[str, str]:
    """__version__, REPOSITORY and IMAGE, read from the source (nothing installed)."""
    namespace: dict[str, object] = {}
    # a stdlib-only module
    exec((ROOT / "remediator" / "kernel" / "release.py").read_text(), namespace)
    return {k: str(namespace[k]) for k in ("__version__", "REPOSITORY", "IMAGE")}


def rules(ident: dict[str, str]) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]:
    version, repository, image = ident["__version__"], ident["REPOSITORY"], ident["IMAGE"]
    name = re.escape(repository.split("/")[1])
    registry = image.rsplit("/", 1)[0]
    return [
        # uses: OWNER/NAME/.github/workflows/validate.yml@vX.Y.Z
        (re.compile(rf"{OWNER_NAME}(/\.github/workflows/validate\.yml)@{VERSION}"),
         lambda m: f"{repository}{m.group(1)}@v{version}"),
        # the Helm chart installs this release (its own `version` is the chart's)
        (re.compile(rf'^(appVersion: "?){VERSION}("?)$', re.M),
         lambda m: f"{m.group(1)}{version}{m.group(2)}"),
        # remediator-ref: vX.Y.Z (callers) and the input's default (the reusable workflow)
        (re.compile(rf"(remediator-ref: ){VERSION}"), lambda m: f"{m.group(1)}v{version}"),
        (re.compile(rf"(remediator-ref:\n(?:[ \t]+\S.*\n)*?[ \t]+default: ){VERSION}"),
         lambda m: f"{m.group(1)}v{version}"),
        (re.compile(rf"(remediator-repository:\n(?:[ \t]+\S.*\n)*?[ \t]+default: ){OWNER_NAME}"),
         lambda m: f"{m.group(1)}{repository}"),
        # pre-commit: repo: https://github.com/OWNER/NAME + rev: vX.Y.Z
        (re.compile(rf"(repo: https://github\.com/){OWNER_NAME}(\n[ \t]+rev: ){VERSION}"),
         lambda m: f"{m.group(1)}{repository}{m.group(2)}v{version}"),
        # pip install '... @ git+https://github.com/OWNER/NAME@vX.Y.Z', release assets
        (re.compile(rf"git\+https://github\.com/[\w.-]+/{name}@{VERSION}"),
         lambda m: f"git+https://github.com/{repository}@v{version}"),
        (re.compile(rf"https://github\.com/[\w.-]+/{name}/releases/download/{VERSION}/"),
         lambda m: f"https://github.com/{repository}/releases/download/v{version}/"),
        (re.compile(rf"\b{name}-{VERSION}(-py3-none-any\.whl|\.tar\.gz)"),
         lambda m: f"{repository.split('/')[1]}-{version}{m.group(1)}"),
        # the image, with or without its tag
        (re.compile(rf"ghcr\.io/[\w.-]+/{name}:{VERSION}"), lambda m: f"{image}:{version}"),
        (re.compile(rf"ghcr\.io/[\w.-]+/{name}(?=:[^0-9]|[^\w:/.-]|$)", re.M),
         lambda m: image),  # untagged, or with a placeholder tag (`:X.Y.Z`, `:<version>`)
        # the example GitOps repository allows the bot's own registry next to its own
        (re.compile(r"(allowedRegistries: \[ghcr\.io/acme, )ghcr\.io/[\w.-]+\]"),
         lambda m: f"{m.group(1)}{registry}]"),
        # the project's pages (pyproject URLs, image source label, links)
        (re.compile(rf"https://github\.com/[\w.-]+/{name}\b(?![.-])"),
         lambda m: f"https://github.com/{repository}"),
    ]


def rewrite(text: str, ident: dict[str, str]) -> str:
    for pattern, replace in rules(ident):
        text = pattern.sub(replace, text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; list stale references and exit 1 if any")
    args = parser.parse_args(argv)
    ident = identity()
    stale = []
    for rel in FILES:
        path = ROOT / rel
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, ident)
        if new == text:
            continue
        old_lines, new_lines = text.splitlines(), new.splitlines()
        stale += [f"{rel}:{i}: {a.strip()}  ->  {b.strip()}" for i, (a, b) in
                  enumerate(zip(old_lines, new_lines, strict=False), 1) if a != b]
        if not args.check:
            path.write_text(new, encoding="utf-8")
    for line in stale:
        print(line)
    if args.check and stale:
        print(f"{len(stale)} stale reference(s): python scripts/release_refs.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
