"""Fields and scenes moved between windows of the nested EASE-Grid 2.0 grids (M36, M09, M03, M01).

One rule for every field (:mod:`core.blocks`): finer → coarser is the mean of the valid fine cells of each block,
coarser → finer repeats each coarse cell over its block, on the same grid a window is cropped or filled; cells
outside the source window are NaN. Values keep their units.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .blocks import block_mean, place, repeat_blocks
from .grid import GRIDS, Grid
from .scene import Scene


def crop_scene(scene: Scene, window: Grid) -> Scene:
    """The part of ``scene`` inside ``window`` (same grid)."""
    r, c = window.offset_in(scene.grid)
    sl = (slice(r, r + window.rows), slice(c, c + window.cols))
    variables = {k: replace(v, data=v.data[sl]) for k, v in scene.variables.items()}
    return Scene(scene.product, window, variables, scene.path, scene.date, scene.pass_, scene.attrs)


def scene_on(scene: Scene, grid: Grid) -> Scene:
    """``scene`` with every variable brought onto ``grid`` (NaN outside the scene's window)."""
    if scene.grid == grid:
        return scene
    variables = {k: replace(v, data=regrid(v.data, scene.grid, grid)) for k, v in scene.variables.items()}
    return Scene(scene.product, grid, variables, scene.path, scene.date, scene.pass_, scene.attrs)


def crop_to_data(scene: Scene) -> Scene:
    """``scene`` on the smallest window holding every cell where some variable has data.

    A global file that holds a region (a subset, a simulation) is then worked on and written at the size
    of its data; a scene without any data is returned unchanged.
    """
    valid = np.zeros(scene.grid.shape, bool)
    for v in scene.variables.values():
        valid |= np.isfinite(v.data)
    return crop_scene(scene, valid_window(scene.grid, valid)) if valid.any() else scene


def valid_window(grid: Grid, valid: np.ndarray) -> Grid:
    """The smallest window of ``grid`` holding every True cell of ``valid``."""
    rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    return grid.window(int(rows[0]), int(cols[0]), int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1))


def regrid(array: np.ndarray, src: Grid, dst: Grid) -> np.ndarray:
    """An array on window ``src`` brought onto window ``dst`` of any nested EASE2 grid.

    Finer → coarser: mean of valid fine cells in each block; coarser → finer: each fine cell takes
    its covering coarse cell's value; cells outside ``src`` are NaN.
    """
    if src.name != dst.name:
        us, ud = GRIDS[src.name][0], GRIDS[dst.name][0]
        if us < ud:  # src finer: average into the dst grid
            coarse_src = src.coarsen(dst.name)
            aligned = coarse_src.refine(src.name)
            pad = place(array, (src.row_off, src.col_off), (aligned.row_off, aligned.col_off), aligned.shape)
            mean = block_mean(pad, coarse_src.factor_to(src.name), skip_nan=True).astype(np.float32)
            return regrid(mean, coarse_src, dst)
        return regrid(repeat_blocks(array, src.factor_to(dst.name)), src.refine(dst.name), dst)
    return place(array, (src.row_off, src.col_off), (dst.row_off, dst.col_off), dst.shape)


def resampling_method(src: Grid, dst: Grid) -> str:
    """How :func:`regrid` brings a field on ``src`` onto ``dst``, in words (for reports)."""
    if src.name == dst.name:
        return "same grid"
    if GRIDS[src.name][0] < GRIDS[dst.name][0]:
        return f"block mean of the valid {src.name} cells in each {dst.name} cell"
    return f"each {dst.name} cell takes its covering {src.name} cell (replicated)"
