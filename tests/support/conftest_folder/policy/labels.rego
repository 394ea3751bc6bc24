package main

import rego.v1

violation contains {"msg": msg, "details": {"missing": missing}} if {
	input.kind in {"Deployment", "StatefulSet"}
	provided := {label | input.metadata.labels[label]}
	required := {label | some label in data.required_labels}
	missing := required - provided
	count(missing) > 0
	msg := sprintf("%s %s is missing the labels %v", [input.kind, input.metadata.name, sort(missing)])
}
