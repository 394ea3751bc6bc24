package ingress

import rego.v1

deny contains msg if {
	input.kind == "Ingress"
	not input.spec.tls
	msg := sprintf("Ingress %s must use TLS", [input.metadata.name])
}
