"""docs/ci.md, run: every command the page shows is executed here, as written, in a real clone of
a GitOps repository whose pull request adds a violation, and does what the page says; every
configuration snippet is accepted by what reads it. A block the test does not know (a new
command, a new kind of snippet) fails `test_every_block_of_the_page_is_exercised`.

Not run as written: the `pip install` of the GitLab job (it installs from the network; the CLI
under test is the installed one) and the hook repository of `pre-commit try-repo`, which is a
local copy of this repository's hooks with `language: system` (pre-commit would otherwise
install remediator from the network into its own environment).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

from remediator.config import parse_config

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "ci.md"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
REUSABLE = ROOT / ".github" / "workflows" / "validate.yml"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
ACTOR = git.Actor("t", "t@example.com")
INSTALL = re.compile(r"^pip install ")

CLEAN = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          resources: {limits: {memory: 128Mi}}
"""
PRIVILEGED = """\
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  containers:
    - name: api
      image: ghcr.io/acme/api:1.0.0
      resources: {limits: {memory: 64Mi}}
      securityContext: {privileged: true}
"""
TEAM = """\
package remediator.policies.team

import rego.v1

deny contains msg if {
\tinput.after.kind == "Deployment"
\tnot input.after.metadata.labels.team
\tmsg := sprintf("%s has no team label (metadata.labels)", [input.after.metadata.name])
}
"""
TEAM_TEST = """\
package remediator.policies.team_test

import rego.v1

test_unlabelled_denied if {
\tcount(data.remediator.policies.team.deny) == 1 with input as {"after": {
\t\t"kind": "Deployment", "metadata": {"name": "web"}}}
}
"""


# ------------------------------------------------------------------------------ the page


def blocks() -> list[tuple[str, str]]:
    """(language, body) of every fenced block of the page."""
    return FENCE.findall(PAGE.read_text(encoding="utf-8"))


def shell_commands(body: str) -> list[str]:
    """The commands of a shell block: continuations joined, trailing comments dropped."""
    body = re.sub(r"\s*\\\n\s*", " ", body)
    lines = (re.sub(r"\s+#.*$", "", ln).strip() for ln in body.splitlines())
    return [ln for ln in lines if ln and not ln.startswith("#")]


def kind(lang: str, body: str) -> str:
    if lang == "sh":
        return "shell"
    if lang == "text":
        if body.startswith("$ "):
            return "session"
        if body.startswith("remediator: error:"):
            return "error"
    if lang == "yaml":
        doc = yaml.safe_load(body)
        if isinstance(doc, dict):
            if "jobs" in doc:
                return "workflow"
            if "repos" in doc:
                return "pre-commit"
            if set(doc) == {"validation"}:
                return "config"
            if any(isinstance(v, dict) and "script" in v for v in doc.values()):
                return "gitlab"
    return "unknown"


def of_kind(wanted: str) -> list[str]:
    return [body for lang, body in blocks() if kind(lang, body) == wanted]


def gitlab_job() -> dict:
    (body,) = of_kind("gitlab")
    return next(v for v in yaml.safe_load(body).values() if isinstance(v, dict))


def test_every_block_of_the_page_is_exercised():
    kinds = [kind(lang, body) for lang, body in blocks()]
    assert "unknown" not in kinds, [b for (lang, b), k in zip(blocks(), kinds, strict=True)
                                    if k == "unknown"]
    assert set(kinds) == {"shell", "session", "error", "workflow", "pre-commit", "config",
                          "gitlab"}
    assert set(commands()) == set(EXPECTED) | {c for c in commands() if INSTALL.match(c)}


# --------------------------------------------------------------------- a repo to run them in


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """main: a clean Deployment, a repo policy with its test."""
    path = tmp_path_factory.mktemp("origin")
    repo = git.Repo.init(path, initial_branch="main")
    for rel, text in {"apps/web/deployment.yaml": CLEAN.replace(
            "name: web, namespace: shop", "name: web, namespace: shop, labels: {team: web}"),
            "policy/team.rego": TEAM, "policy/team_test.rego": TEAM_TEST,
            ".remediator.yaml": "validation:\n  policies: [policy]\n"}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    repo.git.add("--all")
    repo.index.commit("gitops", author=ACTOR, committer=ACTOR)
    repo.git.branch("feature")  # a branch to clone without main (the shallow clone)
    return path


@pytest.fixture(scope="module")
def checkout(origin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone with its history, on a pull request branch that adds a privileged pod."""
    path = tmp_path_factory.mktemp("checkout")
    clone = git.Repo.clone_from(origin.as_uri(), path)
    clone.git.checkout("-b", "pr")
    (path / "apps/api").mkdir()
    (path / "apps/api/pod.yaml").write_text(PRIVILEGED)
    clone.git.add("--all")
    clone.index.commit("add the api pod", author=ACTOR, committer=ACTOR)
    return path


def environment(tmp: Path) -> dict[str, str]:
    return {**os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_BASE_REF": "main", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
            "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"), "PYTHONWARNINGS": "ignore"}


def sh(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


# --------------------------------------------------------------------------- the commands


def commands() -> list[str]:
    """Every command of the page: shell blocks, prompted lines, the GitLab job's scripts."""
    found = [c for body in of_kind("shell") for c in shell_commands(body)]
    found += [ln[2:] for body in of_kind("session") for ln in body.splitlines()
              if ln.startswith("$ ")]
    job = gitlab_job()
    found += [" ".join(str(c).split()) for c in [*job["before_script"], *job["script"]]]
    return found


SARIF_STEP = ('remediator validate --repo . --changed-since FETCH_HEAD --format github '
              '--sarif-file remediator.sarif --summary-file "$GITHUB_STEP_SUMMARY"')
GITLAB_STEP = ("remediator validate --repo . --changed-since FETCH_HEAD --format text "
               "--sarif-file remediator.sarif")
TRY = "pre-commit try-repo https://github.com/remediator-dev/remediator {} --ref v0.1.0 --all-files"
#: command -> its exit code in the checkout (the pull request adds a privileged pod)
EXPECTED = {
    "remediator validate --repo .": 1,
    "remediator validate --repo . apps/web": 0,
    "remediator validate --repo . --changed-since origin/main": 1,
    'git fetch --no-tags origin "$GITHUB_BASE_REF"': 0,
    SARIF_STEP: 1,
    'git fetch --no-tags origin "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"': 0,
    GITLAB_STEP: 1,
    "remediator policy test --repo . --coverage": 0,
    TRY.format("remediator-validate"): 0,
    TRY.format("remediator-validate-all"): 1,
}
#: what else each command must print (a regular expression on its stdout)
PRINTS = {
    "remediator validate --repo .": r"apps/api/pod\.yaml:\d+: error \[policy/security\] "
                                    r"Pod/shop/api: container \"api\" is privileged",
    "remediator validate --repo . apps/web": r"remediator validate: 0 errors",
    "remediator validate --repo . --changed-since origin/main": r"\[policy/security\]",
    SARIF_STEP: r"(?m)^::error file=apps/api/pod\.yaml,line=\d+,title=remediator policy/security",
    GITLAB_STEP: r"(?m)^apps/api/pod\.yaml:\d+: error \[policy/security\] Pod/shop/api: ",
    "remediator policy test --repo . --coverage":
        r"PASS data\.remediator\.policies\.team_test\.test_unlabelled_denied\n(.|\n)*"
        r"COVER policy/team\.rego \d+\.\d%(.|\n)*coverage \d+\.\d% of \d+ policy files\n"
        r"\d+ passed, 0 failed",
}
RUN_IN_ORDER = [c for c in EXPECTED if not c.startswith("pre-commit")]


def test_the_commands_run_as_documented(checkout: Path, tmp_path: Path):
    """In the page's order (the validate after `git fetch` reads its FETCH_HEAD)."""
    env = environment(tmp_path)
    ordered = [c for c in commands() if c in RUN_IN_ORDER]
    assert sorted(ordered) == sorted(RUN_IN_ORDER)
    for command in ordered:
        proc = sh(command, checkout, env)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == EXPECTED[command], (command, proc.stdout, proc.stderr)
        if command in PRINTS:
            assert re.search(PRINTS[command], proc.stdout), (command, proc.stdout)
        if command == SARIF_STEP:  # what the upload step and the job summary read
            sarif = json.loads((checkout / "remediator.sarif").read_text())
            assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"policy/security"}
            assert "remediator validate failed" in (tmp_path / "summary.md").read_text()
            (checkout / "remediator.sarif").unlink()
        if command == GITLAB_STEP:  # the job's artifact
            assert json.loads((checkout / "remediator.sarif").read_text())["version"] == "2.1.0"


def test_try_repo_with_both_hooks(origin: Path, tmp_path: Path):
    """`pre-commit try-repo` on a repository whose committed files have a violation: the
    changed-files hook passes (the violation is in HEAD: a warning), the whole-repository hook
    fails and lists it."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    local = [{**h, "language": "system"} for h in yaml.safe_load(HOOKS.read_text())]
    (hooks / ".pre-commit-hooks.yaml").write_text(yaml.safe_dump(local))
    hook_repo = git.Repo.init(hooks, initial_branch="main")
    hook_repo.git.add("--all")
    hook_repo.index.commit("hooks", author=ACTOR, committer=ACTOR)
    hook_repo.create_tag("v0.1.0")
    work = tmp_path / "gitops"
    clone = git.Repo.clone_from(origin.as_uri(), work)
    (work / "apps/api").mkdir()
    (work / "apps/api/pod.yaml").write_text(PRIVILEGED)
    clone.git.add("--all")
    clone.index.commit("a violation lands", author=ACTOR, committer=ACTOR)
    env = {**environment(tmp_path), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    for hook in ("remediator-validate", "remediator-validate-all"):
        command = TRY.format(hook)
        assert command in commands()
        here = command.replace("https://github.com/remediator-dev/remediator", str(hooks))
        proc = sh(here.replace("pre-commit ", f"{sys.executable} -m pre_commit ", 1), work, env)
        assert proc.returncode == EXPECTED[command], proc.stdout + proc.stderr
        if EXPECTED[command]:
            assert "policy/security" in proc.stdout and "apps/api/pod.yaml" in proc.stdout
    shutil.rmtree(tmp_path / "pre-commit-home", ignore_errors=True)


def test_the_shallow_clone_error_is_the_documented_line(origin: Path, tmp_path: Path):
    (line,) = [body.strip() for body in of_kind("error")]
    shallow = tmp_path / "shallow"
    # what actions/checkout does by default: one commit of the branch, no other branch
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature",
                    origin.as_uri(), str(shallow)], check=True)
    proc = sh("remediator validate --repo . --changed-since origin/main", shallow,
              environment(tmp_path))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == line


# ------------------------------------------------------------------------- the snippets


def test_configuration_snippets_are_accepted(tmp_path: Path):
    snippets = of_kind("config")
    assert len(snippets) >= 2
    for body in snippets:
        cfg = parse_config(body)
        assert cfg.validation is not None


def test_the_pre_commit_snippet_names_the_hooks():
    (body,) = of_kind("pre-commit")
    ids = {h["id"] for h in yaml.safe_load(HOOKS.read_text())}
    (repo,) = yaml.safe_load(body)["repos"]
    assert {h["id"] for h in repo["hooks"]} <= ids
    # the commented-out one too
    assert set(re.findall(r"id: (\S+)", body)) == ids


def test_the_workflow_snippet_and_the_inputs_table_match_the_reusable_workflow():
    (body,) = of_kind("workflow")
    reusable = yaml.safe_load(REUSABLE.read_text())
    call = reusable.get("on", reusable.get(True))["workflow_call"]
    declared = call["inputs"]
    job = yaml.safe_load(body)["jobs"]["validate"]
    assert job["uses"].split("@")[0].endswith("/.github/workflows/validate.yml")
    assert set(job["with"]) <= set(declared)
    inputs = PAGE.read_text(encoding="utf-8").split("Inputs (all optional):", 1)[1]
    table = re.findall(r"^\| `([a-z-]+)` \|", inputs.split("\n\n", 2)[1], re.M)
    assert set(table) == set(declared)
    # the permissions the page asks for are the ones the reusable workflow's job needs
    wanted = reusable["jobs"]["validate"].get("permissions", {})
    assert set(wanted) <= set(yaml.safe_load(body)["permissions"])
