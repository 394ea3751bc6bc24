# What a patch must not do to the object it changes: move it (another kind, name or namespace),
# weaken how its containers run (runAsNonRoot true before, not after) or remove their probes.
#
# Input: input.before (the object before the change; null for a new object), input.after and
# input.change.operation ("update" when there is a before, else "create"); see k8s.rego. These
# rules compare the two, so they never fire for a new object, and a violation is always new.
# Containers are matched by their list (containers, initContainers, ...) and name.
package remediator.policies.change

import rego.v1

import data.remediator.lib.k8s

probes := ["livenessProbe", "readinessProbe", "startupProbe"]

updating if input.change.operation == "update"

# (a rule, not a call in each loop: the engine does not cache function results)
before_containers := k8s.containers(input.before)

deny contains msg if {
	updating
	some field in ["kind", "name"]
	was := _identity(input.before, field)
	now := _identity(input.after, field)
	was != now
	msg := sprintf("the change alters the object's %s from %v to %v; a patch must not move an object (%s)", [field, was, now, _path[field]])
}

# A namespace left out after the change is the render's default, not a move.
deny contains msg if {
	updating
	was := _identity(input.before, "namespace")
	now := _identity(input.after, "namespace")
	was != ""
	now != ""
	was != now
	msg := sprintf("the change alters the object's namespace from %v to %v; a patch must not move an object (metadata.namespace)", [was, now])
}

deny contains msg if {
	updating
	some c in k8s.after_containers
	some b in before_containers
	b.name == c.name
	b.field == c.field
	_non_root(input.before, b.container)
	not _non_root(input.after, c.container)
	msg := sprintf(
		"%s no longer runs as non-root: runAsNonRoot was true before the change (%s.securityContext.runAsNonRoot)",
		[c.label, c.path],
	)
}

deny contains msg if {
	updating
	some c in k8s.after_containers
	some b in before_containers
	b.name == c.name
	b.field == c.field
	some probe in probes
	is_object(object.get(b.container, probe, null))
	not is_object(object.get(c.container, probe, null))
	msg := sprintf("%s %s was removed by the change (%s.%s)", [c.label, probe, c.path, probe])
}

# where each identity field is written (validate points at its line)
_path := {"kind": "kind", "name": "metadata.name"}

_identity(obj, "kind") := object.get(obj, "kind", "")

_identity(obj, "name") := object.get(obj, ["metadata", "name"], "")

_identity(obj, "namespace") := object.get(obj, ["metadata", "namespace"], "")

# runAsNonRoot as it applies to a container: its own setting, else the pod's.
_non_root(obj, container) if {
	object.get(container, ["securityContext", "runAsNonRoot"], null) == true
}

_non_root(obj, container) if {
	object.get(container, ["securityContext", "runAsNonRoot"], null) == null
	object.get(k8s.pod_spec(obj), ["securityContext", "runAsNonRoot"], null) == true
}
