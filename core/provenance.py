"""Where data and models come from: what a model card says about its training data, and the training region in
which a location-specific model may be applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from .errors import InputError
from .grid import Grid
from .inputs import is_simulated
from .regrid import valid_window
from .scene import Scene


def model_origin(model, location, grid: Grid, path: str, valid: np.ndarray | None = None) -> tuple[int, int]:
    """(row, col) of ``grid``'s first cell in a location-specific model's region; (0, 0) otherwise.

    ``location``: the window the model was trained on, as its card records it (``ModelCard.location``: grid,
    row_off, col_off, rows, cols; None for a general model). A location-specific model knows its static sub-cell
    map only inside that window: every pixel to process (``valid``, a boolean array on ``grid``; None: the whole
    of ``grid``) must lie in it. Raises InputError naming both windows (grid rows/cols and lon/lat) when any
    does not.
    """
    if getattr(model, "location", None) is None:
        return (0, 0)
    try:
        region = Grid(location.grid, location.row_off, location.col_off, location.rows, location.cols)
    except (AttributeError, TypeError, ValueError):
        raise InputError(f"{path}: location-specific model without a valid 'location' in its card") from None
    if region.name != grid.name:
        raise InputError(f"{path}: the model was trained on the {region.name} grid, the output is {grid.name}")
    r, c = grid.offset_in(region)
    need = grid
    if valid is not None and valid.shape == grid.shape and valid.any():
        need = valid_window(grid, valid)
    rr, cc = need.offset_in(region)
    if rr < 0 or cc < 0 or rr + need.rows > region.rows or cc + need.cols > region.cols:
        overlap = not (r >= region.rows or c >= region.cols or r + grid.rows <= 0 or c + grid.cols <= 0)
        raise InputError(f"{path}: this location-specific model knows only its training region "
                         f"{window_text(region)}; the input's pixels to process span {window_text(need)}, "
                         f"{'partly' if overlap else 'entirely'} outside it. Use EXTENT to stay inside the "
                         "training region, a general model, or train one for this region.")
    return (r, c)


def window_text(g: Grid) -> str:
    """'M09 rows 10..25, cols 40..55 (lon -98.30..-96.70, lat 36.00..37.20)' for messages."""
    lon, lat = g.lonlat(np.array([g.rows - 1, 0]), np.array([0, g.cols - 1]))
    return (f"{g.name} rows {g.row_off}..{g.row_off + g.rows - 1}, cols {g.col_off}..{g.col_off + g.cols - 1} "
            f"(lon {lon[0]:.2f}..{lon[1]:.2f}, lat {lat[0]:.2f}..{lat[1]:.2f})")


def provenance(grid36: Grid, dates: Sequence[dt.date], sides: dict[str, list[Scene]]) -> dict:
    """What a model card says about its training data: products, region, dates, simulated or real."""
    lon, lat = grid36.lonlat(np.array([grid36.rows - 1, 0]), np.array([0, grid36.cols - 1]))
    simulated = all(is_simulated(s) for scenes in sides.values() for s in scenes)
    real = not any(is_simulated(s) for scenes in sides.values() for s in scenes)
    seeds = sorted({s.attrs.get("seed") for scenes in sides.values() for s in scenes if s.attrs.get("seed")})
    return {
        "data": "simulated" if simulated else ("real" if real else "mixed simulated and real"),
        "products": {k: sorted({s.product for s in v}) for k, v in sides.items()},
        "region": {"grid": grid36.name, "row_off": grid36.row_off, "col_off": grid36.col_off,
                   "rows": grid36.rows, "cols": grid36.cols,
                   "lon_min": round(float(lon[0]), 3), "lat_min": round(float(lat[0]), 3),
                   "lon_max": round(float(lon[1]), 3), "lat_max": round(float(lat[1]), 3)},
        "dates": [str(min(dates)), str(max(dates))], "days": len(dates),
        "simulation_seeds": seeds,
        "climates": sorted({s.attrs.get("climate") for v in sides.values() for s in v if s.attrs.get("climate")}),
    }
