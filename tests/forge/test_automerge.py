"""GitHub's auto-merge through PyGithub (`PullRequest.enable_automerge`, the GraphQL mutation
`enablePullRequestAutoMerge`) against the emulator's GraphQL endpoint, built from GitHub's
published schema: what GitHub refuses is refused, in GitHub's shape, and reaches the bot as one
line."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from github import Auth, Github, GithubException

from remediator.cli.demo import build_origin
from remediator.forge import ForgeError
from remediator.forge.github import GitHubForge
from tests.support.github_emulator import GitHubEmulator


def _pr(emu: GitHubEmulator) -> int:
    item = emu._new(title="t", body="b", head="main", base="main")
    return item.number


def test_the_graphql_endpoint_takes_what_github_takes_and_refuses_the_rest(tmp_path: Path):
    with GitHubEmulator(build_origin(tmp_path / "o"), "acme", "gitops") as emu:
        number = _pr(emu)
        gh = Github(base_url=emu.base_url, auth=Auth.Token("test-token"), retry=0)
        pull = gh.get_repo("acme/gitops").get_pull(number)
        # a new repository does not allow auto-merge: GitHub's error, as a GithubException
        with pytest.raises(GithubException) as refused:
            pull.enable_automerge()
        assert refused.value.data["errors"][0]["type"] == "UNPROCESSABLE"
        assert "Auto merge is not allowed" in refused.value.data["errors"][0]["message"]
        emu.allow_auto_merge = True
        data = pull.enable_automerge(merge_method="SQUASH")
        assert data["actor"]["login"] == "remediator[bot]"
        assert gh.get_repo("acme/gitops").get_pull(number).raw_data["auto_merge"][
            "merge_method"] == "squash"
        assert emu.invalid == []
        # a field GitHub's schema does not have is a query error, recorded as invalid
        answer = requests.post(f"{emu.base_url}/graphql", timeout=10,
                               headers={"Authorization": "token test-token"},
                               json={"query": "mutation { enablePullRequestAutoMerge(input: "
                                              "{pullRequestId: \"PR_1\"}) { merged } }"})
        assert answer.status_code == 200 and "Cannot query field 'merged'" in answer.json()[
            "errors"][0]["message"]
        assert len(emu.invalid) == 1
        emu.invalid.clear()
        assert requests.post(f"{emu.base_url}/graphql", json={"query": "{ id }"},
                             timeout=10).status_code == 401


def test_the_forge_turns_auto_merge_on_or_says_why_not_in_one_line(tmp_path: Path):
    origin = build_origin(tmp_path / "o")
    with GitHubEmulator(origin, "acme", "gitops") as emu:
        forge = GitHubForge("acme/gitops", str(origin), tmp_path / "state",
                            Auth.Token("test-token"), api_url=emu.base_url,
                            sleep=lambda s: None, write_interval=0)
        number = _pr(emu)
        with pytest.raises(ForgeError, match="auto-merge is not allowed in acme/gitops"):
            forge.enable_automerge(number)
        emu.allow_auto_merge, emu.required_checks = True, False
        forge.use_repository("acme/gitops")  # settings are read afresh
        with pytest.raises(ForgeError) as clean:  # nothing pending: GitHub will not arm it
            forge.enable_automerge(number)
        assert str(clean.value) == (f"cannot enable auto-merge on #{number}: GitHub GraphQL: "
                                    "Pull request Pull request is in clean status")
        emu.required_checks = True
        emu.merge_methods = ("REBASE",)
        forge.use_repository("acme/gitops")
        forge.enable_automerge(number)
        assert emu.items[number].auto_merge["merge_method"] == "rebase"
        assert emu.invalid == []


def test_the_local_forge_records_auto_merge_and_the_budget_counts_its_prs(tmp_path: Path):
    from remediator.config import parse_config
    from remediator.forge import LocalForge
    from remediator.model import TrustDecision
    from remediator.pipeline import Plan, submit
    from tests.support.forge import make_origin, remediation

    config = parse_config("trust:\n  dailyBudget: 1\n  rules:\n    - level: automerge\n")
    forge = LocalForge(str(make_origin(tmp_path)), tmp_path / "state")
    forge.checkout()
    first, second = remediation(), remediation()
    second.incident.container = "sidecar"  # another signature, the same kind of fix
    for r in (first, second):  # as the plan leaves them when every planning rail held
        r.trust = TrustDecision(level="automerge", rule="all", change_kind="memory-limit-raise")
    subs = submit(Plan([first, second]), forge, config)
    assert [s.automerge for s in subs] == ["armed", "refused"]
    armed, refused = (LocalForge(forge.remote, forge.state_dir).pulls())
    assert armed.auto_merge is True and refused.auto_merge is False
    assert "today's automerge budget (1) is spent" in refused.body
