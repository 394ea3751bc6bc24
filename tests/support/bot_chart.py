"""The bot's Helm chart (deploy/helm/remediator) rendered and linted by the real Helm, and the
Kustomize manifests (gitops-repo-example/remediator) built by the real kubectl, for the tests
that compare them, validate them and load their alerts and dashboard."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from remediator.cli.demo import example_paths
from remediator.render.helm import helm_binary

ROOT = Path(__file__).resolve().parent.parent.parent
CHART = ROOT / "deploy" / "helm" / "remediator"
EXAMPLE, _ = example_paths()
MANIFESTS = EXAMPLE / "remediator"
REPO_URL = "https://github.com/acme/gitops-example.git"
#: labels the chart adds to every object, selector and pod template, as Helm charts do
#: (`helm create`); the Kustomize manifests carry only app.kubernetes.io/name
HELM_LABELS = ("app.kubernetes.io/instance", "app.kubernetes.io/version",
               "app.kubernetes.io/managed-by", "helm.sh/chart")
#: the chart's values that install what the manifests install (repo URL, a token or an App)
BASE_VALUES: dict[str, Any] = {"repo": {"url": REPO_URL}}
AS_MANIFESTS: dict[str, Any] = {**BASE_VALUES, "github": {"app": {"enabled": True}}}


def helm(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    binary = helm_binary()
    assert binary, "helm is not installed (python scripts/install_helm.py .venv/bin)"
    with tempfile.TemporaryDirectory(prefix="helm-home-") as home:
        env = {"HOME": home, "PATH": "/usr/bin:/bin", "HELM_CACHE_HOME": f"{home}/cache",
               "HELM_CONFIG_HOME": f"{home}/config", "HELM_DATA_HOME": f"{home}/data",
               "KUBECONFIG": "/dev/null"}
        res = subprocess.run([binary, *map(str, args)], capture_output=True, text=True,
                             env=env, timeout=120, check=False)
    if check and res.returncode != 0:
        raise AssertionError(f"helm {' '.join(map(str, args))}: {res.stderr or res.stdout}")
    return res


def values_file(values: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"values-{abs(hash(json.dumps(values, sort_keys=True)))}.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def render(values: dict[str, Any], tmp: Path, *extra: str, release: str = "remediator",
           namespace: str = "remediator") -> list[dict[str, Any]]:
    out = helm("template", release, CHART, "--namespace", namespace,
               "--values", values_file(values, tmp), *extra).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def render_error(values: dict[str, Any], tmp: Path, *extra: str) -> str:
    res = helm("template", "remediator", CHART, "--namespace", "remediator",
               "--values", values_file(values, tmp), *extra, check=False)
    assert res.returncode != 0, "rendered, but should have failed"
    return res.stderr


def kustomize(folder: Path) -> list[dict[str, Any]]:
    out = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True,
                         check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


#: the comment that heads each commented-out block of the webhook in deployment.yaml/service.yaml
ALERT_WEBHOOK_MARK = "# OPTIONAL alert webhook"


def _uncomment_marked_blocks(path: Path, mark: str) -> int:
    """Uncomment the commented lines that follow each line carrying ``mark`` (up to the first
    line that is not a comment at the same indent); returns the number of blocks."""
    lines = path.read_text().splitlines(keepends=True)
    blocks = 0
    for i, line in enumerate(lines):
        if mark not in line:
            continue
        blocks += 1
        indent = line[:len(line) - len(line.lstrip())]
        j = i + 1
        while j < len(lines) and lines[j].startswith(indent + "# "):
            lines[j] = lines[j].replace(indent + "# ", indent, 1)
            j += 1
    path.write_text("".join(lines))
    return blocks


def manifests_with(tmp: Path, *optional: str, opa: bool = False,
                   alert_webhook: bool = False) -> Path:
    """A copy of the manifests folder with the optional files listed (and the OPA sidecar, the
    alert webhook uncommented): what a user who opts in deploys."""
    folder = tmp / "manifests"
    shutil.copytree(MANIFESTS, folder)
    kust = folder / "kustomization.yaml"
    text = kust.read_text()
    for name in optional:
        assert f"# - {name}" in text, name
        text = text.replace(f"# - {name}", f"- {name}")
    kust.write_text(text)
    if opa:
        dep = folder / "deployment.yaml"
        lines = dep.read_text().splitlines(keepends=True)
        start = lines.index("        # - name: opa\n")
        end = start
        while end < len(lines) and lines[end].startswith("        #"):
            end += 1
        lines[start:end] = [line.replace("        # ", "        ", 1) for line in lines[start:end]]
        dep.write_text("".join(lines))
    if alert_webhook:
        assert _uncomment_marked_blocks(folder / "deployment.yaml", ALERT_WEBHOOK_MARK) == 3
        assert _uncomment_marked_blocks(folder / "service.yaml", ALERT_WEBHOOK_MARK) == 1
    return folder


def without_helm_labels(obj: Any) -> Any:
    """``obj`` with the chart's Helm-conventional labels taken out of every label map and
    selector (metadata.labels, matchLabels, selector, pod template labels)."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key in ("labels", "matchLabels", "selector") and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k not in HELM_LABELS}
                if key == "selector" and "matchLabels" in value:
                    value = without_helm_labels(value)
            else:
                value = without_helm_labels(value)
            out[key] = value
        return out
    if isinstance(obj, list):
        return [without_helm_labels(v) for v in obj]
    return obj


def by_kind_and_name(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}
