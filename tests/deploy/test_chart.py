"""The Helm chart deploy/helm/remediator: linted with `helm lint --strict`, rendered with `helm
template` for several values, every rendering passes the bot's own `remediator validate`, and
with the values equivalent to the Kustomize manifests it renders the same objects as
`kubectl kustomize gitops-repo-example/remediator` (only Helm's conventional labels differ)."""

from __future__ import annotations

import copy
import json
import shutil
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

import remediator
from tests.support.bot_chart import (
    AS_MANIFESTS,
    CHART,
    EXAMPLE,
    REPO_URL,
    by_kind_and_name,
    helm,
    kustomize,
    manifests_with,
    render,
    render_error,
    values_file,
    without_helm_labels,
)
from tests.support.chart_repo import needs_helm
from tests.support.cli import cli

pytestmark = needs_helm

BASE: dict[str, Any] = {"repo": {"url": REPO_URL}}
EVERYTHING: dict[str, Any] = {
    "repo": {"url": REPO_URL},
    "github": {"app": {"enabled": True}, "apiUrl": "https://github.example.com/api/v3"},
    "dryRun": {"enabled": True},
    "opa": {"enabled": True},
    "interval": "30",
    "alertWebhook": {"enabled": True},
    "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
                "prometheusRule": {"enabled": True}, "grafanaDashboard": {"enabled": True}},
}
VALUES = {
    "defaults": BASE,
    "everything": EVERYTHING,
    "one replica, App only": {"repo": {"url": REPO_URL}, "replicas": 1,
                              "github": {"token": {"enabled": False}, "app": {"enabled": True}}},
    "as the manifests": AS_MANIFESTS,
}


def _deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
    [dep] = [d for d in docs if d["kind"] == "Deployment"]
    return dep


def _container(docs: list[dict[str, Any]], name: str = "remediator") -> dict[str, Any]:
    pod = _deployment(docs)["spec"]["template"]["spec"]
    [c] = [c for c in pod["containers"] if c["name"] == name]
    return c


@pytest.mark.parametrize("values", VALUES.values(), ids=VALUES.keys())
def test_lint_strict(values: dict[str, Any], tmp_path: Path):
    res = helm("lint", "--strict", CHART, "--namespace", "remediator",
               "--values", values_file(values, tmp_path))
    assert "0 chart(s) failed" in res.stdout, res.stdout


@pytest.mark.parametrize("values", VALUES.values(), ids=VALUES.keys())
def test_every_rendering_passes_the_bots_own_gate(values: dict[str, Any], tmp_path: Path):
    """Policies and strict schema, with the example repo's own .remediator.yaml (allowed
    registries ghcr.io/acme, memory and CPU ceilings)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(EXAMPLE / ".remediator.yaml", repo / ".remediator.yaml")
    docs = render(values, tmp_path)
    (repo / "remediator.yaml").write_text(yaml.safe_dump_all(docs))
    res = cli("validate", "--repo", str(repo), str(repo / "remediator.yaml"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 errors" in res.stdout


@pytest.mark.parametrize("optional", [False, True], ids=["default", "optional pieces"])
def test_the_chart_installs_what_the_manifests_install(optional: bool, tmp_path: Path):
    """Deployment, RBAC, Service, PDB (and, opted in: the dry-run role with its admission
    policy, the OPA sidecar, ServiceMonitor and PrometheusRule) are identical but for Helm's
    conventional labels. The Namespace is the manifests' own (Helm: --create-namespace)."""
    values = copy.deepcopy(AS_MANIFESTS)
    extra: tuple[str, ...] = ()
    if optional:
        values |= {"dryRun": {"enabled": True}, "opa": {"enabled": True},
                   "alertWebhook": {"enabled": True},
                   "metrics": {"serviceMonitor": {"enabled": True},
                               "prometheusRule": {"enabled": True}}}
        extra = ("rbac-dry-run.yaml", "servicemonitor.yaml", "prometheusrule.yaml")
    chart = by_kind_and_name([without_helm_labels(d) for d in render(values, tmp_path)])
    built = by_kind_and_name(kustomize(manifests_with(tmp_path, *extra, opa=optional,
                                                      alert_webhook=optional)))
    namespace = built.pop(("Namespace", "remediator"))
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert sorted(chart) == sorted(built)
    for key, obj in built.items():
        assert chart[key] == obj, key
    kinds = {k for k, _ in built}
    assert {"Deployment", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service",
            "PodDisruptionBudget", "ServiceAccount"} <= kinds
    if optional:
        assert {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
                "ServiceMonitor", "PrometheusRule"} <= kinds
        ports = [p["name"] for p in built[("Service", "remediator")]["spec"]["ports"]]
        assert ports == ["http", "alerts"]


def test_the_comparison_sees_a_difference(tmp_path: Path):
    """The parity check is not blind: one changed value shows."""
    chart = by_kind_and_name([without_helm_labels(d) for d in render(
        {**AS_MANIFESTS, "resources": {"limits": {"memory": "2Gi"}}}, tmp_path)])
    built = by_kind_and_name(kustomize(manifests_with(tmp_path)))
    key = ("Deployment", "remediator")
    assert chart[key] != built[key]


def test_helm_labels_are_the_only_label_difference(tmp_path: Path):
    dep = _deployment(render(AS_MANIFESTS, tmp_path))
    assert dep["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "remediator", "app.kubernetes.io/instance": "remediator"}
    assert dep["metadata"]["labels"]["helm.sh/chart"] == "remediator-0.1.0"
    assert dep["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"


def test_leader_election_follows_the_replicas(tmp_path: Path):
    two = render(BASE, tmp_path)
    args = _container(two)["args"]
    assert "--leader-election" in args and "--lease-name=remediator" in args
    env = {e["name"]: e for e in _container(two)["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    [role] = [d for d in two if d["kind"] == "Role"]
    assert role["rules"][0]["resourceNames"] == ["remediator"]
    assert [d["kind"] for d in two].count("PodDisruptionBudget") == 1

    one = render({**BASE, "replicas": 1}, tmp_path)
    assert "--leader-election" not in _container(one)["args"]
    kinds = [d["kind"] for d in one]
    assert "Role" not in kinds and "PodDisruptionBudget" not in kinds  # a PDB would block drains

    forced = render({**BASE, "replicas": 1, "leaderElection": {"force": True,
                                                               "leaseName": "bot"}}, tmp_path)
    assert "--lease-name=bot" in _container(forced)["args"]
    assert next(d for d in forced if d["kind"] == "Role")["rules"][0]["resourceNames"] == ["bot"]


def test_another_release_name_and_namespace(tmp_path: Path):
    docs = render(EVERYTHING, tmp_path, release="bots", namespace="platform")
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "bots-remediator") in names
    assert ("ValidatingAdmissionPolicy", "bots-remediator-dry-run-only") in names
    [vap] = [d for d in docs if d["kind"] == "ValidatingAdmissionPolicy"]
    assert vap["spec"]["matchConditions"][0]["expression"] == (
        'request.userInfo.username == "system:serviceaccount:platform:bots-remediator"')
    [rule] = [d for d in docs if d["kind"] == "PrometheusRule"]
    exprs = " ".join(r["expr"] for r in rule["spec"]["groups"][0]["rules"])
    assert 'job="bots-remediator", namespace="platform"' in exprs
    for d in docs:
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy",
                             "ValidatingAdmissionPolicyBinding"):
            assert d["metadata"]["namespace"] == "platform", d["kind"]


def test_image_defaults_to_the_app_version(tmp_path: Path):
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == version("remediator")  # the chart installs this release
    assert _container(render(BASE, tmp_path))["image"] == \
        f"{remediator.IMAGE}:{chart['appVersion']}"
    tagged = render({**BASE, "image": {"repository": "registry.example.com/remediator",
                                       "tag": "9.9.9"}}, tmp_path)
    assert _container(tagged)["image"] == "registry.example.com/remediator:9.9.9"
    digest = "sha256:" + "a" * 64
    pinned = render({**BASE, "image": {"digest": digest}}, tmp_path)
    assert _container(pinned)["image"] == f"{remediator.IMAGE}@{digest}"


def test_token_or_github_app(tmp_path: Path):
    token = _container(render(BASE, tmp_path))
    env = {e["name"]: e for e in token["env"]}
    assert "optional" not in env["GITHUB_TOKEN"]["valueFrom"]["secretKeyRef"]  # required
    assert "GITHUB_APP_ID" not in env
    assert [m["name"] for m in token["volumeMounts"]] == ["state", "tmp"]

    app_docs = render({**BASE, "github": {"token": {"enabled": False}, "app": {"enabled": True},
                                          "existingSecret": "bot-credentials"}}, tmp_path)
    app = _container(app_docs)
    env = {e["name"]: e for e in app["env"]}
    assert "GITHUB_TOKEN" not in env
    assert env["GITHUB_APP_ID"]["valueFrom"]["secretKeyRef"] == {
        "name": "bot-credentials", "key": "github-app-id"}  # required
    assert env["GITHUB_APP_INSTALLATION_ID"]["valueFrom"]["secretKeyRef"]["optional"] is True
    key_file = Path(env["GITHUB_APP_PRIVATE_KEY_FILE"]["value"])
    mount = {m["mountPath"]: m for m in app["volumeMounts"]}[str(key_file.parent)]
    assert mount["readOnly"] is True
    volumes = {v["name"]: v for v in _deployment(app_docs)["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mount["name"]]["secret"] == {
        "secretName": "bot-credentials", "optional": False, "defaultMode": 0o440,
        "items": [{"key": "github-app-private-key", "path": key_file.name}]}
    # LLM keys stay optional whatever the forge credentials
    assert env["OPENAI_API_KEY"]["valueFrom"]["secretKeyRef"]["optional"] is True

    none = {**BASE, "github": {"token": {"enabled": False}}}
    assert "enable github.token or github.app" in render_error(none, tmp_path)
    assert "repo.url" in render_error({}, tmp_path)


def test_hardening_is_not_lost_with_the_options(tmp_path: Path):
    docs = render(EVERYTHING, tmp_path)
    pod = _deployment(docs)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert [c["name"] for c in pod["containers"]] == ["remediator", "opa"]
    for c in pod["containers"]:
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert c["resources"]["requests"] and c["resources"]["limits"]
    opa = _container(docs, "opa")
    assert "--addr=127.0.0.1:8181" in opa["args"]  # loopback only
    roles = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ClusterRole"}
    assert {v for r in roles["remediator-read"]["rules"] for v in r["verbs"]} == {
        "get", "list", "watch"}
    assert {v for r in roles["remediator-dry-run"]["rules"] for v in r["verbs"]} == {"patch"}
    args = _container(docs)["args"]
    assert "--github-api-url=https://github.example.com/api/v3" in args
    assert "--interval=30" in args


def test_monitoring_toggles(tmp_path: Path):
    assert not {d["kind"] for d in render(BASE, tmp_path)} & {
        "ServiceMonitor", "PrometheusRule", "ConfigMap"}
    docs = render(EVERYTHING, tmp_path)
    [sm] = [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert sm["metadata"]["labels"]["release"] == "prometheus"
    [svc] = [d for d in docs if d["kind"] == "Service"]
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["spec"]["endpoints"][0]["port"] == svc["spec"]["ports"][0]["name"]
    [cm] = [d for d in docs if d["kind"] == "ConfigMap"]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["data"]["remediator.json"] == (CHART / "files" / "grafana-dashboard.json"
                                             ).read_text().rstrip("\n")
    fewer = render({**EVERYTHING, "metrics": {"prometheusRule": {
        "enabled": True, "disabled": ["RemediatorLLMBudgetExhausted"],
        "extraRules": [{"alert": "Mine", "expr": "vector(1)"}]}}}, tmp_path)
    [rule] = [d for d in fewer if d["kind"] == "PrometheusRule"]
    names = [r["alert"] for r in rule["spec"]["groups"][0]["rules"]]
    assert "RemediatorLLMBudgetExhausted" not in names and names[-1] == "Mine"


def test_the_admission_policy_needs_kubernetes_1_30(tmp_path: Path):
    values = {**BASE, "dryRun": {"enabled": True}}
    assert "Kubernetes >= 1.30" in render_error(values, tmp_path, "--kube-version", "1.29.0")
    without = render({**BASE, "dryRun": {"enabled": True, "admissionPolicy": {"enabled": False}}},
                     tmp_path, "--kube-version", "1.29.0")
    assert "ValidatingAdmissionPolicy" not in {d["kind"] for d in without}
    assert "ClusterRole" in {d["kind"] for d in without}


def test_a_mistyped_value_is_refused(tmp_path: Path):
    """values.schema.json: a typo is an error, not a silently ignored setting."""
    assert "additional properties 'replica' not allowed" in render_error(
        {**BASE, "replica": 3}, tmp_path)
    assert "disabled/0" in render_error(
        {**BASE, "metrics": {"prometheusRule": {"disabled": ["RemediatorLeaderlost"]}}}, tmp_path)
    schema = json.loads((CHART / "values.schema.json").read_text())
    names = schema["properties"]["metrics"]["properties"]["prometheusRule"]["properties"][
        "disabled"]["items"]["enum"]
    [rule] = [d for d in render({**BASE, "metrics": {"prometheusRule": {"enabled": True}}},
                                tmp_path) if d["kind"] == "PrometheusRule"]
    assert sorted(names) == sorted(r["alert"] for r in rule["spec"]["groups"][0]["rules"])


def test_the_alert_webhook(tmp_path: Path):
    """Off by default; on, the bot serves the port, reads its token from the credentials
    Secret (a required key: the service refuses to start without it) and the Service exposes
    it beside /metrics, which the ServiceMonitor still scrapes."""
    off = render(BASE, tmp_path)
    assert not any(a.startswith("--alert-webhook-port") for a in _container(off)["args"])
    assert "REMEDIATOR_ALERT_TOKEN" not in {e["name"] for e in _container(off)["env"]}
    [svc] = [d for d in off if d["kind"] == "Service"]
    assert [p["name"] for p in svc["spec"]["ports"]] == ["http"]

    docs = render({**EVERYTHING, "github": {"existingSecret": "bot-credentials"},
                   "alertWebhook": {"enabled": True, "port": 9200, "tokenKey": "am-token"}},
                  tmp_path, release="bots", namespace="platform")
    bot = _container(docs)
    assert "--alert-webhook-port=9200" in bot["args"]
    env = {e["name"]: e for e in bot["env"]}
    assert env["REMEDIATOR_ALERT_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "bot-credentials", "key": "am-token"}  # required, never inline
    assert {"name": "alerts", "containerPort": 9200} in bot["ports"]
    [svc] = [d for d in docs if d["kind"] == "Service"]
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    assert ports["alerts"] == {"name": "alerts", "port": 9200, "targetPort": "alerts",
                               "protocol": "TCP"}
    [sm] = [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert [e["port"] for e in sm["spec"]["endpoints"]] == ["http"]  # the webhook is not scraped

    assert "a port of its own" in render_error(
        {**BASE, "alertWebhook": {"enabled": True, "port": 8080}}, tmp_path)
    assert "alertWebhook/port" in render_error(
        {**BASE, "alertWebhook": {"enabled": True, "port": 0}}, tmp_path)
