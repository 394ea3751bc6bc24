package main

root_deployment = {
	"kind": "Deployment",
	"metadata": {"name": "web", "labels": {"owner": "shop", "team": "web"}},
	"spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {}}},
}

test_root_is_denied {
	deny["Containers must not run as root in Deployment web (spec.template.spec.securityContext)"] with input as root_deployment
}

test_labelled_deployment_has_no_violation {
	count(violation) == 0 with input as root_deployment with data.required_labels as ["owner", "team"]
}

test_nodeport_warns {
	warn["Service api is exposed on every node (NodePort)"] with input as {"kind": "Service", "metadata": {"name": "api"}, "spec": {"type": "NodePort"}}
}
