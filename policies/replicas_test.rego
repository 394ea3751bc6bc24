package remediator.policies.replicas_test

import rego.v1

import data.remediator.policies.replicas

config := {"minReplicas": 1, "maxReplicas": 50}

deployment(n) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": n}}

test_within_bounds_passes if {
	count(replicas.deny) == 0 with input as {"after": deployment(3)} with data.remediator.config as config
}

test_scaled_to_zero_denied if {
	replicas.deny == {"Deployment web has 0 replicas, below the minimum 1 (spec.replicas)"} with input as {"after": deployment(0)}
		with data.remediator.config as config
}

test_above_maximum_denied if {
	replicas.deny == {"Deployment web has 51 replicas, above the maximum 50 (spec.replicas)"} with input as {"after": deployment(51)}
		with data.remediator.config as config
}

test_unset_replicas_pass if {
	count(replicas.deny) == 0 with input as {"after": {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {}}}
		with data.remediator.config as config
}

test_bounds_not_configured_are_not_checked if {
	count(replicas.deny) == 0 with input as {"after": deployment(500)} with data.remediator.config as {}
}

test_other_kinds_pass if {
	count(replicas.deny) == 0 with input as {"after": {"kind": "ConfigMap", "spec": {"replicas": 0}}}
		with data.remediator.config as config
}
