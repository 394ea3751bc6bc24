"""The dry-run role's ValidatingAdmissionPolicy, as shipped (gitops-repo-example/remediator/
rbac-dry-run.yaml, and the Helm chart with dryRun.enabled), loaded into the Kubernetes API
emulator, whose admission path evaluates it (CEL, cel-python): the gate's `dryRun=All` apply by
the bot's ServiceAccount passes, the same change sent for real is denied, other users and the
bot's Lease are not affected."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from remediator import gate
from remediator.cluster import connect
from remediator.kernel.leader import LeaseLock
from tests.support.bot_chart import AS_MANIFESTS, kustomize, manifests_with, render
from tests.support.chart_repo import needs_helm
from tests.support.kube_admission import admission_request, admit
from tests.support.kube_api import KubeAPI
from tests.support.kube_objects import BUILTIN
from tests.support.kube_writes import ApiError
from tests.support.policies import deployment

LIVE = {**deployment(), "metadata": {"name": "web", "namespace": "shop"}}
ARGOCD = {"username": "system:serviceaccount:argocd:argocd-application-controller",
          "groups": ["system:serviceaccounts", "system:serviceaccounts:argocd",
                     "system:authenticated"]}


@dataclass
class Cluster:
    kube: KubeAPI
    kubeconfig: Path
    #: the ServiceAccount the policy names: namespace, name
    bot: tuple[str, str]

    def as_user(self, user: dict[str, Any]) -> None:
        self.kube.users["emulator-token"] = user  # the kubeconfig's token

    def as_bot(self) -> None:
        ns, name = self.bot
        self.as_user({"username": f"system:serviceaccount:{ns}:{name}",
                      "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}",
                                 "system:authenticated"]})

    def apps(self) -> k8s_client.AppsV1Api:
        return k8s_client.AppsV1Api(connect(kubeconfig=str(self.kubeconfig)))


def _from_manifests(tmp: Path) -> tuple[list[dict[str, Any]], tuple[str, str]]:
    return kustomize(manifests_with(tmp, "rbac-dry-run.yaml")), ("remediator", "remediator")


def _from_chart(tmp: Path) -> tuple[list[dict[str, Any]], tuple[str, str]]:
    docs = render({**AS_MANIFESTS, "dryRun": {"enabled": True}}, tmp, release="bots",
                  namespace="platform")
    return docs, ("platform", "bots-remediator")


SOURCES = {"manifests": _from_manifests, "chart": pytest.param(_from_chart, marks=needs_helm)}


def _policies(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [d for d in docs if d["apiVersion"].startswith("admissionregistration.k8s.io/")]
    assert sorted(d["kind"] for d in found) == ["ValidatingAdmissionPolicy",
                                               "ValidatingAdmissionPolicyBinding"]
    assert all("namespace" not in d["metadata"] for d in found)  # cluster-scoped
    return found


@pytest.fixture(params=SOURCES.values(), ids=SOURCES.keys())
def cluster(request: pytest.FixtureRequest, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    docs, bot = request.param(tmp_path)
    with KubeAPI() as kube:
        for ns in ("shop", bot[0]):
            kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        kube.apply(LIVE, *_policies(docs))
        kubeconfig = kube.kubeconfig(tmp_path / "kubeconfig")
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        yield Cluster(kube, kubeconfig, bot)


def _with_memory(obj: dict[str, Any], limit: str) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = limit
    return out


def _patch() -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [
        {**LIVE["spec"]["template"]["spec"]["containers"][0],
         "resources": {"limits": {"memory": "4Gi"}}}]}}}}


def test_the_gates_dry_run_by_the_bot_is_admitted(cluster: Cluster):
    cluster.as_bot()
    stored = cluster.kube.get("apps/v1", "Deployment", "web", "shop")
    result = gate.check_dry_run(_with_memory(LIVE, "192Mi"), "auto")
    assert result.passed and result.ran, result.messages
    assert cluster.kube.get("apps/v1", "Deployment", "web", "shop") == stored
    [(_, query)] = [(p, q) for m, p, q in cluster.kube.requests if m == "PATCH"]
    assert query["dryRun"] == "All"


def test_a_real_write_by_the_bot_is_denied(cluster: Cluster):
    cluster.as_bot()
    stored = cluster.kube.get("apps/v1", "Deployment", "web", "shop")
    apps = cluster.apps()
    with pytest.raises(ApiException) as denied:
        apps.patch_namespaced_deployment("web", "shop", _patch())
    assert denied.value.status == 403
    assert "remediator may only send dry-run writes (dryRun=All)" in denied.value.body
    assert "ValidatingAdmissionPolicy '" in denied.value.body
    assert cluster.kube.get("apps/v1", "Deployment", "web", "shop") == stored
    # nor can it create or delete for real; as a dry run, it may
    new = copy.deepcopy(LIVE)
    new["metadata"] = {"name": "web2", "namespace": "shop"}
    with pytest.raises(ApiException) as created:
        apps.create_namespaced_deployment("shop", new)
    assert created.value.status == 403
    apps.create_namespaced_deployment("shop", new, dry_run="All")
    with pytest.raises(ApiException) as deleted:
        apps.delete_namespaced_deployment("web", "shop")
    assert deleted.value.status == 403
    assert cluster.kube.get("apps/v1", "Deployment", "web2", "shop") is None
    assert cluster.kube.get("apps/v1", "Deployment", "web", "shop") == stored


def test_other_users_are_not_affected(cluster: Cluster):
    cluster.as_user(ARGOCD)
    cluster.apps().patch_namespaced_deployment("web", "shop", _patch())
    changed = cluster.kube.get("apps/v1", "Deployment", "web", "shop")
    assert changed is not None
    assert changed["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "limits": {"memory": "4Gi"}}


def test_the_bots_lease_is_its_one_real_write(cluster: Cluster):
    cluster.as_bot()
    ns = cluster.bot[0]
    lock = LeaseLock(connect(kubeconfig=str(cluster.kubeconfig)), ns, "remediator", "pod-a", 15)
    assert lock.try_acquire_or_renew()  # created
    assert lock.try_acquire_or_renew()  # renewed: an update
    lease = cluster.kube.get("coordination.k8s.io/v1", "Lease", "remediator", ns)
    assert lease is not None and lease["spec"]["holderIdentity"] == "pod-a"


def test_without_the_policy_the_same_write_goes_through(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    """What the policy adds: RBAC's `patch` alone does not tell a dry run from a real one."""
    with KubeAPI() as kube:
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}, LIVE)
        kube.users["emulator-token"] = {"username": "system:serviceaccount:remediator:remediator"}
        config = kube.kubeconfig(tmp_path / "kubeconfig")
        apps = k8s_client.AppsV1Api(connect(kubeconfig=str(config)))
        apps.patch_namespaced_deployment("web", "shop", _patch())
        changed = kube.get("apps/v1", "Deployment", "web", "shop")
    assert changed is not None
    assert changed["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {
        "memory": "4Gi"}


def test_the_emulators_policy_evaluation_covers_what_it_claims():
    """tests/support/kube_admission.py beyond the shipped policy: variables,
    messageExpression, reasons, subresource and scope rules, resourceNames, failurePolicy."""
    deployments = next(r for r in BUILTIN if r.plural == "deployments")

    def policy(name: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"metadata": {"name": name}, "spec": spec}]

    def binding(name: str) -> list[dict[str, Any]]:
        return [{"metadata": {"name": f"{name}-b"},
                 "spec": {"policyName": name, "validationActions": ["Deny"]}}]

    def request(sub: str = "", name: str = "web", op: str = "UPDATE") -> dict[str, Any]:
        return admission_request(deployments, op, name, "shop", {"username": "u"}, False, sub)

    small = {"matchConstraints": {"resourceRules": [{
                 "apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["UPDATE"],
                 "resources": ["deployments/scale"], "resourceNames": ["web"],
                 "scope": "Namespaced"}]},
             "variables": [{"name": "limit", "expression": "3"},
                           {"name": "wanted", "expression": "object.spec.replicas"}],
             "validations": [{"expression": "variables.wanted <= variables.limit",
                              "messageExpression": "'at most ' + string(variables.limit)",
                              "reason": "Forbidden"}]}
    scale = {"metadata": {"name": "web"}, "spec": {"replicas": 5}}
    with pytest.raises(ApiError) as denied:
        admit(policy("max", small), binding("max"), request("scale"), scale, None, None)
    assert denied.value.code == 403
    assert denied.value.status["message"] == (
        "ValidatingAdmissionPolicy 'max' with binding 'max-b' denied request: at most 3")
    admit(policy("max", small), binding("max"), request(), scale, None, None)  # not /scale
    admit(policy("max", small), binding("max"), request("scale", "api"), scale, None, None)
    admit(policy("max", small), [], request("scale"), scale, None, None)  # unbound
    broken = {"matchConstraints": {"resourceRules": [{
                  "apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"],
                  "resources": ["*"]}]},
              "validations": [{"expression": "object.spec.nothing == 1"}]}
    with pytest.raises(ApiError) as failed:
        admit(policy("p", broken), binding("p"), request(), scale, None, None)
    assert "resulted in error" in failed.value.status["message"]
    admit(policy("p", {**broken, "failurePolicy": "Ignore"}), binding("p"), request(), scale,
          None, None)
    plain = {**broken, "validations": [{"expression": "object.spec.replicas < 2"}]}
    with pytest.raises(ApiError) as invalid:
        admit(policy("p", plain), binding("p"), request(), scale, None, None)
    assert invalid.value.code == 422 and invalid.value.status["message"].endswith(
        "denied request: failed expression: object.spec.replicas < 2")
