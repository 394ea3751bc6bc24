package remediator.policies.images_test

import rego.v1

import data.remediator.lib.k8s
import data.remediator.policies.images

deployment(containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": containers}}},
}

one(image) := {"after": deployment([{"name": "app", "image": image}])}

test_tagged_image_passes if {
	count(images.deny) == 0 with input as one("nginx:1.25")
}

test_untagged_image_denied if {
	images.deny == {"container \"app\" image \"nginx\" has no tag; pin a version or a digest (spec.template.spec.containers[0].image)"} with input as one("nginx")
}

test_registry_port_is_not_a_tag if {
	count(images.deny) == 1 with input as one("localhost:5000/team/app")
}

test_latest_denied if {
	images.deny == {"container \"app\" image \"ghcr.io/org/app:latest\" uses the latest tag; pin a version or a digest (spec.template.spec.containers[0].image)"} with input as one("ghcr.io/org/app:latest")
}

test_digest_pinned_passes if {
	count(images.deny) == 0 with input as one("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
}

test_latest_with_digest_passes if {
	count(images.deny) == 0 with input as one("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
}

test_init_container_latest_denied if {
	inp := {"after": {
		"kind": "StatefulSet",
		"spec": {"template": {"spec": {
			"initContainers": [{"name": "migrate", "image": "busybox:latest"}],
			"containers": [{"name": "db", "image": "postgres:16"}],
		}}},
	}}
	images.deny == {"init container \"migrate\" image \"busybox:latest\" uses the latest tag; pin a version or a digest (spec.template.spec.initContainers[0].image)"} with input as inp
}

test_any_registry_when_allow_list_empty if {
	count(images.deny) == 0 with input as one("evil.example.com/x:1")
		with data.remediator.config as {"allowedRegistries": []}
}

test_registry_not_allowed_denied if {
	images.deny == {"container \"app\" image \"evil.example.com/x\" is from registry evil.example.com, not one of the allowed registries ghcr.io, docker.io (spec.template.spec.containers[0].image)"} with input as one("evil.example.com/x:1")
		with data.remediator.config as {"allowedRegistries": ["ghcr.io", "docker.io"]}
}

test_docker_hub_default_registry if {
	count(images.deny) == 0 with input as one("nginx:1.25")
		with data.remediator.config as {"allowedRegistries": ["docker.io"]}
	count(images.deny) == 1 with input as one("nginx:1.25")
		with data.remediator.config as {"allowedRegistries": ["ghcr.io"]}
}

test_registry_with_repository_prefix if {
	count(images.deny) == 0 with input as one("ghcr.io/my-org/app:1")
		with data.remediator.config as {"allowedRegistries": ["ghcr.io/my-org"]}
	count(images.deny) == 1 with input as one("ghcr.io/other-org/app:1")
		with data.remediator.config as {"allowedRegistries": ["ghcr.io/my-org"]}
	count(images.deny) == 1 with input as one("ghcr.io/my-org-evil/app:1")
		with data.remediator.config as {"allowedRegistries": ["ghcr.io/my-org"]}
}

test_docker_hub_aliases if {
	count(images.deny) == 0 with input as one("index.docker.io/library/nginx:1.25")
		with data.remediator.config as {"allowedRegistries": ["docker.io/library"]}
	count(images.deny) == 0 with input as one("nginx:1.25")
		with data.remediator.config as {"allowedRegistries": ["Index.Docker.io/"]}
}

test_registry_host_with_port if {
	count(images.deny) == 0 with input as one("localhost:5000/app:2")
		with data.remediator.config as {"allowedRegistries": ["localhost:5000"]}
}

test_image_reference_parts if {
	k8s.image_registry("nginx") == "docker.io"
	k8s.image_repository("nginx:1.25") == "docker.io/library/nginx"
	k8s.image_registry("registry.example.com:443/team/app@sha256:abc") == "registry.example.com:443"
	k8s.image_repository("registry.example.com:443/team/app:1@sha256:abc") == "registry.example.com:443/team/app"
	k8s.image_tag("localhost:5000/app") == ""
	k8s.image_tag("localhost:5000/app:2") == "2"
	k8s.image_digest("app:1@sha256:abc") == "sha256:abc"
	k8s.image_repository("org/app") == "docker.io/org/app"
}
