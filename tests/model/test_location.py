"""The typed layer of a `Location`: what kind of document a change goes into."""

from __future__ import annotations

import pytest

from remediator.model import (
    DocumentRef,
    FluxVariable,
    HelmValues,
    Location,
    OverlayPatch,
    OwnerPatchOp,
    PlainManifest,
    Substitution,
    TargetKind,
)


def _loc(kind: TargetKind = TargetKind.MANIFEST, source: str = "plain", **more) -> Location:
    return Location(DocumentRef("apps/web.yaml"), kind, {}, {}, "why", source, **more)


def test_a_plain_manifest_and_overlay_patches():
    assert _loc().layer == PlainManifest()
    assert _loc(TargetKind.PATCH, "kustomize").layer == OverlayPatch(new=False)
    assert _loc(TargetKind.NEW_PATCH, "kustomize").layer == OverlayPatch(new=True)


def test_helm_values_carry_their_keys():
    loc = _loc(source="helm", values_path=("spec", "values"),
               value_keys={"resources": ("app", "resources")}, values_note="from the chart")
    assert loc.layer == HelmValues(("spec", "values"), {"resources": ("app", "resources")},
                                   note="from the chart")


def test_an_owner_patch_operation_and_a_flux_variable():
    assert _loc(TargetKind.PATCH, "kustomize", op_index=2, op_field=("resources",)).layer == \
        OwnerPatchOp(2, ("resources",))
    # a strategic-merge patch of the owner has no operation: an overlay patch
    assert _loc(TargetKind.PATCH, "kustomize", op_index=-1).layer == OverlayPatch()
    sub = Substitution("MEM", ("resources", "limits", "memory"), ("data", "MEM"))
    # the variable wins: the change goes where it is set, not into the patch operation
    assert _loc(TargetKind.PATCH, "kustomize", op_index=0, substitution=sub).layer == \
        FluxVariable(sub)


@pytest.mark.parametrize("layer", [PlainManifest(), OverlayPatch(), OwnerPatchOp(0)])
def test_layers_are_frozen(layer):
    with pytest.raises(AttributeError):
        layer.new = True
