"""The settings Argo CD / Flux add on top of a Kustomize folder, as kustomization fields, and
Flux's post-build substitution as its documentation describes it."""

from __future__ import annotations

from remediator.render import gitops


def test_argo_settings_become_kustomization_fields():
    fields = gitops.wrapper_fields("argocd", {"path": "x", "kustomize": {
        "namePrefix": "prod-", "images": ["web=ghcr.io/acme/web:1.2", "ghcr.io/acme/api:3",
                                          "ghcr.io/acme/db@sha256:abc"],
        "replicas": [{"name": "web", "count": 2}], "commonLabels": {"team": "a"},
        "version": "v5"}})
    assert fields == {"namePrefix": "prod-", "images": [
        {"name": "web", "newName": "ghcr.io/acme/web", "newTag": "1.2"},
        {"name": "ghcr.io/acme/api", "newTag": "3"},
        {"name": "ghcr.io/acme/db", "digest": "sha256:abc"}],
        "replicas": [{"name": "web", "count": 2}], "commonLabels": {"team": "a"}}


def test_flux_settings_become_kustomization_fields():
    fields = gitops.wrapper_fields("flux-kustomization", {
        "path": "./x", "targetNamespace": "shop", "nameSuffix": "-b", "interval": "5m",
        "commonMetadata": {"labels": {"a": "b"}, "annotations": {"c": "d"}}})
    assert fields == {"nameSuffix": "-b", "namespace": "shop", "commonAnnotations": {"c": "d"},
                      "labels": [{"pairs": {"a": "b"}, "includeSelectors": False}]}


def test_override_files_replace_the_application_keys():
    app = {"kustomize": {"images": ["a:1"], "namePrefix": "p-"}}
    merged = gitops.merged_settings("argocd", app, [{"kustomize": {"images": ["a:2"]}}])
    assert merged["kustomize"] == {"images": ["a:2"], "namePrefix": "p-"}


def test_substitution_precedence_defaults_and_opt_out():
    settings = {"postBuild": {"substitute": {"a": "inline"}, "substituteFrom": [
        {"kind": "ConfigMap", "name": "one"}, {"kind": "ConfigMap", "name": "two"}]}}
    variables = gitops.variables(settings, [{"data": {"a": "cm", "b": "one", "c": ""}},
                                            {"data": {"b": "two"}}])
    assert variables == {"a": "inline", "b": "two", "c": ""}
    assert gitops.substitute_text("${a}/${b}/${c:=d}/${c=e}/${x:-f}/${y}", variables) == \
        "inline/two/d//f/"
    opted_out = {"kind": "ConfigMap", "metadata": {"annotations": {
        "kustomize.toolkit.fluxcd.io/substitute": "disabled"}}, "data": {"k": "${a}"}}
    assert gitops.substitute(opted_out, variables) == opted_out


def test_unknown_sources_leave_undefined_variables_as_they_are():
    settings = {"postBuild": {"substituteFrom": [{"kind": "Secret", "name": "s"}]}}
    variables = gitops.variables(settings, [None])
    assert variables is not None and not variables.complete
    assert gitops.substitute_text("${token}-${x:=1}", variables) == "${token}-${x:=1}"
    assert gitops.variables({"postBuild": {}}, []) is None  # no substitution at all


def test_deployed_paths_of_applications_and_flux_kustomizations():
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "spec": {"source": {"repoURL": "https://github.com/acme/gitops", "path": "./apps/x/"},
                    "sources": [{"repoURL": "git@github.com:acme/other.git", "path": "y"},
                                {"path": "apps/./z"}]}}
    assert gitops.deployed_paths(app, "https://github.com/acme/gitops.git") == ["apps/x",
                                                                                 "apps/z"]
    assert gitops.deployed_paths(app) == ["apps/x", "y", "apps/z"]  # any repository
    flux = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "spec": {"path": "."}}
    assert gitops.deployed_paths(flux) == [""]
    # a kustomization file is not a deployer, whatever its fields
    assert gitops.deployed_paths({"apiVersion": "kustomize.config.k8s.io/v1beta1",
                                  "kind": "Kustomization", "spec": {"path": "x"}}) == []
