# Resource limits: every container (and init container) has a memory limit; memory and cpu limits
# and requests stay at or below the configured ceilings; requests are not above limits.
#
# Input: input.after (the object to judge) and input.quantities (its container quantities as
# numbers: memory in bytes, cpu in millicores, keyed by container path; see k8s.rego).
# Data: data.remediator.config.maxMemoryBytes / maxCpuMillis (numbers) and maxMemory / maxCpu (the
# configured strings, for messages). A ceiling that is not configured is not checked.
# Ephemeral containers cannot have resources and are not checked.
package remediator.policies.resources

import rego.v1

import data.remediator.lib.k8s

containers := k8s.after_containers

# (`data.remediator.config` is referenced directly: a reference to all of `data` would evaluate
# every rule of every loaded package)
default config := {}

config := data.remediator.config

# resource name -> [ceiling as a number, ceiling as configured]
ceilings := {
	"memory": ["maxMemoryBytes", "maxMemory"],
	"cpu": ["maxCpuMillis", "maxCpu"],
}

singular := {"limits": "limit", "requests": "request"}

resource_containers contains c if {
	some c in containers
	c.field != "ephemeralContainers"
}

deny contains msg if {
	some c in resource_containers
	object.get(c.container, ["resources", "limits", "memory"], null) == null
	msg := sprintf("%s has no memory limit (%s.resources.limits.memory)", [c.label, c.path])
}

# (object.get instead of chained `x[a][b][c]` lookups: regorus evaluates those far slower)
deny contains msg if {
	some c in resource_containers
	some section, word in singular
	some resource, keys in ceilings
	value := object.get(input.quantities, [c.path, section, resource], null)
	ceiling := object.get(config, keys[0], null)
	is_number(value)
	is_number(ceiling)
	value > ceiling
	msg := sprintf(
		"%s %s %s %v is above the maximum %v (%s.resources.%s.%s)",
		[
			c.label, resource, word, object.get(c.container, ["resources", section, resource], null),
			object.get(config, keys[1], ceiling), c.path, section, resource,
		],
	)
}

deny contains msg if {
	some c in resource_containers
	some resource in object.keys(ceilings)
	q := input.quantities[c.path]
	q.requests[resource] > q.limits[resource]
	msg := sprintf(
		"%s %s request %v is above its limit %v (%s.resources.requests.%s)",
		[
			c.label, resource, c.container.resources.requests[resource],
			c.container.resources.limits[resource], c.path, resource,
		],
	)
}

deny contains msg if {
	some c in resource_containers
	some field in input.quantities[c.path].invalid
	parts := split(field, ".")
	msg := sprintf(
		"%s %s %v is not a valid quantity (%s.resources.%s)",
		[c.label, field, object.get(c.container, ["resources", parts[0], parts[1]], null), c.path, field],
	)
}

# Fail closed when the quantities were not provided (the policy is run outside remediator, or
# the two disagree on where a container is): resources that are set but cannot be compared.
deny contains msg if {
	some c in resource_containers
	is_object(object.get(c.container, ["resources"], null))
	not input.quantities[c.path]
	msg := sprintf(
		"%s resources cannot be checked: no parsed quantities for %s (input.quantities)",
		[c.label, c.path],
	)
}
