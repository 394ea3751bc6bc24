"""Extract the part of GitHub's REST description that the GitHub forge uses.

Source: the `@octokit/openapi` npm package (GitHub's official description, with examples). Run
from the repo root; it fetches the package once with npm into a temporary folder:

    python scripts/extract_github_openapi.py            # fetch with `npm pack`, then extract
    python scripts/extract_github_openapi.py PATH.json  # from an unpacked api.github.com.deref.json

Writes tests/support/github_api/subset.json: per operation its method, path, parameters, request
body schema (references resolved) and the success response's example. The test emulator serves those
examples (overlaid with its state) and validates request bodies against those schemas.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@octokit/openapi"
OUT = Path(__file__).resolve().parent.parent / "tests" / "support" / "github_api" / "subset.json"

#: operationId -> why the forge needs it
OPERATIONS = {
    "repos/get": "repository metadata (default branch)",
    "git/get-ref": "a branch head",
    "issues/list-for-repo": "the one listing per pass: remediation PRs and the dashboard",
    "issues/get": "one issue or PR as an issue",
    "issues/create": "the dashboard issue",
    "issues/update": "labels, assignees, dashboard body",
    "issues/create-comment": "lifecycle comments",
    "issues/list-comments": "comments (tests and verification)",
    "pulls/create": "open a remediation PR",
    "pulls/list": "find a PR by head branch after a partial failure",
    "pulls/get": "one PR",
    "pulls/update": "update title and body",
    "pulls/request-reviewers": "reviewers and team reviewers",
    "apps/get-repo-installation": "GitHub App: the installation for the repository",
    "apps/create-installation-access-token": "GitHub App: an installation token",
}


def fetch() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="octokit-openapi-"))
    out = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True,
                         capture_output=True, text=True).stdout.split()[-1]
    with tarfile.open(tmp / out) as tar:
        member = tar.getmember("package/generated/api.github.com.deref.json")
        tar.extract(member, tmp, filter="data")
        version = json.load(tar.extractfile("package/package.json"))["version"]  # type: ignore[arg-type]
    print(f"{PACKAGE}@{version}", file=sys.stderr)
    return tmp / member.name


def _example(content: dict) -> object:
    examples = content.get("examples") or {}
    if "default" in examples:
        return examples["default"].get("value")
    for ex in examples.values():
        return ex.get("value")
    return content.get("example")


def extract(description: dict) -> dict:
    ops: dict[str, dict] = {}
    for path, item in description["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or op.get("operationId") not in OPERATIONS:
                continue
            success = min(c for c in op["responses"] if c.startswith("2"))
            content = op["responses"][success].get("content", {}).get("application/json", {})
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ops[op["operationId"]] = {
                "method": method.upper(),
                "path": path,
                "why": OPERATIONS[op["operationId"]],
                "parameters": [{k: p[k] for k in ("name", "in", "required", "schema") if k in p}
                               for p in op.get("parameters", [])],
                "requestSchema": body.get("schema"),
                "status": int(success),
                "example": _example(content),
            }
    missing = sorted(set(OPERATIONS) - set(ops))
    if missing:
        raise SystemExit(f"operations not in the description: {', '.join(missing)}")
    return {"source": f"{PACKAGE} generated/api.github.com.deref.json",
            "info": {k: description["info"].get(k) for k in ("title", "version")},
            "operations": dict(sorted(ops.items()))}


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else fetch()
    subset = extract(json.loads(src.read_text(encoding="utf-8")))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(subset['operations'])} operations", file=sys.stderr)


if __name__ == "__main__":
    main()
