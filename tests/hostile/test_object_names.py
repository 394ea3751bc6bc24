"""Issue 14, names from the cluster and the configuration that become git branch names: a
namespace named `..`, names with control characters, lone surrogates, `.lock` endings. Every
branch we make must be one `git check-ref-format --branch` accepts (the judge is git itself),
and a branch prefix git would refuse is a configuration error, not a failed push."""

from __future__ import annotations

import dataclasses
import re
import subprocess

import pytest

from remediator.config import ConfigError, parse_config
from remediator.config.schema import BRANCH_PREFIX_PATTERN
from remediator.forge import branch_name
from remediator.model import Remediation
from tests.support.forge import remediation

NAMES = ["..", ".", "...", "a..b", ".hidden", "web.", "web.lock", "we\x00b", "we\x1b[2Jb",
         "caf\u00e9", "x\ud800y", "@{u}", "a~b^c:d?e*f[g\\h", " ", "-", "name/with/slashes",
         "x" * 300]


def _git_accepts(branch: str) -> bool:
    proc = subprocess.run(["git", "check-ref-format", "--branch", branch],
                          capture_output=True, check=False, timeout=30)
    return proc.returncode == 0


def _named(namespace: str, name: str) -> Remediation:
    r = remediation()
    workload = dataclasses.replace(r.incident.workload, namespace=namespace, name=name)
    return dataclasses.replace(r, incident=dataclasses.replace(r.incident, workload=workload))


@pytest.mark.parametrize("name", NAMES, ids=ascii)
@pytest.mark.parametrize("disambiguate", [False, True])
def test_any_object_name_makes_a_branch_git_accepts(name: str, disambiguate: bool):
    for namespace, workload in ((name, "cart"), ("shop", name), (name, name)):
        branch = branch_name(_named(namespace, workload), "remediator/", disambiguate)
        assert _git_accepts(branch), ascii(branch)
        assert re.fullmatch(r"remediator/[a-z0-9][a-z0-9.-]*[a-z0-9]", branch), ascii(branch)


def test_ordinary_names_keep_their_branch():
    assert branch_name(_named("shop", "cart"), "remediator/") == "remediator/shop-cart-oomkilled"
    assert branch_name(_named("shop", "cart.v2"), "bot/") == "bot/shop-cart.v2-oomkilled"


PREFIXES = ["remediator/", "bots/remediator-", "fix-", "a..b/", ".x/", "/x/", "a b/", "x~/",
            "a//b/", "a/.b/", "x.lock/", "x@{/", "x:y/", "x\x7f/"]


@pytest.mark.parametrize("prefix", PREFIXES, ids=ascii)
def test_the_schema_accepts_a_branch_prefix_exactly_when_git_does(prefix: str):
    git_ok = _git_accepts(prefix + "shop-cart-oomkilled")
    assert bool(re.search(BRANCH_PREFIX_PATTERN, prefix)) == git_ok, (prefix, git_ok)
    text = f"pullRequests:\n  branchPrefix: {prefix!r}\n".replace("'", '"')
    if git_ok:
        assert parse_config(text).pull_requests.branch_prefix == prefix
    else:
        with pytest.raises(ConfigError, match="cannot start a git branch name"):
            parse_config(text)
