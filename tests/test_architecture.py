"""The import rules of docs/architecture.md, read from the source (every import, top-level or inside a function).

- core: never qgis, never torch, never the layers above it (algorithms, workflows); `model` only from
  `core/pipeline.py`, inside functions (the pipeline is the one place the core hands arrays to the network);
- model: never qgis, GDAL, h5py, algorithms or workflows; from core only the numpy-only errors, feedback, atomic,
  physical and blocks;
- workflows: never qgis or algorithms;
- nothing imports scripts, bench or tests.
"""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _imports(path: str) -> list[tuple[str, bool]]:
    """(absolute-ish module name, at module top level?) of every import in ``path``; relative imports are
    resolved against the package smapdown."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    pkg = os.path.relpath(os.path.dirname(path), ROOT).replace(os.sep, ".")
    pkg = "" if pkg == "." else pkg
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = pkg.split(".") if pkg else []
                base = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((name, id(node) in top))
    return out


def _files(folder: str) -> list[str]:
    return sorted(os.path.join(ROOT, folder, f) for f in os.listdir(os.path.join(ROOT, folder)) if f.endswith(".py"))


def _first(name: str) -> str:
    return name.removeprefix("smapdown.").split(".")[0]


@pytest.mark.parametrize("path", _files("core"), ids=os.path.basename)
def test_core_is_free_of_qgis_torch_and_the_layers_above(path):
    for name, top in _imports(path):
        first = _first(name)
        assert first not in ("qgis", "torch", "algorithms", "workflows", "processing", "scripts", "bench", "tests"), \
            f"{path}: imports {name}"
        if first == "model":
            assert os.path.basename(path) == "pipeline.py" and not top, \
                f"{path}: imports {name} (only core/pipeline.py may, inside a function)"


@pytest.mark.parametrize("path", _files("model"), ids=os.path.basename)
def test_model_is_torch_and_numpy_only(path):
    for name, _ in _imports(path):
        first = _first(name)
        assert first not in ("qgis", "osgeo", "h5py", "algorithms", "workflows", "processing", "scripts", "bench"), \
            f"{path}: imports {name}"
        if first == "core":
            assert name.split(".")[-1] in ("errors", "feedback", "atomic", "physical", "blocks", "core"), \
                f"{path}: imports {name}"


@pytest.mark.parametrize("path", _files("workflows"), ids=os.path.basename)
def test_workflows_never_import_qgis_or_algorithms(path):
    for name, _ in _imports(path):
        assert _first(name) not in ("qgis", "algorithms", "processing", "scripts", "bench", "tests"), \
            f"{path}: imports {name}"


def test_the_rules_see_relative_imports():
    """The checker itself: relative imports resolve, so a forbidden one cannot hide behind dots."""
    names = [n for n, _ in _imports(os.path.join(ROOT, "core", "pipeline.py"))]
    assert "model.inference" in names and "core.errors" in names
    names = [n for n, _ in _imports(os.path.join(ROOT, "model", "io.py"))]
    assert any(n.startswith("core.") for n in names)


@pytest.mark.parametrize("module", ["errors", "feedback", "atomic", "physical", "blocks"])
def test_the_core_modules_model_may_use_need_no_gdal_or_h5py(module):
    for name, _ in _imports(os.path.join(ROOT, "core", f"{module}.py")):
        assert _first(name) not in ("osgeo", "h5py", "qgis", "torch"), f"core/{module}.py imports {name}"
