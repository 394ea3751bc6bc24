from __future__ import annotations

from pathlib import Path

import pytest

from remediator.config import ConfigError, load_config, parse_config
from remediator.kernel.bundled import bundled


def test_example_config_loads():
    cfg = load_config(bundled("gitops-repo-example"))
    assert cfg.cluster == "production"
    assert cfg.drafting.memory.cap == "4Gi"
    assert "kube-system" in cfg.scope.protected_namespaces


def test_defaults_when_absent(tmp_path: Path):
    cfg = load_config(tmp_path)
    assert cfg.source == "defaults"
    assert cfg.scope.protected_namespaces == ["kube-system", "kube-public", "kube-node-lease"]
    assert cfg.drafting.memory.factor == 1.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scope:\n  namespaces: [a]\n  protectedNamespace: [b]\n",
         ".remediator.yaml: line 3: scope.protectedNamespace: unknown key 'protectedNamespace'"),
        ("drafting:\n  memory:\n    factor: 0.5\n",
         ".remediator.yaml: line 3: drafting.memory.factor: 0.5 is less than or equal to"),
        ("scope:\n  failureClasses: [OOMKiled]\n",
         ".remediator.yaml: line 2: scope.failureClasses.0: 'OOMKiled' is not one of"),
        ("- just\n- a list\n", ".remediator.yaml: line 1: expected a mapping"),
        ("scope: [\n", ".remediator.yaml: line 2: invalid YAML"),
        ("validation:\n  maxMemory: lots\n",
         ".remediator.yaml: line 2: validation.maxMemory: 'lots' is not a Kubernetes quantity"),
        ("a: &a [1]\nb: *a\n---\nc: 1\n", "expected one YAML document"),
    ],
)
def test_invalid_config_is_one_clear_line(text: str, message: str):
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert str(err.value).startswith(message) or message in str(err.value)
    assert "\n" not in str(err.value)


def test_explicit_missing_file_is_an_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path, tmp_path / "nope.yaml")


def test_protected_defaults_cannot_be_removed():
    cfg = parse_config("scope:\n  protectedNamespaces: [argocd]\n")
    assert set(cfg.scope.protected_namespaces) == {
        "argocd", "kube-system", "kube-public", "kube-node-lease"}


def test_policy_paths_must_exist_in_the_repo(tmp_path: Path):
    (tmp_path / "policies").mkdir()
    (tmp_path / ".remediator.yaml").write_text(
        "validation:\n  policies:\n    - policies\n    - missing.rego\n")
    with pytest.raises(ConfigError, match=r"line 4: validation.policies.1: 'missing.rego' does "
                                          r"not exist"):
        load_config(tmp_path)
    (tmp_path / ".remediator.yaml").write_text("validation:\n  policies: [../../etc]\n")
    with pytest.raises(ConfigError, match="outside the repository"):
        load_config(tmp_path)


def test_watch_settings():
    cfg = parse_config("watch:\n  settleSeconds: 30\n  logs: {tailLines: 50}\n")
    assert (cfg.watch.settle_seconds, cfg.watch.clear_seconds) == (30, 300)
    assert (cfg.watch.log_tail_lines, cfg.watch.log_limit_bytes) == (50, 65536)
    with pytest.raises(ConfigError, match=r"line 2: watch\.flapCount"):
        parse_config("watch:\n  flapCount: 1\n")


def test_detect_and_requests_settings():
    cfg = parse_config("detect:\n  schedulingGatedSeconds: 600\n"
                       "drafting:\n  requests: {cpu: 100m, memory: 128Mi}\n")
    assert cfg.detect.scheduling_gated_seconds == 600
    assert (cfg.drafting.requests.cpu, cfg.drafting.requests.memory) == ("100m", "128Mi")
    defaults = parse_config("repo: {url: https://github.com/acme/x.git}\n")
    assert defaults.detect.scheduling_gated_seconds == 3600
    assert defaults.drafting.requests.cpu == ""
    with pytest.raises(ConfigError, match=r"line 3: drafting\.requests\.cpu: 'lots' is not"):
        parse_config("drafting:\n  requests:\n    cpu: lots\n")
    with pytest.raises(ConfigError, match=r"line 2: detect\.schedulingGatedSeconds"):
        parse_config("detect:\n  schedulingGatedSeconds: -1\n")
