"""The Helm part of the gate: what a values change does to the workload.

With Helm on the PATH and the chart's source known, the release is rendered for real before and
after the change (``rendered``): only the failing container's fields may change. Otherwise the
workload is predicted from the values (``predict``), and the check says so.

A Flux HelmRelease is checked from the renders of its folder before and after the change: nothing
but the HelmRelease's values and the ConfigMaps its `valuesFrom` names may change (a
`configMapGenerator` renames its ConfigMap, and the HelmRelease's reference with it), and the
values Flux merges (`valuesFrom` in order, then `spec.values`) must change. The workload is then
predicted from those merged values applied to the live object.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.k8s import dig, get_container, split_image
from ..model import CLASS_TABLE, CheckResult, ObjectRef
from ..render import helm as helm_render
from ..render import values_key
from ..render.helmvalues import merge, refs, release_values

if TYPE_CHECKING:
    from ..model import JSON, Location


def same_object(a: JSON, ref: ObjectRef) -> bool:
    o = ObjectRef.of(a)
    return (o.kind, o.name, o.group) == (ref.kind, ref.name, ref.group) and (
        not o.namespace or not ref.namespace or o.namespace == ref.namespace
    )


def _value_config_maps(release: JSON) -> set[str]:
    return {str(r.get("name")) for r in refs(release) if r.get("kind") == "ConfigMap"}


def _frame(release: JSON) -> JSON:
    """The HelmRelease without what a values change may touch."""
    out = copy.deepcopy(release)
    spec = out.get("spec") or {}
    spec.pop("values", None)
    for r in refs(out):
        r.pop("name", None)
    return out


def values_of(objects: list[JSON], ref: ObjectRef) -> JSON:
    """The values Flux merges for the HelmRelease ``ref`` in a render ({} when it is not once
    in it)."""
    found = [o for o in objects if same_object(o, ref)]
    return release_values(found[0], [(o, None) for o in objects]) if len(found) == 1 else {}


def compare_renders(before: list[JSON], after: list[JSON], ref: ObjectRef, label: str
                    ) -> tuple[JSON | None, CheckResult]:
    """The merged values after the change, when only the release's values changed."""
    old = [o for o in before if same_object(o, ref)]
    new = [o for o in after if same_object(o, ref)]
    if len(old) != 1 or len(new) != 1:
        return None, CheckResult("render", False,
                                 [f"{ref.kind} {ref.name} is not rendered once by `{label}`"])

    def rest(objects: list[JSON], release: JSON) -> list[JSON]:
        # a values ConfigMap another HelmRelease also reads is not this release's alone
        names = _value_config_maps(release) - {
            n for o in objects if ObjectRef.of(o).kind == "HelmRelease"
            and not same_object(o, ref) for n in _value_config_maps(o)}
        return [o for o in objects if not same_object(o, ref) and not (
            ObjectRef.of(o).kind == "ConfigMap" and ObjectRef.of(o).name in names)]

    if rest(before, old[0]) != rest(after, new[0]):
        return None, CheckResult("render", False,
                                 [f"the change alters other objects rendered by `{label}`"])
    if _frame(old[0]) != _frame(new[0]):
        return None, CheckResult("render", False, [
            f"the change alters {ref.kind} {ref.name} beyond its values"])
    with_origins_before = [(o, None) for o in before]
    with_origins_after = [(o, None) for o in after]
    values_before = release_values(old[0], with_origins_before)
    values_after = release_values(new[0], with_origins_after)
    if values_before == values_after:
        return None, CheckResult("render", False, [
            f"the change has no effect on the values Flux merges for {ref.kind} {ref.name} "
            "(overridden by another layer?)"])
    return values_after, CheckResult("render", True, [
        f"`{label}` renders; only the values of {ref.kind} {ref.name} changed (`valuesFrom` "
        "merged in order, then `spec.values`)"])


def predict(location: Location, values: JSON) -> tuple[JSON | None, str]:
    """The live workload with the fields the values feed set from ``values``."""
    after = copy.deepcopy(location.rendered)
    container = get_container(after, location.container)
    if not container:
        return None, f"container {location.container} is not in the live workload"
    resources = dig(values, location.value_keys.get("resources", ("-",)))
    if isinstance(resources, dict):
        current = container.setdefault("resources", {})
        for section in ("limits", "requests"):
            if isinstance(resources.get(section), dict):
                current.setdefault(section, {}).update(resources[section])
    probe = dig(values, location.value_keys.get("startupProbe", ("-",)))
    if isinstance(probe, dict):  # the chart passes it through whole (toYaml)
        container["startupProbe"] = copy.deepcopy(merge(container.get("startupProbe") or {}, probe))
    image = dig(values, location.value_keys.get("image", ("-",)))
    if isinstance(image, dict) and image.get("tag"):
        name, _ = split_image(str(container.get("image", "")))
        container["image"] = f"{name}:{image['tag']}"
    return after, ""


#: the container fields a values change may set (the locate fields of the class table)
FIELDS = tuple(dict.fromkeys(r.locate_field for r in CLASS_TABLE if r.locate_field))


def not_renderable(location: Location) -> str:
    """Why the release cannot be rendered here ("" when it may be)."""
    if location.helm_render is None:
        return "the chart's source is not known here"
    return helm_render.unavailable_reason()


def rendered(location: Location, repo_root: Path, before: JSON, after: JSON,
             set_before: Sequence[tuple[str, str, bool]] = (),
             set_after: Sequence[tuple[str, str, bool]] = ()
             ) -> tuple[JSON | None, JSON | None, CheckResult] | str:
    """The workload before and after the change (the live object with the failing container's
    rendered fields), from Helm rendering the release for real with the values before and after
    it: only the failing container's fields may change, nothing else of the render. The reason
    it could not be rendered (a string) when Helm or the chart is not at hand: the caller
    predicts instead."""
    spec = location.helm_render
    if spec is None or not_renderable(location):
        return not_renderable(location)
    live = location.rendered
    name = str((live.get("metadata") or {}).get("name"))
    target = values_key.Target(str(live.get("kind")), name, location.container)
    what = f"{spec.chart.describe()} (release {spec.release} in {spec.namespace})"
    try:
        folder = helm_render.chart_folder(spec.chart, repo_root)
    except helm_render.RenderUnavailable as exc:
        return str(exc)
    except helm_render.RenderError as exc:
        return None, None, CheckResult("render", False, [f"Helm cannot render {what}: {exc}"])
    try:  # the state before the change must be reproduced, or the render proves nothing
        old = helm_render.template(folder, spec.release, spec.namespace, before, set_before)
    except (helm_render.RenderUnavailable, helm_render.RenderError) as exc:
        return f"Helm does not render {what} with the repository's values here: {exc}"
    try:
        new = helm_render.template(folder, spec.release, spec.namespace, after, set_after)
    except helm_render.RenderError as exc:
        return None, None, CheckResult("render", False, [
            f"Helm no longer renders {what} after the change: {exc}"])
    old_obj, new_obj = (values_key.find_workload(o, target) for o in (old, new))
    if old_obj is None:
        return (f"Helm renders no single {target.kind} {name} from {what} with the "
                "repository's values here")
    if new_obj is None:
        return None, None, CheckResult("render", False, [
            f"Helm renders no single {target.kind} {name} from {what} after the change"])
    target.container = values_key.rendered_container(old_obj, target, live)
    if not target.container:
        return None, None, CheckResult("render", False, [
            f"Helm renders {target.kind} {name} without container {location.container}"])
    extra = values_key.side_effects(old, new, target, FIELDS)
    if extra:
        return None, None, CheckResult("render", False, [
            f"rendered by Helm, the change alters more than container {location.container}: "
            + "; ".join(extra[:3])])
    old_c, new_c = (get_container(o, target.container) for o in (old_obj, new_obj))
    changed = [f for f in FIELDS if old_c.get(f) != new_c.get(f)]
    if not changed:
        return None, None, CheckResult("render", False, [
            f"rendered by Helm, the change has no effect on {target.kind} {name}"])
    prior, out = copy.deepcopy(live), copy.deepcopy(live)
    for obj, rendered_c in ((prior, old_c), (out, new_c)):
        container = get_container(obj, location.container)
        for f in changed:
            if f in rendered_c:
                container[f] = copy.deepcopy(rendered_c[f])
            else:
                container.pop(f, None)
    fields = ", ".join(f"`{f}`" for f in changed)
    return prior, out, CheckResult("render", True, [
        f"Helm renders {what} before and after the change: only the {fields} of container "
        f"{location.container} of {target.kind} {name} changed"])
