"""Training pairs from product files: 36 km inputs and fine targets on the days both (or, for soil moisture, all
three) sides have, as model TrainingData with the provenance a model card records.

The model package (torch) is imported inside the functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from ..core import modis, smap
from ..core.errors import InputError, NoDataError
from ..core.feedback import SILENT, Feedback
from ..core.grid import GRIDS, Grid
from ..core.inputs import check_date_range, is_raster, raster_scene, read_tb36, static_inputs
from ..core.provenance import provenance
from ..core.regrid import regrid, scene_on
from ..core.scene import Scene
from .soil_moisture import SM_BASE_INPUTS, SM_INPUTS, SM_UNITS, sm_ancillary, sm_inputs


def _by_date(paths: Sequence[str], read, feedback: Feedback = SILENT) -> dict[dt.date, Scene]:
    """Scenes by date; files without valid data (swath gaps, frozen soil) are skipped with a log line."""
    out: dict[dt.date, Scene] = {}
    for p in paths:
        feedback.check()
        try:
            s = read(p)
        except NoDataError as exc:
            feedback.info(f"skipped: {exc}")
            continue
        if s.date is None:
            raise InputError(f"{p}: no observation date in the file's metadata")
        out[s.date] = s
    return out


def tb_training_data(low: Sequence[str], high: Sequence[str], extent=None, extent_crs: str | None = None,
                     start: dt.date | None = None, end: dt.date | None = None,
                     feedback: Feedback = SILENT, upsampling: str = "bicubic", static_path: str | None = None,
                     static_names: Sequence[str] | None = None):
    """Pairs (upsampled 36 km TB [+ static maps] → 9 km target TB) on the days both sides have, as model
    TrainingData. ``static_path``: every ``static_*`` band of that raster (:func:`read_static`) on M09
    becomes an input after TB V and H (high-resolution static inputs: water, land cover, soil); with
    ``static_names`` only those bands, in that order.

    ``upsampling``: 'bicubic' (smooth) or 'nearest' (each 36 km value over its 4 x 4 block: the network's
    residual then starts from the observation itself, which suits a location-specific model whose
    static map carries the sub-cell pattern)."""
    from ..model.inference import upsample
    from ..model.train import TrainingData

    check_date_range(start, end)
    lows = _by_date(low, lambda p: read_tb36(p, extent, extent_crs), feedback)
    if not lows:
        raise InputError("none of the 36 km files has valid brightness temperature in the region")
    grid36 = _common_window([s.grid for s in lows.values()])
    grid9 = grid36.refine("M09")
    dates = sorted(d for d in lows if (start is None or d >= start) and (end is None or d <= end))
    highs = _by_date(high, lambda p: _target_scene(p, ["tb_v", "tb_h"], grid9, "M09", "9 km TB"), feedback)
    dates = [d for d in dates if d in highs]
    if not dates:
        raise InputError("no date has both a 36 km input file and a 9 km target file"
                         f"{_in_range_text(start, end)} (36 km dates: {_span(lows)}; 9 km dates: {_span(highs)})")
    xs, ys = [], []
    for i, d in enumerate(dates):
        s = lows[d]
        tb36 = np.stack([regrid(s.by_role(r).data, s.grid, grid36) for r in ("tb_v", "tb_h")])
        xs.append(upsample(tb36.astype(np.float32), 4, upsampling))
        h = highs[d]
        ys.append(np.stack([regrid(h.by_role(r).data, h.grid, grid9) for r in ("tb_v", "tb_h")]))
        feedback.progress(100.0 * (i + 1) / len(dates))
        feedback.check()
    snames: list[str] = []
    if static_path:  # the same static bands every day, over every pixel some day's target covers
        covered = np.isfinite(np.stack(ys)).any(axis=(0, 1))
        snames, fixed = static_inputs(static_path, grid9, static_names, covered)
        xs = [np.concatenate([x, fixed]) for x in xs]
    data = TrainingData(np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32), dates,
                        ["tb_v", "tb_h", *snames], ["tb_v", "tb_h"], ["K", "K"] + ["1"] * len(snames), ["K", "K"],
                        upsampling)
    return data, grid9, provenance(grid36, dates, {"input": [lows[d] for d in dates],
                                                   "target": [highs[d] for d in dates]})


def sm_training_data(low: Sequence[str], lst: Sequence[str], target: Sequence[str], grid_name: str = "M03",
                     extent=None, extent_crs: str | None = None, start: dt.date | None = None,
                     end: dt.date | None = None, feedback: Feedback = SILENT, ancillary: bool = True,
                     static_path: str | None = None):
    """Pairs (TB V, H, LST [, the 36 km retrieval, VWC, temperature] [, static maps] → soil moisture on
    M09/M03) on the days all three sides have. ``ancillary``: also the 36 km fields of :data:`SM_ANCILLARY`
    as inputs; ``static_path``: also every ``static_*`` band of that raster (:func:`read_static`)."""
    from ..model.train import TrainingData

    check_date_range(start, end)
    names = list(SM_INPUTS if ancillary else SM_BASE_INPUTS)
    anc = sm_ancillary(names)
    lows = _by_date(low, lambda p: read_tb36(p, extent, extent_crs, ancillary=anc), feedback)
    if not lows:
        raise InputError("none of the 36 km files has valid brightness temperature in the region")
    grid36 = _common_window([s.grid for s in lows.values()])
    grid = grid36.refine(grid_name)
    lsts = _by_date(lst, lambda p: modis.read_lst(p, target=grid, qc_option=None), feedback)
    tgts = _by_date(target, lambda p: _target_scene(p, ["soil_moisture"], grid, grid_name, "soil-moisture"),
                    feedback)
    dates = [d for d in sorted(lows) if d in lsts and d in tgts
             and (start is None or d >= start) and (end is None or d <= end)]
    if not dates:
        raise InputError(f"no date{_in_range_text(start, end)} has a 36 km TB file, an LST file and a "
                         f"soil-moisture target file (36 km dates: {_span(lows)}; LST dates: {_span(lsts)}; "
                         f"target dates: {_span(tgts)})")
    ys = [regrid(tgts[d].by_role("soil_moisture").data, tgts[d].grid, grid)[None] for d in dates]
    static = None
    if static_path:  # every pixel some day's target covers must have static values
        snames, arr = static_inputs(static_path, grid, None, np.isfinite(np.stack(ys)).any(axis=(0, 1)))
        names += snames
        static = dict(zip(snames, arr, strict=True))
    xs = []
    for i, d in enumerate(dates):
        xs.append(sm_inputs(scene_on(lows[d], grid36), lsts[d].by_role("lst").data, grid, names, static))
        feedback.progress(100.0 * (i + 1) / len(dates))
        feedback.check()
    data = TrainingData(np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32), dates,
                        list(names), ["soil_moisture"], [SM_UNITS.get(n, "1") for n in names], ["m3/m3"])
    return data, grid, provenance(grid36, dates, {"input": [lows[d] for d in dates],
                                                  "lst": [lsts[d] for d in dates],
                                                  "target": [tgts[d] for d in dates]})


def _in_range_text(start: dt.date | None, end: dt.date | None) -> str:
    if start is None and end is None:
        return ""
    return f" between START {start or 'any'} and END {end or 'any'}"


def _target_scene(path: str, roles: list[str], grid: Grid, grid_name: str, what: str) -> Scene:
    """A training target (9 km TB or fine soil moisture) read onto ``grid``'s area; InputError naming the file
    when it lies on a coarser grid than ``grid_name`` (a 36 km file given as a 9 km target would only repeat
    its cells and teach the network nothing)."""
    if is_raster(path):
        scene = raster_scene(path, roles)
    else:
        scene = smap.read_smap(path, variables=roles, extent=grid.bounds(), extent_crs="EPSG:6933",
                               grid_name=grid_name if grid_name in ("M03", "M01") else None)
    if GRIDS[scene.grid.name][0] > GRIDS[grid_name][0] * 1.001:
        raise InputError(f"{path}: holds {scene.product} on the {scene.grid.name} grid; {what} targets "
                         f"(INPUT_HIGH) must be on {grid_name} or finer")
    return scene


def _span(d: dict) -> str:
    return f"{min(d)}..{max(d)}" if d else "none"


def _common_window(grids: Sequence[Grid]) -> Grid:
    """The window covering every day's cells with data (days with swath gaps leave NaN, not a smaller region)."""
    g0 = grids[0]
    r0 = min(g.row_off for g in grids)
    c0 = min(g.col_off for g in grids)
    r1 = max(g.row_off + g.rows for g in grids)
    c1 = max(g.col_off + g.cols for g in grids)
    window = Grid(g0.name, r0, c0, r1 - r0, c1 - c0)
    if window.rows * window.cols > 4 * sum(g.rows * g.cols for g in grids) / len(grids):
        raise InputError("the 36 km files cover different regions; choose an EXTENT for training")
    return window
