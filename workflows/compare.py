"""Comparing any two EASE2 rasters of the same quantity: input − reference per band, with metrics."""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..core.grid import GRIDS, Grid
from ..core.inputs import UNIT_QUANTITY
from ..core.metrics import compare
from ..core.physical import quantity_of
from ..core.raster import read_ease_raster
from ..core.regrid import regrid, resampling_method


def difference(input_path: str, reference_path: str,
               regrid_reference: bool = True) -> tuple[Grid, np.ndarray, list[str], dict]:
    """Input − reference per band on the input's grid, with metrics; the reference is regridded
    (block mean when finer, nearest covering cell when coarser) when the grids differ and ``regrid_reference``
    (the report's ``resampling`` says how), else refused with a sentence naming both grids. Both must hold the
    same quantity band for band (by band name, else by units)."""
    a = read_ease_raster(input_path)
    b = read_ease_raster(reference_path)
    if a.grid.name != b.grid.name and not regrid_reference:
        raise InputError(f"{reference_path}: the reference is on the {b.grid.name} grid, {input_path} on "
                         f"{a.grid.name}; they are compared only on the same grid unless resampling is asked for "
                         f"({resampling_method(b.grid, a.grid)})")
    n = min(len(a.arrays), len(b.arrays))
    for i in range(n):  # the same quantity in both (by band name, else by units): never TB minus soil moisture
        qa, qb = quantity_of(a.names[i]), quantity_of(b.names[i])
        ua, ub = (UNIT_QUANTITY.get((x[i] or "").strip().lower()) for x in (a.units, b.units))
        if (qa and qb and qa != qb) or (ua and ub and ua != ub):
            raise InputError(f"{reference_path}: band {i + 1} holds {b.names[i]} ({b.units[i] or 'no units'}), "
                             f"{input_path} band {i + 1} holds {a.names[i]} ({a.units[i] or 'no units'}): a "
                             "reference must hold the quantity it is compared with")
    method = "same grid" if a.grid.name == b.grid.name else (
        "reference block-averaged onto the input grid" if GRIDS[b.grid.name][0] < GRIDS[a.grid.name][0]
        else "reference cells replicated onto the finer input grid")
    diffs, report = [], {"input": input_path, "reference": reference_path, "resampling": method, "bands": {}}
    for i in range(n):
        ref = regrid(b.arrays[i], b.grid, a.grid)
        diffs.append(a.arrays[i] - ref)
        report["bands"][a.names[i]] = compare(a.arrays[i], ref)
    if not any(np.isfinite(d).any() for d in diffs):
        raise InputError(f"{input_path} and {reference_path} have no valid cell in common")
    return a.grid, np.stack(diffs), a.names[:n], report
