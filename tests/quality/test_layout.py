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


def _lazy_re_export(node: ast.stmt) -> bool:
    """``__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)``: the
    names of the package's ``__init__.pyi``, each loaded from its module on first use."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Tuple) and isinstance(node.value, ast.Call)):
        return False
    names = [t.id for t in node.targets[0].elts if isinstance(t, ast.Name)]
    return (names == ["__getattr__", "__dir__", "__all__"]
            and ast.unparse(node.value) == "lazy_loader.attach_stub(__name__, __file__)")


def test_package_init_files_only_re_export():
    """An ``__init__.py`` holds a docstring, imports and ``__all__`` (or the lazy re-export of
    its ``__init__.pyi``, which then holds only imports and ``__all__``): the code lives in named
    modules, where a reader looks for it."""
    offenders = []
    for path in sorted((ROOT / "remediator").rglob("__init__.py")):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        lazy = any(_lazy_re_export(node) for node in body)
        stub = path.with_suffix(".pyi")
        assert lazy == stub.exists(), f"{path.relative_to(ROOT)}: a lazy init goes with its stub"
        files = [(path, body), *([(stub, ast.parse(stub.read_text(encoding="utf-8")).body)]
                                 if lazy else [])]
        for file, nodes in files:
            for node in nodes:
                docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                exports = isinstance(node, ast.Assign | ast.AnnAssign) and all(
                    isinstance(t, ast.Name) and t.id == "__all__"
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
                if not (docstring or exports or _lazy_re_export(node)
                        or isinstance(node, ast.Import | ast.ImportFrom)):
                    offenders.append(f"{file.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_lazy_init_stubs_import_only_their_own_modules():
    """lazy_loader reads an ``__init__.pyi``'s ``from .module import name`` lines only: an
    alias or an import from another package would be a name that fails on first use."""
    for stub in sorted((ROOT / "remediator").rglob("__init__.pyi")):
        for node in ast.parse(stub.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom):
                assert node.level == 1 and node.module, f"{stub}:{node.lineno}"
                assert all(a.asname is None for a in node.names), f"{stub}:{node.lineno}"
            else:
                assert isinstance(node, ast.Assign | ast.Expr), f"{stub}:{node.lineno}"


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
