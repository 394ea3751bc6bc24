# Identity: a change must not move an object to another namespace, rename it or change its kind.
# Such a "change" deletes one object and creates another: Argo CD / Flux prune the old one.
#
# Input: input.before and input.after (see k8s.rego); nothing to judge for a new object.
package remediator.policies.identity

import rego.v1

# the namespace as written; "" when the manifest leaves it to the tool (kustomize, Argo CD)
_namespace(obj) := object.get(obj, ["metadata", "namespace"], "")

deny contains msg if {
	input.before != null
	before := _namespace(input.before)
	after := _namespace(input.after)
	before != after
	msg := sprintf("the change moves the object from namespace %q to %q (metadata.namespace)", [before, after])
}

deny contains msg if {
	input.before != null
	before := object.get(input.before, ["metadata", "name"], "")
	after := object.get(input.after, ["metadata", "name"], "")
	before != after
	msg := sprintf("the change renames the object from %q to %q (metadata.name)", [before, after])
}

deny contains msg if {
	input.before != null
	before := object.get(input.before, "kind", "")
	after := object.get(input.after, "kind", "")
	before != after
	msg := sprintf("the change turns a %s into a %s (kind)", [before, after])
}
