# Images: no untagged images and no ":latest" (a digest "@sha256:..." pins either way); when
# data.remediator.config.allowedRegistries is non-empty, every image comes from one of them.
#
# Input: input.after (the object to judge); see k8s.rego for the full input contract.
# Registries: an image without a registry ("nginx:1.25", "org/app:1") is on docker.io; entries of
# allowedRegistries are a registry host ("ghcr.io", "localhost:5000") or a registry with a
# repository prefix ("ghcr.io/my-org"), compared case-insensitively.
package remediator.policies.images

import rego.v1

import data.remediator.lib.k8s

default allowed_registries := []

allowed_registries := data.remediator.config.allowedRegistries

# allow-list entries as registry[/repository prefix], Docker Hub aliases folded into docker.io
allowed_prefixes := {_canonical(trim_suffix(lower(entry), "/")) | some entry in allowed_registries}

containers := k8s.after_containers

# container path -> parsed image reference (k8s.parse_image). The deny rules below look a container
# up only when it has an image: regorus's compiled mode (its RVM) carries on past a lookup of a
# missing key instead of failing the rule, and would report "<undefined>" (docs/policy-engine.md).
images[c.path] := k8s.parse_image(c.container.image) if {
	some c in containers
	is_string(c.container.image)
}

deny contains msg if {
	some c in containers
	is_string(c.container.image)
	ref := images[c.path]
	ref.digest == ""
	ref.tag == ""
	msg := sprintf(
		"%s image %q has no tag; pin a version or a digest (%s.image)",
		[c.label, c.container.image, c.path],
	)
}

deny contains msg if {
	some c in containers
	is_string(c.container.image)
	ref := images[c.path]
	ref.digest == ""
	ref.tag == "latest"
	msg := sprintf(
		"%s image %q uses the latest tag; pin a version or a digest (%s.image)",
		[c.label, c.container.image, c.path],
	)
}

# The message names the repository, not the tag: moving between tags of an image that was already
# outside the allow-list (say, an image revert) is not a new violation.
deny contains msg if {
	count(allowed_prefixes) > 0
	some c in containers
	is_string(c.container.image)
	ref := images[c.path]
	not _allowed(ref)
	msg := sprintf(
		"%s image %q is from registry %s, not one of the allowed registries %s (%s.image)",
		[c.label, ref.repository, ref.registry, concat(", ", allowed_registries), c.path],
	)
}

_allowed(ref) if ref.registry in allowed_prefixes

_allowed(ref) if {
	some prefix in allowed_prefixes
	startswith(ref.repository, sprintf("%s/", [prefix]))
}

_canonical(prefix) := concat("/", array.concat([k8s.canonical_registry(parts[0])], rest)) if {
	parts := split(prefix, "/")
	rest := array.slice(parts, 1, count(parts))
}
