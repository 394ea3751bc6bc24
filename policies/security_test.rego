package remediator.policies.security_test

import rego.v1

import data.remediator.policies.security

deployment(pod) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": pod}},
}

app := {"name": "app", "image": "nginx:1.25"}

with_security(container, sc) := object.union(container, {"securityContext": sc})

test_clean_deployment_passes if {
	count(security.deny) == 0 with input as {"before": null, "after": deployment({"containers": [app]})}
}

test_object_without_pod_spec_passes if {
	count(security.deny) == 0 with input as {"after": {"kind": "ConfigMap", "data": {"a": "b"}}}
}

test_privileged_container_denied if {
	pod := {"containers": [with_security(app, {"privileged": true})]}
	msg := "container \"app\" is privileged (spec.template.spec.containers[0].securityContext.privileged)"
	msg in security.deny with input as {"after": deployment(pod)}
}

test_privileged_false_passes if {
	pod := {"containers": [with_security(app, {"privileged": false})]}
	count(security.deny) == 0 with input as {"after": deployment(pod)}
}

test_privileged_init_container_denied if {
	pod := {"initContainers": [with_security({"name": "setup"}, {"privileged": true})], "containers": [app]}
	msg := "init container \"setup\" is privileged (spec.template.spec.initContainers[0].securityContext.privileged)"
	msg in security.deny with input as {"after": deployment(pod)}
}

test_privileged_pod_denied if {
	pod := {
		"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
		"spec": {"containers": [app, with_security({"name": "side"}, {"privileged": true})]},
	}
	msg := "container \"side\" is privileged (spec.containers[1].securityContext.privileged)"
	security.deny == {msg} with input as {"after": pod}
}

test_privileged_cronjob_denied if {
	cronjob := {
		"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {
			"containers": [with_security(app, {"privileged": true})],
		}}}}},
	}
	msg := "container \"app\" is privileged (spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged)"
	security.deny == {msg} with input as {"after": cronjob}
}

test_privilege_escalation_denied if {
	pod := {"containers": [with_security(app, {"allowPrivilegeEscalation": true})]}
	msg := "container \"app\" allows privilege escalation (spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation)"
	security.deny == {msg} with input as {"after": deployment(pod)}
}

test_net_bind_service_allowed if {
	pod := {"containers": [with_security(app, {"capabilities": {"add": ["NET_BIND_SERVICE", "cap_net_bind_service"], "drop": ["ALL"]}})]}
	count(security.deny) == 0 with input as {"after": deployment(pod)}
}

test_added_capability_denied if {
	pod := {"containers": [with_security(app, {"capabilities": {"add": ["NET_BIND_SERVICE", "NET_ADMIN"]}})]}
	msg := "container \"app\" adds capability NET_ADMIN (spec.template.spec.containers[0].securityContext.capabilities.add[1]); allowed: NET_BIND_SERVICE"
	security.deny == {msg} with input as {"after": deployment(pod)}
}

test_sys_admin_in_init_container_denied if {
	pod := {"initContainers": [with_security({"name": "init"}, {"capabilities": {"add": ["CAP_SYS_ADMIN"]}})], "containers": [app]}
	count(security.deny) == 1 with input as {"after": deployment(pod)}
}

test_host_namespaces_denied if {
	pod := {"hostNetwork": true, "hostPID": true, "hostIPC": true, "containers": [app]}
	security.deny == {
		"pod spec sets hostNetwork: true (spec.template.spec.hostNetwork)",
		"pod spec sets hostPID: true (spec.template.spec.hostPID)",
		"pod spec sets hostIPC: true (spec.template.spec.hostIPC)",
	} with input as {"after": deployment(pod)}
}

test_host_network_false_passes if {
	pod := {"hostNetwork": false, "containers": [app]}
	count(security.deny) == 0 with input as {"after": deployment(pod)}
}

test_host_path_volume_denied if {
	pod := {
		"containers": [app],
		"volumes": [{"name": "cache", "emptyDir": {}}, {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}],
	}
	security.deny == {"volume \"docker\" is a hostPath volume (spec.template.spec.volumes[1].hostPath)"} with input as {"after": deployment(pod)}
}

test_host_process_denied if {
	pod := {"containers": [with_security(app, {"windowsOptions": {"hostProcess": true}})]}
	count(security.deny) == 1 with input as {"after": deployment(pod)}
}

test_judges_after_not_before if {
	bad := deployment({"containers": [with_security(app, {"privileged": true})]})
	good := deployment({"containers": [app]})
	count(security.deny) == 0 with input as {"before": bad, "after": good}
}

test_capability_that_is_not_a_string_denied if {
	pod := {"containers": [with_security(app, {"capabilities": {"add": [5]}})]}
	security.deny == {"container \"app\" adds capability 5 (spec.template.spec.containers[0].securityContext.capabilities.add[0]); allowed: NET_BIND_SERVICE"} with input as {"after": deployment(pod)}
}

test_malformed_containers_are_left_to_the_schema_check if {
	count(security.deny) == 0 with input as {"after": deployment({"containers": "app"})}
	count(security.deny) == 0 with input as {"after": deployment({"containers": [null, "app"]})}
	security.deny == {"container \"7\" is privileged (spec.template.spec.containers[0].securityContext.privileged)"} with input as {"after": deployment({"containers": [{"name": 7, "securityContext": {"privileged": true}}]})}
}
