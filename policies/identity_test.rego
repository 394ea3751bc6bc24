package remediator.policies.identity_test

import rego.v1

import data.remediator.policies.identity

obj(kind, namespace, name) := {"apiVersion": "v1", "kind": kind, "metadata": {"namespace": namespace, "name": name}}

test_new_object_passes if {
	count(identity.deny) == 0 with input as {"before": null, "after": obj("ConfigMap", "shop", "a")}
}

test_unchanged_identity_passes if {
	count(identity.deny) == 0 with input as {"before": obj("ConfigMap", "shop", "a"), "after": obj("ConfigMap", "shop", "a")}
}

test_namespace_change_denied if {
	msg := "the change moves the object from namespace \"shop\" to \"default\" (metadata.namespace)"
	msg in identity.deny with input as {"before": obj("ConfigMap", "shop", "a"), "after": obj("ConfigMap", "default", "a")}
}

test_namespace_removed_denied if {
	after := {"kind": "ConfigMap", "metadata": {"name": "a"}}
	msg := "the change moves the object from namespace \"shop\" to \"\" (metadata.namespace)"
	msg in identity.deny with input as {"before": obj("ConfigMap", "shop", "a"), "after": after}
}

test_rename_denied if {
	msg := "the change renames the object from \"a\" to \"b\" (metadata.name)"
	msg in identity.deny with input as {"before": obj("ConfigMap", "shop", "a"), "after": obj("ConfigMap", "shop", "b")}
}

test_kind_change_denied if {
	msg := "the change turns a ConfigMap into a Secret (kind)"
	msg in identity.deny with input as {"before": obj("ConfigMap", "shop", "a"), "after": obj("Secret", "shop", "a")}
}
