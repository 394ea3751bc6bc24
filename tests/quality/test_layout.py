"""The layout the architecture promises, checked: the package root holds only the pipeline and
the layer folders, ``__init__.py`` files only re-export, tests mirror the package and share
helpers only through tests/support/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_modules(path: Path) -> list[str]:
    """The absolute module names ``path`` imports (``from a import b`` counts as ``a.b`` too,
    since ``b`` may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return found


def test_the_package_root_holds_only_the_entry_and_the_layer_folders():
    """New code goes into the layer or stage it belongs to, never loose at the package root."""
    loose = sorted(p.name for p in (ROOT / "remediator").glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]
    folders = sorted(p.name for p in (ROOT / "remediator").iterdir()
                     if p.is_dir() and (p / "__init__.py").exists())
    assert "pipeline" in folders  # the flow: remediator/pipeline/flow.py and its parts


def test_package_init_files_only_re_export():
    """An ``__init__.py`` holds a docstring, imports and ``__all__``: the code lives in named
    modules, where a reader looks for it."""
    offenders = []
    for path in sorted((ROOT / "remediator").rglob("__init__.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            exports = isinstance(node, ast.Assign | ast.AnnAssign) and all(
                isinstance(t, ast.Name) and t.id == "__all__"
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
            if not (docstring or exports or isinstance(node, ast.Import | ast.ImportFrom)):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_tests_mirror_the_package_and_share_helpers_only_through_support():
    """Test files live in a folder named for their area; helpers, emulators and builders live in
    tests/support/; no test imports another test module (a helper another test needs moves to
    tests/support/)."""
    tests = ROOT / "tests"
    misplaced, imports = [], []
    for path in sorted(tests.rglob("*.py")):
        rel = path.relative_to(tests)
        if rel.parts[0] == "cassettes":
            continue
        is_test = path.name.startswith("test_")
        if is_test and len(rel.parts) == 1:
            misplaced.append(f"{rel}: a test file belongs in the folder of its area")
        if not is_test and path.name not in ("__init__.py", "conftest.py") \
                and rel.parts[0] != "support":
            misplaced.append(f"{rel}: a helper module belongs in tests/support/")
        for module in _imported_modules(path):
            parts = module.split(".")
            if parts[0] == "tests" and len(parts) > 1 and parts[1] != "support":
                imports.append(f"{rel} imports {module}")
    assert misplaced == []
    assert imports == []
