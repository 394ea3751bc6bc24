"""Release-ready: a license, one version, one home, the `llm` extra, and a release workflow whose
own checks run here.

The wheel and sdist are built for real with the pinned build backend (hatchling, a few hundred
milliseconds), the CLI runs as a subprocess, and the release workflow's identity step runs in
bash as GitHub would run it.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

import remediator
from remediator.cli.init import init_repo
from tests.support.cli import cli

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
MODEL_CLIENTS = {"openai", "anthropic"}


def _load_script(name: str):  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "hatchling", "build", "-d", str(out)],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _metadata(dist: Path) -> email.message.Message:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(zf.read(name))


def test_the_license_is_apache_2_and_ships_in_the_wheel_and_the_sdist(dist: Path):
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    meta = _metadata(dist)
    assert meta["License-Expression"] == "Apache-2.0"
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        [licence] = [n for n in zf.namelist() if n.endswith("licenses/LICENSE")]
        assert zf.read(licence).decode() == text
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tf:
        assert any(m.name.endswith("/LICENSE") for m in tf.getmembers())


def test_the_version_comes_from_one_place(dist: Path, tmp_path: Path):
    version = remediator.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert _metadata(dist)["Version"] == version  # hatch reads remediator/kernel/release.py
    assert {p.name for p in dist.iterdir()} == {f"remediator-{version}-py3-none-any.whl",
                                                f"remediator-{version}.tar.gz"}
    out = cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"remediator, version {version}"
    # init pins the reusable workflow and the install to the same version and home
    init_repo(tmp_path)
    workflow = (tmp_path / ".github/workflows/remediator.yml").read_text()
    assert (f"uses: {remediator.REPOSITORY}/.github/workflows/validate.yml@v{version}"
            in workflow)
    assert f"remediator-ref: v{version}" in workflow


def test_the_model_clients_are_the_llm_extra_and_the_tests_install_it(dist: Path):
    meta = _metadata(dist)
    required = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    base = {r.name.lower() for r in required if r.marker is None}
    llm = {r.name.lower() for r in required
           if r.marker is not None and r.marker.evaluate({"extra": "llm"})}
    test = {r.name.lower() for r in required
            if r.marker is not None and r.marker.evaluate({"extra": "test"})}
    assert "llm" in meta.get_all("Provides-Extra")
    assert not base & MODEL_CLIENTS  # a CI-only `pip install remediator` stays light
    assert llm == MODEL_CLIENTS
    assert test >= MODEL_CLIENTS  # the recorded model traffic is replayed by the suite
    pins = (ROOT / "constraints.txt").read_text().splitlines()
    assert all(any(line.startswith(f"{c}==") for line in pins) for c in MODEL_CLIENTS)


def test_the_pin_script_counts_every_extra_and_never_the_project_itself():
    pin = _load_script("pin_constraints")
    import tomllib

    wanted = pin.wanted(tomllib.loads((ROOT / "pyproject.toml").read_text()))
    names = {pin.canonical(Requirement(r).name) for r in wanted}
    assert names >= MODEL_CLIENTS and "pytest" in names and "hatchling" in names
    assert "remediator" not in names


# -------------------------------------------------------------------- one owner/repo setting


def _tracked_text_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    files = []
    for rel in out:
        path = ROOT / rel
        if rel.startswith("tests/cassettes/") or not path.is_file():
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        files.append(path)
    return files


def test_no_placeholder_of_the_project_home_remains():
    """`acme` is the example GitOps repository's own organisation (its images, its repo);
    remediator itself is never `acme/remediator` nor `ghcr.io/acme/remediator`."""
    stray = []
    for path in [*_tracked_text_files(), *ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md")]:
        if path.resolve() == Path(__file__).resolve():
            continue  # the samples below
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"acme/remediator\b|ghcr\.io/acme/remediator", text):
            stray.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}")
    assert stray == [], stray


def test_every_quoted_pin_agrees_with_the_package():
    proc = subprocess.run([sys.executable, "scripts/release_refs.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # and the pins are there to agree: README, the example caller, the image in the example
    readme = (ROOT / "README.md").read_text()
    home, version = remediator.REPOSITORY, remediator.__version__
    assert f"uses: {home}/.github/workflows/validate.yml@v{version}" in readme
    assert re.search(rf"repo: https://github.com/{home}\n\s+rev: v{re.escape(version)}\n", readme)
    deployment = (ROOT / "gitops-repo-example/remediator/deployment.yaml").read_text()
    assert f"image: {remediator.IMAGE}:{version}" in deployment
    validate = yaml.safe_load((ROOT / ".github/workflows/validate.yml").read_text())
    inputs = validate[True]["workflow_call"]["inputs"]
    assert inputs["remediator-repository"]["default"] == home
    assert inputs["remediator-ref"]["default"] == f"v{version}"  # the release it comes from


def test_the_refs_script_rewrites_remediators_pins_and_nothing_else():
    refs = _load_script("release_refs")
    ident = {"__version__": "1.2.3", "REPOSITORY": "octo/remediator",
             "IMAGE": "ghcr.io/octo/remediator"}
    text = ("    uses: acme/remediator/.github/workflows/validate.yml@v0.1.0\n"
            "      remediator-ref: v0.1.0\n"
            "  - repo: https://github.com/acme/remediator\n    rev: v0.1.0\n"
            "FROM ghcr.io/acme/remediator:0.1.0\n"
            "pip install 'remediator @ git+https://github.com/acme/remediator@v0.1.0'\n"
            "https://github.com/acme/remediator/releases/download/v0.1.0/"
            "remediator-0.1.0-py3-none-any.whl\n"
            "image: ghcr.io/acme/payments:1.8.0\n"
            "url: https://github.com/acme/gitops-example.git\n"
            "published as ghcr.io/acme/remediator:X.Y.Z from `gitops-repo-example/remediator`\n"
            'appVersion: "0.1.0"\n')
    assert refs.rewrite(text, ident) == (
        "    uses: octo/remediator/.github/workflows/validate.yml@v1.2.3\n"
        "      remediator-ref: v1.2.3\n"
        "  - repo: https://github.com/octo/remediator\n    rev: v1.2.3\n"
        "FROM ghcr.io/octo/remediator:1.2.3\n"
        "pip install 'remediator @ git+https://github.com/octo/remediator@v1.2.3'\n"
        "https://github.com/octo/remediator/releases/download/v1.2.3/"
        "remediator-1.2.3-py3-none-any.whl\n"
        "image: ghcr.io/acme/payments:1.8.0\n"
        "url: https://github.com/acme/gitops-example.git\n"
        "published as ghcr.io/octo/remediator:X.Y.Z from `gitops-repo-example/remediator`\n"
        'appVersion: "1.2.3"\n')
    assert refs.identity() == {"__version__": remediator.__version__,
                               "REPOSITORY": remediator.REPOSITORY, "IMAGE": remediator.IMAGE}


def test_the_project_urls_and_the_image_name_come_from_the_home():
    import tomllib

    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Source"] == f"https://github.com/{remediator.REPOSITORY}"
    assert f"ghcr.io/{remediator.REPOSITORY.lower()}" == remediator.IMAGE
    assert remediator.SCHEMA_URL.startswith(
        f"https://github.com/{remediator.REPOSITORY}/releases/download/"
        f"v{remediator.__version__}/")


# --------------------------------------------------------------------------- release workflow


def _workflow() -> dict:
    data = yaml.safe_load(RELEASE.read_text())
    data["on"] = data.pop(True)
    return data


def test_the_release_workflow_builds_signs_off_pushes_and_publishes():
    wf = _workflow()
    assert wf["on"] == {"push": {"tags": ["v*"]}}
    assert wf["permissions"] == {"contents": "read"}  # write only where a job needs it
    jobs = wf["jobs"]
    dist = " ".join(s.get("run", "") for s in jobs["dist"]["steps"])
    assert "hatchling build -d dist" in dist and "-c constraints.txt" in dist
    assert "sha256sum" in dist and "SHA256SUMS" in dist
    assert "remediator config schema > dist/remediator.schema.json" in dist
    assert remediator.SCHEMA_URL.endswith("/remediator.schema.json")  # what init points at
    image = jobs["image"]
    assert image["permissions"]["packages"] == "write"
    uses = {s.get("uses", "").split("@")[0]: s for s in image["steps"]}
    push = uses["docker/build-push-action"]["with"]
    assert push["push"] is True and "steps.meta.outputs.labels" in push["labels"]
    assert "VERSION=${{ needs.dist.outputs.version }}" in push["build-args"]
    assert uses["docker/login-action"]["with"]["registry"] == "ghcr.io"
    assert uses["docker/metadata-action"]["with"]["images"] == "${{ needs.dist.outputs.image }}"
    release = jobs["release"]
    assert release["needs"] == ["dist", "image"] and release["permissions"]["contents"] == "write"
    script = " ".join(s.get("run", "") for s in release["steps"])
    assert "gh release create" in script and "sha256sum --check SHA256SUMS" in script


def _identity_step() -> str:
    (step,) = [s for s in _workflow()["jobs"]["dist"]["steps"] if s.get("id") == "identity"]
    return str(step["run"])


def _run_identity(tmp_path: Path, tag: str, repository: str) -> tuple[int, str, str]:
    out = tmp_path / "github_output"
    out.write_text("")
    env = {**os.environ, "TAG": tag, "GITHUB_REPOSITORY": repository,
           "GITHUB_OUTPUT": str(out),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-e", "-c", _identity_step()], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    return proc.returncode, proc.stdout + proc.stderr, out.read_text()


def test_the_release_refuses_a_tag_that_is_not_the_version(tmp_path: Path):
    version, home = remediator.__version__, remediator.REPOSITORY
    code, _, outputs = _run_identity(tmp_path, f"v{version}", home.upper())
    assert code == 0, outputs
    assert outputs.splitlines() == [f"version={version}", f"image={remediator.IMAGE}"]
    code, said, _ = _run_identity(tmp_path, "v99.0.0", home)
    assert code == 1 and f"tag v99.0.0 is not v{version}" in said
    code, said, _ = _run_identity(tmp_path, f"v{version}", "someone/fork")
    assert code == 1 and f"REPOSITORY in remediator/kernel/release.py is {home}" in said


def test_the_wheel_carries_the_bundled_crd_schemas_and_where_they_came_from(dist: Path):
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "crd-schemas").rglob("*")
                if p.is_file()}
    assert "crd-schemas/README.md" in expected and len(expected) > 6
    assert {f"remediator/_bundled/{n}" for n in expected} <= names


def test_the_wheel_carries_the_shipped_policy_analysis_and_program(dist: Path):
    """The built-in modules' summaries (remediator/gate/builtin_analysis.json) and their compiled
    program (builtin_program.bin, and what it was made from) are package data: without them an
    installed engine would read every built-in module's AST at each start, and compile them."""
    (wheel,) = dist.glob("*.whl")
    names = ["builtin_analysis.json", "builtin_program.bin", "builtin_program.json"]
    with zipfile.ZipFile(wheel) as zf:
        shipped = [zf.read(f"remediator/gate/{name}") for name in names]
    assert shipped == [(ROOT / "remediator/gate" / name).read_bytes() for name in names]


def test_the_wheel_carries_the_lazy_packages_stubs(dist: Path):
    """`model` and `gate` read their names from `__init__.pyi` at import (lazy_loader): an
    installed package without its stub would not import at all."""
    stubs = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "remediator").rglob("*.pyi"))
    assert "remediator/model/__init__.pyi" in stubs and "remediator/gate/__init__.pyi" in stubs
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert all(zf.read(s).decode() == (ROOT / s).read_text() for s in stubs)


def test_the_command_starts_at_the_process_entry(dist: Path):
    """The `remediator` script runs `remediator.__main__:main`, as `python -m remediator` does:
    the entry that pauses the collector while the command loads (kernel/collector.py)."""
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        (entry_points,) = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = zf.read(entry_points).decode()
    assert "remediator = remediator.__main__:main" in text.splitlines()
