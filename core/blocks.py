"""The one block rule of nested EASE-Grid 2.0 windows: block means, nearest repetition and placing a window.

On the nested grids (M36 → M09 → M03 → M01) a coarse cell is always an aligned ``factor`` x ``factor`` block of
fine cells, so moving a field between grids is one of three operations on the last two axes of an array:

- :func:`block_mean` (fine → coarse): the mean of each block, accumulated in float64, either over the finite
  values only (``skip_nan=True``: a block with some data keeps it) or over all of them (``skip_nan=False``: one NaN
  makes the block NaN, as a physical average over the whole area needs); :func:`block_mean_count` also returns
  how many values each mean used;
- :func:`repeat_blocks` (coarse → fine): each coarse value repeated over its block (the coarse observation as it
  is, no interpolation);
- :func:`place` (same grid): an array positioned on one window copied onto another window, cropped where it
  reaches outside and filled where it does not cover.

Units pass through unchanged (a mean of K is in K). Numpy only: the core, the model package and the simulator
share it.
"""

from __future__ import annotations

import numpy as np


def _blocks(a: np.ndarray, factor: int) -> np.ndarray:
    """``a`` (..., H, W) seen as (..., H/factor, factor, W/factor, factor); ValueError when not divisible."""
    factor = int(factor)
    *lead, h, w = a.shape
    if factor < 1 or h % factor or w % factor:
        raise ValueError(f"a ({h}, {w}) array does not split into blocks of {factor} x {factor}")
    return a.reshape(*lead, h // factor, factor, w // factor, factor)


def block_mean_count(a: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the finite values in each ``factor`` x ``factor`` block of the last two axes, and their number.

    Returns (float64 means with NaN where a block has no finite value, int counts), both of shape
    (..., H/factor, W/factor). The sum is accumulated in float64 whatever the input's precision."""
    ok = np.isfinite(a)
    n = _blocks(ok, factor).sum(axis=(-3, -1))
    s = _blocks(np.where(ok, a, 0.0).astype(np.float64), factor).sum(axis=(-3, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan), n


def block_mean(a: np.ndarray, factor: int, *, skip_nan: bool) -> np.ndarray:
    """Mean of each ``factor`` x ``factor`` block of the last two axes of ``a`` (..., H, W), as float64.

    ``skip_nan=True``: the mean of the block's finite values (NaN only where it has none: a swath edge or coast
    keeps the cells it has); ``skip_nan=False``: the plain mean, NaN wherever the block holds a NaN."""
    if skip_nan:
        return block_mean_count(a, factor)[0]
    return _blocks(np.asarray(a, np.float64), factor).mean(axis=(-3, -1))


def repeat_blocks(a: np.ndarray, factor: int) -> np.ndarray:
    """Each value of the last two axes of ``a`` repeated over a ``factor`` x ``factor`` block (nearest
    upsampling from a coarse grid onto a nested finer one; dtype kept)."""
    factor = int(factor)
    if factor < 1:
        raise ValueError(f"the repetition factor must be a positive integer, got {factor}")
    return np.repeat(np.repeat(a, factor, axis=-2), factor, axis=-1)


def place(a: np.ndarray, offset: tuple[int, int], dst_offset: tuple[int, int], dst_shape: tuple[int, int],
          fill: float = np.nan) -> np.ndarray:
    """``a`` (..., H, W), whose first cell lies at (row, col) ``offset`` of a grid, copied onto the window of the
    same grid starting at ``dst_offset`` with ``dst_shape`` (rows, cols): cells of ``a`` outside that window are
    cropped, cells of the window that ``a`` does not cover get ``fill``. Returns a new float32 array."""
    out = np.full((*a.shape[:-2], *dst_shape), fill, np.float32)
    r0, c0 = max(offset[0], dst_offset[0]), max(offset[1], dst_offset[1])
    r1 = min(offset[0] + a.shape[-2], dst_offset[0] + dst_shape[0])
    c1 = min(offset[1] + a.shape[-1], dst_offset[1] + dst_shape[1])
    if r1 > r0 and c1 > c0:
        out[..., r0 - dst_offset[0]:r1 - dst_offset[0], c0 - dst_offset[1]:c1 - dst_offset[1]] = \
            a[..., r0 - offset[0]:r1 - offset[0], c0 - offset[1]:c1 - offset[1]]
    return out
