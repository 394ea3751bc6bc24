package main

import data.kubernetes

name = input.metadata.name

deny[msg] {
	kubernetes.is_deployment
	not input.spec.template.spec.securityContext.runAsNonRoot
	msg = sprintf("Containers must not run as root in Deployment %s (spec.template.spec.securityContext)", [name])
}

deny_missing_app_label[msg] {
	kubernetes.is_deployment
	not input.spec.selector.matchLabels.app
	msg = sprintf("Deployment %s must provide an app label for pod selectors", [name])
}

warn[msg] {
	kubernetes.is_service
	input.spec.type == "NodePort"
	msg = sprintf("Service %s is exposed on every node (NodePort)", [name])
}

exception[rules] {
	input.metadata.name == "legacy"
	rules = ["missing_app_label"]
}
