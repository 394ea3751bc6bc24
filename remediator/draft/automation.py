"""Image tags another bot writes to Git: Flux image automation (a `{"$imagepolicy": ...}`
marker on the line that holds the tag) and Argo CD Image Updater (annotations on the
Application). Reverting such a tag would start a tug of war: the automation writes its pick
back on its next run and each bot undoes the other's commits (with Image Updater's default
`argocd` write-back its parameter override even wins over Git). So the bot never reverts
these tags: it diagnoses, naming the setting that picked the tag.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.k8s import split_image

if TYPE_CHECKING:
    from ..model import JSON

#: the Flux setter marker: `# {"$imagepolicy": "NAMESPACE:POLICY[:tag|:name|:digest]"}`
_FLUX_MARKER = re.compile(r'\{\s*"\$imagepolicy"\s*:\s*"([^"]*)"\s*\}')
IMAGE_UPDATER = "argocd-image-updater.argoproj.io"


@dataclass(frozen=True)
class Automated:
    """Who writes the tag, as a diagnosis and a one-line reason."""

    diagnosis: str
    reason: str


def _flux(files: list[str], repo_root: Path, name: str, tag: str, failing: str
          ) -> Automated | None:
    short = name.rsplit("/", 1)[-1]
    for rel in files:
        try:
            text = (repo_root / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            m = _FLUX_MARKER.search(line)
            if not m:
                continue
            if not _marks(lines, number - 1, m.start(), name, short, tag):
                continue
            ref = m.group(1)
            parts = ref.split(":")
            policy = f"{parts[0]}/{parts[1]}" if len(parts) >= 2 else ref
            return Automated(
                f"Image {failing} cannot be pulled, and its tag is written by Flux image "
                f"automation: line {number} of `{rel}` carries the marker "
                f"`{json.dumps({'$imagepolicy': ref})}`, so the ImagePolicy {policy} picked "
                f"{tag or 'this image'} and an ImageUpdateAutomation committed it. remediator "
                "does not revert the tag: the automation would write its pick back on its next "
                "run. Change the ImagePolicy's `spec.policy` (a semver range or "
                f"`spec.filterTags` that excludes {tag or 'the bad tag'}), or publish the image; "
                "to pin a tag by hand, suspend the ImageUpdateAutomation and remove the marker.",
                f"tag written by Flux image automation (ImagePolicy {policy}); not reverted")
    return None


_IMAGE_REF = re.compile(r"[\w.-]+(:\d+)?/[\w./-]+[:@]")


def _marks(lines: list[str], index: int, at: int, name: str, short: str, tag: str) -> bool:
    """Whether the marker at column ``at`` of ``lines[index]`` sets this image's tag: its
    line holds the image (`image: NAME:TAG`), or the tag alone (`newTag: TAG`, `tag: TAG` in
    Helm values) with the image's name on one of the two lines above (`name: NAME`,
    `repository: NAME`)."""
    value = lines[index][:at].rstrip().removesuffix("#")  # the YAML comment's sign
    if name in value:
        return True
    if _IMAGE_REF.search(value) or not tag or not re.search(
            rf"[\s:'\"]{re.escape(tag)}['\"]?\s*$", value):
        return False  # another image, or not this tag
    above = [_FLUX_MARKER.sub("", ln) for ln in lines[max(0, index - 2):index]]
    return any(name in ln or re.search(rf"[\s:/'\"]{re.escape(short)}['\"]?\s*$", ln)
               for ln in above)


def _image_list(value: str) -> list[tuple[str, str]]:
    """`[alias=]image[:constraint]` entries of the `image-list` annotation: (alias, image)."""
    out = []
    for entry in value.split(","):
        entry = entry.strip()
        if not entry:
            continue
        alias, _, image = entry.rpartition("=")
        out.append((alias, split_image(image)[0]))
    return out


def _same_image(a: str, b: str) -> bool:
    """`nginx`, `library/nginx` and `docker.io/library/nginx` are one image."""
    def norm(name: str) -> str:
        name = name.removeprefix("docker.io/").removeprefix("index.docker.io/")
        return name.removeprefix("library/")
    return norm(a) == norm(b)


def _argo(annotations: JSON, name: str, failing: str, tag: str) -> Automated | None:
    listed = annotations.get(f"{IMAGE_UPDATER}/image-list")
    if not isinstance(listed, str):
        return None
    for alias, image in _image_list(listed):
        if not _same_image(image, name):
            continue
        key = f"{IMAGE_UPDATER}/{alias}." if alias else f"{IMAGE_UPDATER}/"
        strategy = annotations.get(f"{key}update-strategy") or "semver"
        writeback = annotations.get(f"{IMAGE_UPDATER}/write-back-method") or "argocd"
        where = ("commits it to Git (write-back `git`, a `.argocd-source-APP.yaml` file or the "
                 "kustomization)" if str(writeback).startswith("git") else
                 "sets it as a parameter override on the Application (write-back `argocd`), "
                 "which wins over Git")
        setting = f"`{key}allow-tags` / `{key}ignore-tags`, or `{key}update-strategy`"
        return Automated(
            f"Image {failing} cannot be pulled, and its tag is managed by Argo CD Image Updater: "
            f"the Application's annotation `{IMAGE_UPDATER}/image-list` lists {image}"
            + (f" as `{alias}`" if alias else "")
            + f" (update strategy `{strategy}`), and Image Updater picked {tag or 'this tag'} "
            f"and {where}. remediator does not revert the tag: Image Updater would set its pick "
            f"again on its next run. Exclude {tag or 'the bad tag'} with {setting} on the "
            "Application, or publish the image; to pin a tag by hand, remove the image from "
            "`image-list`.",
            "tag managed by Argo CD Image Updater; not reverted")
    return None


def image_automation(failing: str, files: list[str], repo_root: Path,
                     owner_annotations: JSON) -> Automated | None:
    """Whether another bot writes the tag of ``failing`` (the image that cannot be pulled):
    ``files`` are those that set it, ``owner_annotations`` the Argo CD Application's."""
    name, tag = split_image(failing)
    return _argo(owner_annotations, name, failing, tag) or _flux(files, repo_root, name, tag,
                                                                failing)
