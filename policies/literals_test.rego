package remediator.policies.literals_test

import rego.v1

import data.remediator.policies.literals

deployment(container) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {
		"metadata": {"annotations": {"docs": "https://wiki.example.org/web"}},
		"spec": {"containers": [object.union({"name": "app", "image": "ghcr.io/acme/web:1.0"}, container)]},
	}},
}

env := [
	{"name": "DB_HOST", "value": "db"},
	{"name": "DB_URL", "valueFrom": {"secretKeyRef": {"name": "web-db", "key": "url"}}},
	{"name": "UPSTREAM", "value": "https://api.example.com/v1"},
	{"name": "JAVA_OPTS", "value": "-Xmx512m -javaagent:/opt/otel/agent.jar"},
]

web := deployment({"env": env, "args": ["--port=8080"]})

update(after) := {"before": web, "after": after, "change": {"operation": "update"}}

with_env(entries) := deployment({"env": array.concat(env, entries), "args": ["--port=8080"]})

with_args(args) := deployment({"env": env, "args": args})

config := {"allowedHosts": ["api.partner.example", "*.trusted.example"]}

test_unchanged_and_reordered_values_pass if {
	count(literals.deny) == 0 with input as update(web)
	count(literals.deny) == 0 with input as update(with_args(["--port=9090", "--verbose"]))
}

test_a_new_object_is_not_judged if {
	count(literals.deny) == 0 with input as {"before": null, "after": with_args(["--upstream=https://evil.example/collect"]), "change": {"operation": "create"}}
}

test_a_new_host_in_an_argument_is_denied if {
	literals.deny == {"container \"app\" args[1] names the host evil.example, which the object did not name before and drafting.allowedHosts does not list (spec.template.spec.containers[0].args[1])"} with input as update(with_args(["--port=8080", "--upstream=https://evil.example/collect"]))
}

test_a_bare_host_in_a_variable_is_denied if {
	literals.deny == {"container \"app\" env KUBERNETES_SERVICE_HOST names the host evil.example, which the object did not name before and drafting.allowedHosts does not list (spec.template.spec.containers[0].env[4].value)"} with input as update(with_env([{"name": "KUBERNETES_SERVICE_HOST", "value": "evil.example"}]))
}

test_hosts_the_object_names_pass if {
	count(literals.deny) == 0 with input as update(with_args(["--upstream=https://api.example.com/collect", "--wiki=wiki.example.org:443"]))
}

test_in_cluster_names_of_a_known_service_pass if {
	count(literals.deny) == 0 with input as update(with_args(["--db=db.shop.svc.cluster.local:5432", "--db2=db.shop"]))
	count(literals.deny) == 1 with input as update(with_args(["--db=db.payments.svc:5432"]))
}

test_loopback_and_configured_hosts_pass if {
	after := with_args(["--bind=0.0.0.0:8080", "--a=https://x.trusted.example/c", "--b=api.partner.example:443", "--c=localhost:9000"])
	count(literals.deny) == 0 with input as update(after) with data.remediator.config as config
	count(literals.deny) == 2 with input as update(after)
}

test_file_names_are_not_hosts if {
	count(literals.deny) == 0 with input as update(with_args(["--config=app.yaml", "-Dlog.level=debug"]))
}

test_a_literal_credential_is_denied if {
	literals.deny == {"container \"app\" env AWS_ACCESS_KEY_ID sets a literal credential (AWS access key); reference a Secret instead (spec.template.spec.containers[0].env[4].value)"} with input as update(with_env([{"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"}]))
	count(literals.deny) == 1 with input as update(with_env([{"name": "STRIPE", "value": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}]))
	count(literals.deny) == 1 with input as update(with_args(["--password=hunter2"]))
	count(literals.deny) == 1 with input as update(with_env([{"name": "ADMIN_PASSWORD", "value": "hunter2"}]))
}

test_a_variable_reference_is_not_a_literal_credential if {
	count(literals.deny) == 0 with input as update(with_env([{"name": "ADMIN_PASSWORD", "value": "$(DB_URL)"}]))
}

test_a_value_from_replaced_by_a_literal_is_denied if {
	entries := [
		{"name": "DB_HOST", "value": "db"},
		{"name": "DB_URL", "value": "db"},
		env[2], env[3],
	]
	literals.deny == {"container \"app\" env DB_URL took its value from a reference (valueFrom) and now has a literal (spec.template.spec.containers[0].env[1].value)"} with input as update(deployment({"env": entries, "args": ["--port=8080"]}))
}

test_a_new_java_agent_is_denied if {
	entries := [env[0], env[1], env[2], {"name": "JAVA_OPTS", "value": "-Xmx512m -javaagent:/var/lib/evil.jar"}]
	literals.deny == {
		"container \"app\" env JAVA_OPTS adds the executable path -javaagent:/var/lib/evil.jar, which the object did not have (spec.template.spec.containers[0].env[3].value)",
		"container \"app\" env JAVA_OPTS adds the executable path /var/lib/evil.jar, which the object did not have (spec.template.spec.containers[0].env[3].value)",
	} with input as update(deployment({"env": entries, "args": ["--port=8080"]}))
}

test_the_java_agent_the_object_had_passes if {
	entries := [env[0], env[1], env[2], {"name": "JAVA_OPTS", "value": "-Xmx1g -javaagent:/opt/otel/agent.jar"}]
	count(literals.deny) == 0 with input as update(deployment({"env": entries, "args": ["--port=8080"]}))
}

test_loader_variables_and_boot_class_paths_are_denied if {
	count(literals.deny) == 1 with input as update(with_env([{"name": "LD_PRELOAD", "value": "/tmp/libx"}]))
	count(literals.deny) == 2 with input as update(with_args(["-Xbootclasspath/a:/tmp/evil.jar"]))
}

test_a_new_executable_is_denied if {
	literals.deny == {"container \"app\" command[0] runs the executable /tmp/evil, which the object did not have (spec.template.spec.containers[0].command[0])"} with input as update(deployment({"env": env, "args": ["--port=8080"], "command": ["/tmp/evil"]}))
}

test_hosts_helper if {
	literals.hosts("postgres://admin:pw@Evil.Example:5432/db", "") == {"evil.example"}
	literals.hosts("db", "DB_HOST") == {"db"}
	literals.hosts("db", "LOG_LEVEL") == set()
	literals.hosts("a.example.com:443,10.0.0.1", "") == {"a.example.com", "10.0.0.1"}
	literals.canonical_host("db.shop.svc.cluster.local", "shop") == "db.shop"
	literals.canonical_host("db", "shop") == "db.shop"
}
