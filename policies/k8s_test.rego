package remediator.lib.k8s_test

import rego.v1

import data.remediator.lib.k8s

test_pod_spec_paths if {
	k8s.pod_spec_path({"kind": "Pod"}) == "spec"
	k8s.pod_spec_path({"kind": "Deployment"}) == "spec.template.spec"
	k8s.pod_spec_path({"kind": "CronJob"}) == "spec.jobTemplate.spec.template.spec"
	not k8s.pod_spec_path({"kind": "ConfigMap"})
}

test_containers_cover_init_regular_and_ephemeral if {
	obj := {"kind": "DaemonSet", "spec": {"template": {"spec": {
		"initContainers": [{"name": "i"}],
		"containers": [{"name": "a"}, {"name": "b"}],
		"ephemeralContainers": [{"name": "e"}],
	}}}}
	[c.path | some c in k8s.containers(obj)] == [
		"spec.template.spec.initContainers[0]",
		"spec.template.spec.containers[0]",
		"spec.template.spec.containers[1]",
		"spec.template.spec.ephemeralContainers[0]",
	]
	[c.label | some c in k8s.containers(obj)] == [
		"init container \"i\"", "container \"a\"", "container \"b\"", "ephemeral container \"e\"",
	]
}

test_no_containers_without_pod_spec if {
	count(k8s.containers({"kind": "Service", "spec": {"ports": []}})) == 0
	count(k8s.containers({"kind": "Deployment", "spec": {}})) == 0
	count(k8s.containers(null)) == 0
}
