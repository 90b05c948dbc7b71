"""Static land-cover and open-water fractions from the SMAP products that carry them.

SMAP's radiometer soil-moisture products (SPL2SMP, SPL2SMP_E, SPL2SMP_NRT, SPL3SMP, SPL3SMP_E) store, per
cell, the three dominant MODIS IGBP land-cover classes (``landcover_class``, shape (cells, 3)), the share of
the cell each covers (``landcover_class_fraction``) and the static open-water fraction
(``static_water_body_fraction``). These are the high-resolution static maps every user of a SMAP file has:
on 36 km in the 36 km products, on 9 km in the enhanced ``_E`` products. This module turns them into the
``static_*`` bands smapdown's models read (:data:`COVER_BANDS`): the land part split into the simulator's
five covers (bare, grassland, cropland, forest, urban; fractions of the land, summing to 1) plus the
open-water fraction of the whole cell.

IGBP → cover table (:data:`IGBP_TO_COVER`): the five smapdown covers differ in vegetation water content and
roughness (``core.simulate``'s class tables), so mixed IGBP classes are split by their definitions: woody
savannas 30–60 % tree cover → half forest, half grassland; savannas 10–30 % → 0.8 grassland, 0.2 forest; open
shrublands (sparse shrubs on bare ground) → half bare, half grassland; cropland / natural-vegetation mosaic →
0.5 cropland, 0.3 grassland, 0.2 forest; permanent snow and ice → bare (no vegetation). Land that the three
stored classes do not cover is shared out in proportion to them (the stored fractions then sum to 1 over the
land). A cell whose stored classes are all water has no land to describe; it gets the even split 0.2 per
cover, which its water fraction of about 1 outweighs in any physical model.
"""

from __future__ import annotations

import os

import h5py
import numpy as np

from .blocks import place
from .errors import InputError
from .grid import GRIDS, Grid

#: the static bands of a land-cover-aware model, in this order
COVER_BANDS = ("static_bare", "static_grassland", "static_cropland", "static_forest", "static_urban",
               "static_water")
#: IGBP class → fractions of (bare, grassland, cropland, forest, urban); class 0 is open water
IGBP_TO_COVER: dict[int, tuple[float, float, float, float, float]] = {
    1: (0, 0, 0, 1, 0), 2: (0, 0, 0, 1, 0), 3: (0, 0, 0, 1, 0), 4: (0, 0, 0, 1, 0), 5: (0, 0, 0, 1, 0),
    6: (0, 1, 0, 0, 0),  # closed shrublands
    7: (0.5, 0.5, 0, 0, 0),  # open shrublands
    8: (0, 0.5, 0, 0.5, 0),  # woody savannas
    9: (0, 0.8, 0, 0.2, 0),  # savannas
    10: (0, 1, 0, 0, 0),  # grasslands
    11: (0, 1, 0, 0, 0),  # permanent wetlands (their open water is in static_water)
    12: (0, 0, 1, 0, 0),  # croplands
    13: (0, 0, 0, 0, 1),  # urban and built-up
    14: (0, 0.3, 0.5, 0.2, 0),  # cropland / natural vegetation mosaic
    15: (1, 0, 0, 0, 0),  # permanent snow and ice
    16: (1, 0, 0, 0, 0),  # barren
}
_GROUPS = ("/Soil_Moisture_Retrieval_Data", "/Soil_Moisture_Retrieval_Data_AM")
_LC, _LCF, _WF = "landcover_class", "landcover_class_fraction", "static_water_body_fraction"


def cover_fractions(classes: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """(…, 3) IGBP classes and their cell fractions → (5, …) fractions of the land in the five covers.

    Fill values (class 254/255, negative or non-finite fractions) count as absent. Rows with no land class
    get 0.2 each (see the module docstring)."""
    classes = np.asarray(classes)
    fractions = np.asarray(fractions, dtype=np.float64)
    table = np.zeros((256, 5))
    for k, v in IGBP_TO_COVER.items():
        table[k] = v
    ok = np.isfinite(fractions) & (fractions > 0) & (fractions <= 1.0 + 1e-6) & (classes >= 1) & (classes <= 16)
    w = np.where(ok, fractions, 0.0)
    out = np.einsum("...k,...kc->c...", w, table[np.where(ok, classes, 0).astype(np.int64)])
    total = out.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, out / np.where(total > 0, total, 1.0), 0.2)
    return out.astype(np.float32)


def _cell_arrays(grp: h5py.Group, name: str, path: str) -> np.ndarray:
    if name not in grp:
        raise InputError(f"{path}: {grp.name}/{name} is missing; this product carries no static land-cover "
                         "map (use an SPL2SMP / SPL3SMP file, or give a static raster with static_* bands)")
    return np.asarray(grp[name][()])


def read_product_cover(path: str, grid: Grid | None = None) -> tuple[Grid, dict[str, np.ndarray]]:
    """The :data:`COVER_BANDS` of an SPL2SMP(_E/_NRT) or SPL3SMP(_E) file, on its own grid (or on ``grid``,
    a window of the same grid; cells outside the file's data are NaN).

    Read exactly as stored: the water fraction is the file's ``static_water_body_fraction`` (fill and
    out-of-range → NaN), the cover fractions come from ``landcover_class`` / ``landcover_class_fraction``
    through :func:`cover_fractions`."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: not a readable HDF5 file ({exc})") from None
    with f:
        gname = next((g for g in _GROUPS if g in f), None)
        if gname is None:
            raise InputError(f"{path}: no {' or '.join(_GROUPS)} group: not an SPL2SMP / SPL3SMP product")
        grp = f[gname]
        lc = _cell_arrays(grp, _LC, path)
        lcf = _cell_arrays(grp, _LCF, path).astype(np.float64)
        wf = _water_fraction(grp, gname, path)
        if lc.ndim == 2:  # swath layout: cells + EASE row/column indices
            own, arrays = _swath_arrays(grp, lc, lcf, wf, path)
        elif lc.ndim == 3:  # global layout (rows, cols, 3)
            own, arrays = _global_arrays(lc, lcf, wf)
        else:
            raise InputError(f"{path}: {gname}/{_LC} has shape {lc.shape}; expected (cells, 3) or (rows, cols, 3)")
    if grid is None:
        return own, arrays
    if grid.name != own.name:
        raise InputError(f"{path}: its land-cover map is on {own.name}, {grid.name} was asked for")
    return grid, {b: place(a, (own.row_off, own.col_off), (grid.row_off, grid.col_off), grid.shape)
                  for b, a in arrays.items()}


def _water_fraction(grp, gname: str, path: str) -> np.ndarray:
    """The group's static water-body fraction as float64, fill and values outside 0–1 as NaN."""
    if _WF not in grp:
        raise InputError(f"{path}: {gname}/{_WF} is missing")
    wf_ds = grp[_WF]
    wf = np.asarray(wf_ds[()]).astype(np.float64)
    fill = float(np.asarray(wf_ds.attrs.get("_FillValue", -9999.0)).ravel()[0])
    return np.where((wf == fill) | (wf < 0) | (wf > 1) | ~np.isfinite(wf), np.nan, wf)


def _swath_arrays(grp, lc: np.ndarray, lcf: np.ndarray, wf: np.ndarray, path: str
                  ) -> tuple[Grid, dict[str, np.ndarray]]:
    """Cover and water bands of a half-orbit file (one value per cell with its EASE row and column) on the
    smallest window of its grid holding every cell."""
    rows = np.asarray(grp["EASE_row_index"][()]).astype(np.int64)
    cols = np.asarray(grp["EASE_column_index"][()]).astype(np.int64)
    idx = (rows >= 0) & (rows < 65534) & (cols >= 0) & (cols < 65534)
    name = _grid_name(int(rows[idx].max(initial=0)), int(cols[idx].max(initial=0)))
    _, gc, gr = GRIDS[name]
    ok = idx & (rows < gr) & (cols < gc)
    if not ok.any():
        raise InputError(f"{path}: no cell with a valid EASE-Grid index")
    own = Grid(name, int(rows[ok].min()), int(cols[ok].min()),
               int(rows[ok].max() - rows[ok].min() + 1), int(cols[ok].max() - cols[ok].min() + 1))
    values = dict(zip(COVER_BANDS[:5], cover_fractions(lc[ok], lcf[ok]), strict=True))
    values["static_water"] = wf[ok]
    arrays = {}
    for band, v in values.items():
        a = np.full(own.shape, np.nan, np.float32)
        a[rows[ok] - own.row_off, cols[ok] - own.col_off] = v
        arrays[band] = a
    return own, arrays


def _global_arrays(lc: np.ndarray, lcf: np.ndarray, wf: np.ndarray) -> tuple[Grid, dict[str, np.ndarray]]:
    """Cover and water bands of a daily global file (rows, cols[, 3]) on its whole grid (M36 or M09); NaN
    where the file has no cell."""
    name = "M36" if lc.shape[:2] == (GRIDS["M36"][2], GRIDS["M36"][1]) else "M09"
    cover = cover_fractions(lc, lcf)
    water = wf.astype(np.float32)
    no_cell = ~np.isfinite(water)
    arrays = {b: np.where(no_cell, np.nan, cover[i]).astype(np.float32) for i, b in enumerate(COVER_BANDS[:5])}
    arrays["static_water"] = water
    return Grid.global_grid(name), arrays


def _grid_name(max_row: int, max_col: int) -> str:
    """M36 when the indices fit the 36 km grid, else M09 (the enhanced products)."""
    return "M36" if max_row < GRIDS["M36"][2] and max_col < GRIDS["M36"][1] else "M09"
