# Replicas stay within bounds: spec.replicas, when it is set, is at least
# data.remediator.config.minReplicas and at most maxReplicas (a bound that is not configured is
# not checked). Objects without spec.replicas (left to an autoscaler, or a kind without it) pass.
#
# Input: input.after; see k8s.rego for the full input contract.
package remediator.policies.replicas

import rego.v1

default config := {}

config := data.remediator.config

replicas := input.after.spec.replicas if {
	input.after.kind in {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}
	is_number(input.after.spec.replicas)
}

deny contains msg if {
	minimum := object.get(config, "minReplicas", null)
	is_number(minimum)
	replicas < minimum
	msg := sprintf("%s %s has %v replicas, below the minimum %v (spec.replicas)", [input.after.kind, _name, replicas, minimum])
}

deny contains msg if {
	maximum := object.get(config, "maxReplicas", null)
	is_number(maximum)
	replicas > maximum
	msg := sprintf("%s %s has %v replicas, above the maximum %v (spec.replicas)", [input.after.kind, _name, replicas, maximum])
}

_name := object.get(input.after, ["metadata", "name"], "")
