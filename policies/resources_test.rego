package remediator.policies.resources_test

import rego.v1

import data.remediator.policies.resources

config := {"maxMemory": "16Gi", "maxMemoryBytes": 17179869184, "maxCpu": "8", "maxCpuMillis": 8000}

path := "spec.template.spec.containers[0]"

deployment(resources) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:1", "resources": resources}]}}},
}

# input as remediator builds it: the object plus its parsed quantities
case(resources, quantities) := {"before": null, "after": deployment(resources), "quantities": {path: quantities}}

test_within_ceilings_passes if {
	inp := case(
		{"limits": {"memory": "512Mi", "cpu": "1"}, "requests": {"memory": "256Mi", "cpu": "500m"}},
		{"limits": {"memory": 536870912, "cpu": 1000}, "requests": {"memory": 268435456, "cpu": 500}},
	)
	count(resources.deny) == 0 with input as inp with data.remediator.config as config
}

test_missing_memory_limit_denied if {
	inp := case({"requests": {"memory": "256Mi"}}, {"requests": {"memory": 268435456}})
	resources.deny == {"container \"app\" has no memory limit (spec.template.spec.containers[0].resources.limits.memory)"} with input as inp
		with data.remediator.config as config
}

test_no_resources_at_all_denied if {
	inp := {"after": deployment(null), "quantities": {path: {}}}
	count(resources.deny) == 1 with input as inp with data.remediator.config as config
}

test_init_container_needs_memory_limit if {
	inp := {"after": {
		"kind": "Job",
		"spec": {"template": {"spec": {
			"initContainers": [{"name": "setup", "image": "busybox:1"}],
			"containers": [{"name": "job", "image": "app:1", "resources": {"limits": {"memory": "1Gi"}}}],
		}}},
	}, "quantities": {"spec.template.spec.containers[0]": {"limits": {"memory": 1073741824}}}}
	resources.deny == {"init container \"setup\" has no memory limit (spec.template.spec.initContainers[0].resources.limits.memory)"} with input as inp
		with data.remediator.config as config
}

test_ephemeral_containers_not_checked if {
	inp := {"after": {"kind": "Pod", "spec": {
		"containers": [{"name": "app", "resources": {"limits": {"memory": "1Gi"}}}],
		"ephemeralContainers": [{"name": "debug"}],
	}}, "quantities": {"spec.containers[0]": {"limits": {"memory": 1073741824}}}}
	count(resources.deny) == 0 with input as inp with data.remediator.config as config
}

test_memory_limit_above_ceiling_denied if {
	inp := case({"limits": {"memory": "32Gi"}}, {"limits": {"memory": 34359738368}})
	resources.deny == {"container \"app\" memory limit 32Gi is above the maximum 16Gi (spec.template.spec.containers[0].resources.limits.memory)"} with input as inp
		with data.remediator.config as config
}

test_memory_limit_at_ceiling_passes if {
	inp := case({"limits": {"memory": "16Gi"}}, {"limits": {"memory": 17179869184}})
	count(resources.deny) == 0 with input as inp with data.remediator.config as config
}

test_cpu_limit_above_ceiling_denied if {
	inp := case({"limits": {"memory": "1Gi", "cpu": "8500m"}}, {"limits": {"memory": 1073741824, "cpu": 8500}})
	resources.deny == {"container \"app\" cpu limit 8500m is above the maximum 8 (spec.template.spec.containers[0].resources.limits.cpu)"} with input as inp
		with data.remediator.config as config
}

test_request_above_ceiling_denied if {
	inp := case(
		{"limits": {"memory": "1Gi"}, "requests": {"cpu": 12}},
		{"limits": {"memory": 1073741824}, "requests": {"cpu": 12000}},
	)
	"container \"app\" cpu request 12 is above the maximum 8 (spec.template.spec.containers[0].resources.requests.cpu)" in resources.deny with input as inp
		with data.remediator.config as config
}

test_request_above_limit_denied if {
	inp := case(
		{"limits": {"memory": "256Mi"}, "requests": {"memory": "1Gi"}},
		{"limits": {"memory": 268435456}, "requests": {"memory": 1073741824}},
	)
	resources.deny == {"container \"app\" memory request 1Gi is above its limit 256Mi (spec.template.spec.containers[0].resources.requests.memory)"} with input as inp
		with data.remediator.config as config
}

test_invalid_quantity_denied if {
	inp := case({"limits": {"memory": "lots"}}, {"limits": {}, "invalid": ["limits.memory"]})
	resources.deny == {"container \"app\" limits.memory lots is not a valid quantity (spec.template.spec.containers[0].resources.limits.memory)"} with input as inp
		with data.remediator.config as config
}

test_missing_quantities_fail_closed if {
	inp := {"after": deployment({"limits": {"memory": "64Gi"}})}
	resources.deny == {"container \"app\" resources cannot be checked: no parsed quantities for spec.template.spec.containers[0] (input.quantities)"} with input as inp
		with data.remediator.config as config
}

test_ceilings_not_configured_are_not_checked if {
	inp := case({"limits": {"memory": "64Gi"}}, {"limits": {"memory": 68719476736}})
	count(resources.deny) == 0 with input as inp with data.remediator.config as {}
}
