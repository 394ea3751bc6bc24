package remediator.policies.change_test

import rego.v1

import data.remediator.policies.change

deployment(name, namespace, pod) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": name, "namespace": namespace},
	"spec": {"template": {"spec": pod}},
}

app := {"name": "app", "image": "nginx:1.25", "readinessProbe": {"httpGet": {"path": "/ready", "port": 80}}}

web := deployment("web", "shop", {"containers": [app]})

update(before, after) := {"before": before, "after": after, "change": {"operation": "update"}}

test_unchanged_identity_passes if {
	count(change.deny) == 0 with input as update(web, web)
}

test_new_object_is_not_judged_here if {
	count(change.deny) == 0 with input as {"before": null, "after": web, "change": {"operation": "create"}}
}

test_namespace_change_denied if {
	moved := deployment("web", "kube-system", {"containers": [app]})
	change.deny == {"the change alters the object's namespace from shop to kube-system; a patch must not move an object (metadata.namespace)"} with input as update(web, moved)
}

test_missing_namespace_after_is_the_default_not_a_move if {
	count(change.deny) == 0 with input as update(web, deployment("web", "", {"containers": [app]}))
}

test_name_and_kind_change_denied if {
	renamed := object.union(deployment("web2", "shop", {"containers": [app]}), {"kind": "StatefulSet"})
	change.deny == {
		"the change alters the object's kind from Deployment to StatefulSet; a patch must not move an object (kind)",
		"the change alters the object's name from web to web2; a patch must not move an object (metadata.name)",
	} with input as update(web, renamed)
}

test_run_as_non_root_weakened_denied if {
	before := deployment("web", "shop", {"securityContext": {"runAsNonRoot": true}, "containers": [app]})
	after := deployment("web", "shop", {"containers": [app]})
	change.deny == {"container \"app\" no longer runs as non-root: runAsNonRoot was true before the change (spec.template.spec.containers[0].securityContext.runAsNonRoot)"} with input as update(before, after)
}

test_run_as_non_root_overridden_by_container_denied if {
	before := deployment("web", "shop", {"containers": [object.union(app, {"securityContext": {"runAsNonRoot": true}})]})
	after := deployment("web", "shop", {"containers": [object.union(app, {"securityContext": {"runAsNonRoot": false}})]})
	count(change.deny) == 1 with input as update(before, after)
}

test_run_as_non_root_moved_to_the_pod_passes if {
	before := deployment("web", "shop", {"containers": [object.union(app, {"securityContext": {"runAsNonRoot": true}})]})
	after := deployment("web", "shop", {"securityContext": {"runAsNonRoot": true}, "containers": [app]})
	count(change.deny) == 0 with input as update(before, after)
}

test_probe_removed_denied if {
	after := deployment("web", "shop", {"containers": [object.remove(app, ["readinessProbe"])]})
	change.deny == {"container \"app\" readinessProbe was removed by the change (spec.template.spec.containers[0].readinessProbe)"} with input as update(web, after)
}

test_probe_changed_passes if {
	after := deployment("web", "shop", {"containers": [object.union(app, {"readinessProbe": {"exec": {"command": ["true"]}}})]})
	count(change.deny) == 0 with input as update(web, after)
}
