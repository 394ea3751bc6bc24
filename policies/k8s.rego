# Helpers shared by the built-in policies (and usable by a repo's own policies:
# `import data.remediator.lib.k8s`). Not a policy itself: nothing here is evaluated as `deny`.
#
# Input contract of every remediator policy (see docs/policy-engine.md):
#   input.before      the object before the change, or null (a new object)
#   input.after       the object after the change: the one the policies judge
#   input.change      {"operation": "update" (there is a before) | "create",
#                      "patch": [RFC 6902 operations turning input.before into input.after]}
#   input.quantities  remediator's parsed view of input.after's container resources, keyed by the
#                     container path this package computes (`containers(obj)[_].path`):
#                       {"spec.template.spec.containers[0]": {
#                          "limits":   {"memory": <bytes>, "cpu": <millicores>},
#                          "requests": {"memory": <bytes>, "cpu": <millicores>},
#                          "invalid":  ["limits.memory", ...]}}   # set but not a quantity
#                     Quantities are parsed in Python (kubernetes.utils.quantity.parse_quantity)
#                     because Rego engines parse units inconsistently.
#   data.remediator.config
#                     {"maxMemory": "16Gi", "maxMemoryBytes": 17179869184,
#                      "maxCpu": "8", "maxCpuMillis": 8000, "allowedRegistries": [...],
#                      "allowedHosts": [...], "minReplicas": 1, "maxReplicas": 100}
package remediator.lib.k8s

import rego.v1

# Where each kind keeps its pod spec. Kinds not listed here have no pod spec.
pod_spec_paths := {
	"Pod": ["spec"],
	"PodTemplate": ["template", "spec"],
	"ReplicationController": ["spec", "template", "spec"],
	"ReplicaSet": ["spec", "template", "spec"],
	"Deployment": ["spec", "template", "spec"],
	"StatefulSet": ["spec", "template", "spec"],
	"DaemonSet": ["spec", "template", "spec"],
	"Job": ["spec", "template", "spec"],
	"CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
}

# The dotted path of obj's pod spec ("spec.template.spec"); undefined when it has none.
pod_spec_path(obj) := concat(".", pod_spec_paths[obj.kind])

# obj's pod spec object; undefined when the kind has none or the object lacks it.
pod_spec(obj) := spec if {
	spec := object.get(obj, pod_spec_paths[obj.kind], null)
	is_object(spec)
}

container_fields := ["initContainers", "containers", "ephemeralContainers"]

container_kinds := {
	"initContainers": "init container",
	"containers": "container",
	"ephemeralContainers": "ephemeral container",
}

# The containers of input.after (a rule, so every policy shares one evaluation per query).
after_containers := containers(input.after)

# Every container of obj's pod spec (init, regular and ephemeral; entries that are not objects are
# left to the schema check), each as
#   {"field": "containers", "index": 0, "name": "app", "container": {...},
#    "path": "spec.template.spec.containers[0]", "label": "container \"app\""}
containers(obj) := [c |
	spec := pod_spec(obj)
	some field in container_fields
	list := object.get(spec, field, [])
	is_array(list)
	some i, container in list
	is_object(container)
	name := _string(object.get(container, "name", ""))
	c := {
		"field": field,
		"index": i,
		"name": name,
		"container": container,
		"path": sprintf("%s.%s[%d]", [pod_spec_path(obj), field, i]),
		"label": sprintf("%s %q", [container_kinds[field], name]),
	}
]

_string(x) := x if {
	is_string(x)
} else := sprintf("%v", [x])

# ---------------------------------------------------------------------------- image references
# An image reference is [registry/]repository[:tag][@digest]. The first path component is a
# registry when it contains "." or ":" or is "localhost"; otherwise the image is on Docker Hub
# (docker.io), where official images live under "library/".
#
#   parse_image("nginx:1.25") == {"registry": "docker.io", "repository": "docker.io/library/nginx",
#                                 "tag": "1.25", "digest": ""}
parse_image(image) := {
	"registry": registry,
	"repository": sprintf("%s/%s", [registry, _library(registry, path)]),
	"tag": tag,
	"digest": concat("@", array.slice(at, 1, count(at))),
} if {
	at := split(image, "@")
	parts := split(at[0], "/")
	[registry, rest] := _split_registry(parts)
	colon := split(rest[count(rest) - 1], ":")
	tag := concat(":", array.slice(colon, 1, count(colon)))
	path := concat("/", array.concat(array.slice(rest, 0, count(rest) - 1), [colon[0]]))
}

image_registry(image) := parse_image(image).registry

image_repository(image) := parse_image(image).repository

image_tag(image) := parse_image(image).tag

image_digest(image) := parse_image(image).digest

# "index.docker.io" and friends are Docker Hub too.
canonical_registry(host) := "docker.io" if {
	host in {"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
} else := host

_split_registry(parts) := [canonical_registry(lower(parts[0])), array.slice(parts, 1, count(parts))] if {
	count(parts) > 1
	_host_like(parts[0])
} else := ["docker.io", parts]

_host_like(component) if contains(component, ".")

_host_like(component) if contains(component, ":")

_host_like(component) if component == "localhost"

_library(registry, path) := sprintf("library/%s", [path]) if {
	registry == "docker.io"
	not contains(path, "/")
} else := path
