# Security baseline: no privileged containers, no host namespaces, no hostPath volumes, no
# privilege escalation, no added Linux capabilities beyond a small safe set.
#
# Input: input.after (the object to judge); see k8s.rego for the full input contract.
# Covers every container of the pod spec: containers, initContainers and ephemeralContainers.
package remediator.policies.security

import rego.v1

import data.remediator.lib.k8s

containers := k8s.after_containers

# Capabilities a container may add (names compared upper-case, without a "CAP_" prefix).
safe_capabilities := {"NET_BIND_SERVICE"}

host_namespaces := ["hostNetwork", "hostPID", "hostIPC"]

deny contains msg if {
	some c in containers
	c.container.securityContext.privileged == true
	msg := sprintf("%s is privileged (%s.securityContext.privileged)", [c.label, c.path])
}

deny contains msg if {
	some c in containers
	c.container.securityContext.allowPrivilegeEscalation == true
	msg := sprintf(
		"%s allows privilege escalation (%s.securityContext.allowPrivilegeEscalation)",
		[c.label, c.path],
	)
}

deny contains msg if {
	some c in containers
	added := c.container.securityContext.capabilities.add
	is_array(added)
	some i, capability in added
	not _safe(capability)
	msg := sprintf(
		"%s adds capability %v (%s.securityContext.capabilities.add[%d]); allowed: %s",
		[c.label, capability, c.path, i, concat(", ", safe_capabilities)],
	)
}

deny contains msg if {
	some c in containers
	c.container.securityContext.windowsOptions.hostProcess == true
	msg := sprintf(
		"%s runs as a Windows host process (%s.securityContext.windowsOptions.hostProcess)",
		[c.label, c.path],
	)
}

deny contains msg if {
	pod := k8s.pod_spec(input.after)
	some field in host_namespaces
	pod[field] == true
	msg := sprintf("pod spec sets %s: true (%s.%s)", [field, k8s.pod_spec_path(input.after), field])
}

deny contains msg if {
	pod := k8s.pod_spec(input.after)
	pod.securityContext.windowsOptions.hostProcess == true
	msg := sprintf(
		"pod spec runs as a Windows host process (%s.securityContext.windowsOptions.hostProcess)",
		[k8s.pod_spec_path(input.after)],
	)
}

deny contains msg if {
	pod := k8s.pod_spec(input.after)
	some i, volume in pod.volumes
	is_object(volume.hostPath)
	msg := sprintf(
		"volume %q is a hostPath volume (%s.volumes[%d].hostPath)",
		[object.get(volume, "name", ""), k8s.pod_spec_path(input.after), i],
	)
}

_safe(capability) if {
	is_string(capability)
	trim_prefix(upper(capability), "CAP_") in safe_capabilities
}
