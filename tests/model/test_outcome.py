"""What a change announces, as the post-condition's note and the gate quote it."""

from __future__ import annotations

from remediator.model import FieldValue


def test_a_field_of_the_object_itself_is_not_put_in_a_container():
    # "containers[].spec.selector.app" for a Service said the change was in a pod's container
    assert str(FieldValue("", ("spec", "selector", "app"), "cart")) == "spec.selector.app == cart"
    assert FieldValue("", ("spec", "ingressClassName"), "nginx").dotted == "spec.ingressClassName"


def test_a_container_field_names_its_container():
    fv = FieldValue("cart", ("resources", "limits", "memory"), "192Mi")
    assert str(fv) == "containers[cart].resources.limits.memory == 192Mi"
