"""An installation without the `llm` extra: `validate` and the rules drafter work; a configured
model provider stops with one line naming the extra.

The CLI runs in a subprocess where the model clients cannot be imported, as in a
`pip install remediator` without `[llm]`: their entries in `sys.modules` are None, which is how
Python itself marks a module that must not be found (`import openai` raises ImportError,
`importlib.util.find_spec` answers None). Nothing of remediator's is replaced.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from remediator.cli.demo import build_origin, example_paths
from tests.support.cli import cli
from tests.support.kube_api import KubeAPI

EXAMPLE, SNAPSHOT = example_paths()
WITHOUT_CLIENTS = ("import sys; sys.modules.update(openai=None, anthropic=None); "
                   "from remediator.cli import main; main()")
EXTRA = "pip install 'remediator[llm]'"


def light(*args: str) -> subprocess.CompletedProcess[str]:
    """`remediator ARGS` in an installation without the model clients."""
    return subprocess.run([sys.executable, "-c", WITHOUT_CLIENTS, *args], capture_output=True,
                          text=True, check=False, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _config(tmp_path: Path, provider: str) -> Path:
    cfg = tmp_path / f"{provider}.yaml"
    cfg.write_text(f"drafting: {{provider: {provider}, model: some-model"
                   + (", baseUrl: 'http://127.0.0.1:9/v1'" if provider.endswith("compatible")
                      else "") + "}\n")
    return cfg


def test_the_light_install_really_lacks_the_clients():
    proc = subprocess.run([sys.executable, "-c", "import sys; sys.modules.update(openai=None, "
                           "anthropic=None)\nimport openai"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 1 and "import of openai halted" in proc.stderr


@pytest.mark.parametrize("provider,client", [("openai", "openai"), ("anthropic", "anthropic"),
                                             ("openai-compatible", "openai")])
def test_a_model_provider_without_the_extra_is_one_line_naming_it(tmp_path: Path, provider: str,
                                                                   client: str):
    out = light("plan", "--snapshot", str(SNAPSHOT), "--repo", str(EXAMPLE), "--config",
                str(_config(tmp_path, provider)))
    assert out.returncode == 2, out.stderr  # the installation cannot do what the config asks
    assert out.stderr.strip() == (
        f"remediator: error: drafting.provider {provider} needs the {client} client, which is "
        f"not installed: {EXTRA}")
    assert out.stdout == ""


def test_run_once_without_the_extra_stops_before_any_pull_request(tmp_path: Path):
    origin = build_origin(tmp_path / "work")
    out = light("run", "--once", "--snapshot", str(SNAPSHOT), "--repo", str(origin),
                "--state-dir", str(tmp_path / "state"), "--config",
                str(_config(tmp_path, "anthropic")))
    assert out.returncode == 2 and EXTRA in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "state" / "pulls").exists() or not any(
        (tmp_path / "state" / "pulls").iterdir())


def test_validate_and_the_rules_drafter_work_without_the_extra(tmp_path: Path):
    """The CI-only install: a repository whose config names a model provider still validates
    (validate drafts nothing), and `plan` with the rules drafter proposes as usual."""
    checked = light("validate", "--repo", str(EXAMPLE), "--config",
                    str(_config(tmp_path, "openai")), str(EXAMPLE / "remediator"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    planned = light("plan", "--snapshot", str(SNAPSHOT), "--repo", str(EXAMPLE))
    assert planned.returncode == 0, planned.stderr
    assert "\npropose " in planned.stdout
    assert planned.stdout == cli("plan", "--snapshot", str(SNAPSHOT), "--repo",
                                 str(EXAMPLE)).stdout  # the same plan as a full install


def test_doctor_names_the_extra(tmp_path: Path):
    root = tmp_path / "gitops"
    root.mkdir()
    (root / ".remediator.yaml").write_text("drafting: {provider: openai, model: gpt-4.1-mini}\n")
    with KubeAPI() as kube:
        out = light("doctor", "--repo", str(root), "--kubeconfig",
                    str(kube.kubeconfig(tmp_path / "kubeconfig")))
    assert out.returncode == 1
    [line] = [ln for ln in out.stdout.splitlines() if "LLM client" in ln]
    assert line.startswith("missing") and EXTRA in line
