"""The import rules of docs/architecture.md, read from the source (every import, top-level or inside a function).

- core (and its subpackages): never qgis, never torch, never the layers above it (model, workflows, algorithms):
  the core is a QGIS-free, torch-free base with no import cycle;
- model: never qgis, GDAL, h5py, algorithms or workflows; from core only the numpy-only errors, feedback, atomic,
  physical and blocks;
- workflows: never qgis or algorithms; `model` (torch) only inside functions, so a workflow module loads where
  torch is absent (the algorithms import workflows inside `execute`);
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
    """Every .py file under ``folder``, subpackages included."""
    return sorted(os.path.join(d, f) for d, _, names in os.walk(os.path.join(ROOT, folder)) for f in names
                  if f.endswith(".py"))


def _id(path: str) -> str:
    return os.path.relpath(path, ROOT)


def _first(name: str) -> str:
    return name.removeprefix("smapdown.").split(".")[0]


@pytest.mark.parametrize("path", _files("core"), ids=_id)
def test_core_is_free_of_qgis_torch_and_the_layers_above(path):
    for name, _ in _imports(path):
        assert _first(name) not in ("qgis", "torch", "model", "algorithms", "workflows", "processing", "scripts",
                                    "bench", "tests"), f"{path}: imports {name}"


@pytest.mark.parametrize("path", _files("model"), ids=_id)
def test_model_is_torch_and_numpy_only(path):
    for name, _ in _imports(path):
        first = _first(name)
        assert first not in ("qgis", "osgeo", "h5py", "algorithms", "workflows", "processing", "scripts", "bench"), \
            f"{path}: imports {name}"
        if first == "core":
            assert name.split(".")[-1] in ("errors", "feedback", "atomic", "physical", "blocks", "core"), \
                f"{path}: imports {name}"


@pytest.mark.parametrize("path", _files("workflows"), ids=_id)
def test_workflows_never_import_qgis_or_algorithms(path):
    for name, top in _imports(path):
        assert _first(name) not in ("qgis", "algorithms", "processing", "scripts", "bench", "tests"), \
            f"{path}: imports {name}"
        assert not (top and _first(name) in ("model", "torch")), \
            f"{path}: imports {name} at module level (only inside functions: torch may be absent)"


@pytest.mark.parametrize("path", _files("algorithms"), ids=_id)
def test_algorithms_reach_model_and_workflows_only_inside_functions(path):
    """The provider loads without torch: model, and the workflows that run it, are imported inside functions."""
    for name, top in _imports(path):
        if top:
            assert _first(name) not in ("model", "torch"), f"{path}: imports {name} at module level"
            assert name.removeprefix("smapdown.") not in WORKFLOWS_WITH_MODEL, \
                f"{path}: imports {name} at module level"


WORKFLOWS_WITH_MODEL = {"workflows.downscale", "workflows.soil_moisture", "workflows.training_data",
                        "workflows.train", "workflows.archive"}


def test_the_rules_see_relative_imports():
    """The checker itself: relative imports resolve, so a forbidden one cannot hide behind dots."""
    names = [n for n, _ in _imports(os.path.join(ROOT, "workflows", "downscale.py"))]
    assert "model.inference" in names and "core.errors" in names and "core.tb_bounds" in names
    names = [n for n, _ in _imports(os.path.join(ROOT, "model", "io.py"))]
    assert any(n.startswith("core.") for n in names)


@pytest.mark.parametrize("module", ["errors", "feedback", "atomic", "physical", "blocks"])
def test_the_core_modules_model_may_use_need_no_gdal_or_h5py(module):
    for name, _ in _imports(os.path.join(ROOT, "core", f"{module}.py")):
        assert _first(name) not in ("osgeo", "h5py", "qgis", "torch"), f"core/{module}.py imports {name}"
