"""Finding inputs: files from folders or lists, what each offers for training (by its contents), the bundled
models' paths."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from . import smap
from .errors import InputError
from .inputs import is_raster
from .raster import read_ease_raster

MODEL_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "model")
DEFAULT_TB_MODEL = os.path.join(MODEL_DIR, "tb_general.pt")
DEFAULT_SM_MODEL = os.path.join(MODEL_DIR, "sm_general.pt")


def list_files(spec: str | Sequence[str], exts: Sequence[str],
               accept: Callable[[str], bool] | None = None) -> list[str]:
    """Files from folders, paths, or ';'-separated strings, filtered by extension.

    ``accept(path) -> bool`` filters the contents of folders (so one folder can hold every product);
    files named explicitly are kept, and a wrong one fails later with a clear message.
    """
    items = [spec] if isinstance(spec, str) else list(spec)
    files: list[str] = []
    for item in items:
        for part in str(item).split(";"):
            part = part.strip()
            if not part:
                continue
            if os.path.isdir(part):
                files += [f for f in sorted(os.path.join(part, n) for n in os.listdir(part)
                                            if n.lower().endswith(tuple(exts)))
                          if os.path.isfile(f) and (accept is None or accept(f))]
            elif os.path.isfile(part):
                files.append(part)
            else:
                raise InputError(f"{part}: no such file or folder")
    return files


TB36_PRODUCTS = {"SPL1CTB", "SPL2SMP", "SPL2SMP_NRT", "SPL3SMP"}
TB9_PRODUCTS = {"SPL3SMAP", "SPL2SMAP"}


def product_kind(path: str) -> str:
    """What a file offers for training: 'tb36', 'tb9', 'sm_fine', 'lst' or '' (from its contents)."""
    try:
        if is_raster(path):
            rd = read_ease_raster(path)
            names = [n.lower() for n in rd.names]
            if "lst" in names:
                return "lst"
            if {"tb_v", "tb_h"} <= set(names):
                return {"M36": "tb36", "M09": "tb9"}.get(rd.grid.name, "")
            return ""
        if path.lower().endswith((".hdf", ".hdf4")):
            return "lst"
        product = smap.identify(path)
    except InputError:
        return ""
    if product in TB36_PRODUCTS:
        return "tb36"
    if product in TB9_PRODUCTS:
        return "tb9"
    return "sm_fine" if product == "SPL2SMAP_S" else ""


def kind_filter(kind: str) -> Callable[[str], bool]:
    """An ``accept`` function for :func:`list_files` keeping files of one kind."""
    return lambda path: product_kind(path) == kind
