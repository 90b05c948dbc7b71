"""Running a trained network on rasters, tile by tile, plus the bicubic and mean-preserving helpers.

Tiling is exact: a tile is computed on its window grown by ``halo`` pixels of real neighbours, clipped to
the image. Where the window meets the image border the network's own zero padding applies, exactly as in
a whole-image run; elsewhere the halo (>= the receptive radius) hides the tile's artificial edges. So the
tiled result equals the untiled one to float rounding, and memory stays bounded by one tile.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np
import torch
from torch.nn.functional import interpolate

from ..core.blocks import repeat_blocks
from ..core.errors import InputError
from ..core.feedback import SILENT, Feedback
from .card import ModelCard
from .network import DownscaleCNN, resolve_device, use_all_cores

__all__ = ["predict_tiled", "resolve_device", "upsample", "upsample_bicubic", "normalise", "fixed_threads",
           "plan_tiles"]

_FIXED = {"depth": 0, "before": 0}
_FIXED_LOCK = threading.Lock()


@contextlib.contextmanager
def fixed_threads(n: int) -> Iterator[None]:
    """Run CPU inference inside with exactly ``n`` torch threads (the process-wide setting; restored after).

    Without it :func:`predict_tiled` takes every core. The thread count can change convolution results at the
    float-rounding level (about 1e-5 K for TB), so jobs that must give the same bits however they are scheduled
    (archive runs on 1 or many Dask workers or threads) fix it. Re-entrant across threads (every entrant sets
    the count: under OpenMP it is also per thread); the count before the first entrant is restored when the
    last one leaves.
    """
    n = int(n)
    if n < 1:
        raise InputError(f"the number of torch threads must be at least 1, got {n}")
    with _FIXED_LOCK:
        if _FIXED["depth"] == 0:
            _FIXED["before"] = torch.get_num_threads()
        # in every entering thread: with OpenMP the count is also a per-thread setting
        torch.set_num_threads(n)
        _FIXED["depth"] += 1
    try:
        yield
    finally:
        with _FIXED_LOCK:
            _FIXED["depth"] -= 1
            if _FIXED["depth"] == 0:
                torch.set_num_threads(_FIXED["before"])


def normalise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(x - mean) / std per band of a (C, ...) array, NaN filled with 0 (the band's mean), float32."""
    shape = (-1,) + (1,) * (x.ndim - 1)
    out = (x.astype(np.float32) - mean.reshape(shape)) / std.reshape(shape)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32, copy=False)


def predict_tiled(
    model: DownscaleCNN,
    card: ModelCard,
    inputs: np.ndarray,
    tile: int = 256,
    halo: int | None = None,
    device: str = "auto",
    feedback: Feedback | None = None,
    valid_mask: np.ndarray | None = None,
    bf16: bool = False,
    origin: tuple[int, int] = (0, 0),
    shrink: bool = False,
) -> np.ndarray:
    """Apply the network to a (C_in, H, W) float32 raster (NaN = invalid); return (C_out, H, W) float32.

    Inputs are normalised with the card's statistics and NaN is filled with 0 (the band mean). Output is
    NaN wherever one of the card's ``mask_channels`` inputs (default: the first ``out_channels`` bands,
    the residual ones) is NaN or ``valid_mask`` (H, W, bool) is False; only tiles with valid pixels are
    computed, each shrunk to them and split around coasts and swath edges (:func:`plan_tiles`). ``halo``
    defaults to ``model.receptive_radius + 1``; a smaller halo than the radius makes tile seams visible.
    ``bf16`` runs under bfloat16 autocast (~2.5-5x faster on CPUs with AMX/AVX512-BF16; the residual skip
    stays fp32; measured difference from fp32 on the default net: ~1e-4 rms, 4e-4 max of the band std, i.e.
    < 0.01 K for TB). The model is returned to its device and mode afterwards. Progress is reported per
    cell of the ``tile`` grid and cancelling raises
    :class:`~smapdown.core.errors.Canceled`. ``origin`` is the (row, col) of ``inputs[:, 0, 0]`` in the
    region of a location-specific model (ignored by other models). ``shrink`` runs each layer only where
    the outputs still need it (:func:`_forward_shrinking`: the same numbers for ~15 % fewer FLOPs at 256 px
    tiles, but slower in wall time on the CPU measured, so off by default: see bench/RESULTS-scale.md).
    """
    fb = feedback or SILENT
    if not isinstance(card, ModelCard):
        raise TypeError(f"predict_tiled needs the model's ModelCard, got {type(card).__name__}")
    x = np.asarray(inputs)
    valid_mask, tile, halo = _check_call(model, card, x, valid_mask, tile, halo, fb)
    in_mean, in_std, out_mean, out_std = card.stats()
    dev = resolve_device(device)
    if dev.type == "cpu" and not _FIXED["depth"]:
        use_all_cores()
    H, W = x.shape[1:]
    out = np.full((model.out_channels, H, W), np.nan, dtype=np.float32)
    valid = np.all(np.isfinite(x[card.valid_channels]), axis=0)
    if valid_mask is not None:
        valid &= valid_mask
    cells = plan_cells(valid, tile, halo)
    with _evaluating_on(model, dev), torch.inference_mode():
        for i, cell in enumerate(cells):
            for r0, r1, c0, c1 in cell:
                fb.check()
                y = _run_tile(model, x, (r0, r1, c0, c1), halo, dev, (in_mean, in_std), origin, bf16, shrink)
                y = y * out_std[:, None, None] + out_mean[:, None, None]
                y[:, ~valid[r0:r1, c0:c1]] = np.nan
                out[:, r0:r1, c0:c1] = y
            fb.progress(100.0 * (i + 1) / len(cells))
    return out


@contextlib.contextmanager
def _evaluating_on(model: DownscaleCNN, dev: torch.device) -> Iterator[None]:
    """``model`` in eval mode on ``dev`` inside; its device and mode as they were afterwards."""
    old_device, was_training = next(model.parameters()).device, model.training
    if old_device != dev:
        model.to(dev)
    model.eval()
    try:
        yield
    finally:
        if old_device != dev:
            model.to(old_device)
        model.train(was_training)


def _check_call(model: DownscaleCNN, card: ModelCard, x: np.ndarray, valid_mask: np.ndarray | None, tile: int,
                halo: int | None, fb: Feedback) -> tuple[np.ndarray | None, int, int]:
    """:func:`predict_tiled`'s arguments checked (InputError naming the problem): (valid mask, tile, halo)."""
    if not card.describes(model.config):
        raise InputError(f"The model card describes {card.architecture['kwargs']}, not this network "
                         f"({model.config}).")
    n_in = model.in_channels
    if x.ndim != 3 or x.shape[0] != n_in:
        raise InputError(f"The model expects a ({n_in}, rows, cols) input stack "
                         f"({', '.join(card.input_names)}), got shape {x.shape}.")
    _, H, W = x.shape
    if valid_mask is not None:
        valid_mask = np.asarray(valid_mask, dtype=bool)
        if valid_mask.shape != (H, W):
            raise InputError(f"The valid mask has shape {valid_mask.shape}, the inputs ({H}, {W}).")
    tile = int(tile)
    if tile < 1:
        raise InputError(f"The tile size must be a positive number of pixels, got {tile}.")
    halo = model.receptive_radius + 1 if halo is None else int(halo)
    if halo < 0:
        raise InputError(f"The tile halo must be >= 0 pixels, got {halo}.")
    if halo < model.receptive_radius and tile < max(H, W):
        fb.info(f"Tile halo {halo} px is below the network's reach ({model.receptive_radius} px): "
                "tile seams will show.")
    return valid_mask, tile, halo


def _run_tile(model: DownscaleCNN, x: np.ndarray, box: tuple[int, int, int, int], halo: int, dev: torch.device,
              stats: tuple[np.ndarray, np.ndarray], origin: tuple[int, int], bf16: bool, shrink: bool) -> np.ndarray:
    """The normalised network output (C_out, r1 - r0, c1 - c0) on the tile ``box`` = (r0, r1, c0, c1) of ``x``,
    computed on the tile grown by ``halo`` real pixels (clipped to the image)."""
    r0, r1, c0, c1 = box
    H, W = x.shape[1:]
    er0, ec0 = max(0, r0 - halo), max(0, c0 - halo)
    er1, ec1 = min(H, r1 + halo), min(W, c1 + halo)
    xn = normalise(x[:, er0:er1, ec0:ec1], *stats)
    # channels_last (NHWC) input is oneDNN's fast layout; the weights are left as they are (no conversion
    # there and back on every call, and a model shared by several threads is never changed under them)
    t = torch.from_numpy(xn)[None].to(dev).contiguous(memory_format=torch.channels_last)
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bool(bf16)):
        shrinking = bool(shrink) and halo >= model.receptive_radius
        if (shrinking or (bf16 and (FP32_FIRST or FP32_HEAD))) and _shrinkable(model):
            border = (er0 == 0, er1 == H, ec0 == 0, ec1 == W) if shrinking else (True,) * 4
            y, (g0, g1) = _forward_shrinking(model, t, border, (origin[0] + er0, origin[1] + ec0))
            y = y[0, :, r0 - er0 - g0:r1 - er0 - g0, c0 - ec0 - g1:c1 - ec0 - g1]
        else:
            y = model(t, (origin[0] + er0, origin[1] + ec0)) if model.location is not None else model(t)
            y = y[0, :, r0 - er0:r1 - er0, c0 - ec0:c1 - ec0]
    return y.float().cpu().numpy()


FP32_FIRST = True
"""Under bf16, run the first layer in fp32 (2 bands in: 0.3 % of the FLOPs): the bf16-vs-fp32 error of the bundled
TB net on a continent falls from 0.034 to 0.027 K rms (max 0.30 -> 0.23 K) at no measurable cost."""
FP32_HEAD = False
"""Also the output conv in fp32: measured 0.0335 -> 0.0333 K rms for ~30 % more time, so off."""


def _shrinkable(model: DownscaleCNN) -> bool:
    """Whether the layers are the poster's dual convolutions that :func:`_forward_shrinking` knows, and no
    hook waits for ``model.forward`` to run (a hooked model is run through its own forward)."""
    from .network import DualConv

    if model._forward_hooks or model._forward_pre_hooks:
        return False
    return all(isinstance(layer, DualConv) for block in model.body for layer in block)


def _forward_shrinking(model: DownscaleCNN, t: torch.Tensor, border: tuple[bool, bool, bool, bool],
                       origin: tuple[int, int]) -> tuple[torch.Tensor, tuple[int, int]]:
    """``model(t)`` computed layer by layer only where the final output still depends on it.

    ``t`` is a window of the image with a halo; ``border`` says which of its sides (top, bottom, left, right)
    is the image's edge (all four True: every layer padded as in ``model.forward``, nothing shrinks; this is
    how bf16 runs keep the first layer and the output conv in fp32). Each layer's convolutions run unpadded,
    so its output loses its reach (2 px for the dual 3x3 / dilated 3x3 layer, 1 px for the output conv) on
    every side inside the image, while on the image's edges the zero padding of the network is kept exactly. A
    window with a 16 px halo thus computes each layer on a shrinking region (on average ~8 px of halo instead of
    16) and every output pixel of the final region is the same function of the inputs as in ``model.forward``.
    Returns the output on the final region and that region's (row, col) offset in the window.
    """
    from torch.nn import functional as nnf

    def pad(a: torch.Tensor, reach: int) -> torch.Tensor:
        top, bottom, left, right = (reach if b else 0 for b in border)
        return nnf.pad(a, (left, right, top, bottom)) if reach and any(border) else a

    layers = [layer for block in model.body for layer in block]
    whole = all(border)  # nothing shrinks: the layers' own padding does it (no copies)
    a = t
    for i, layer in enumerate(layers):
        r = max(1, int(layer.dilated.dilation[0]))
        # under bf16 autocast the first layer (2 bands in: 0.3 % of the FLOPs) stays fp32 (FP32_FIRST)
        with torch.autocast(a.device.type, enabled=False) if i == 0 and FP32_FIRST else contextlib.nullcontext():
            if whole:
                yd, yc = layer.dilated(a), layer.conv(a)
            else:
                a = pad(a, r)
                yd = nnf.conv2d(a, layer.dilated.weight, layer.dilated.bias, dilation=layer.dilated.dilation)
                yc = nnf.conv2d(a, layer.conv.weight, layer.conv.bias)
        k = r - 1
        if k and not whole:
            yc = yc[:, :, k:yc.shape[2] - k, k:yc.shape[3] - k]
        a = torch.relu(torch.cat([yc, yd], dim=1))
    # the output conv (2 bands out, 0.3 %) too when FP32_HEAD
    with torch.autocast(a.device.type, enabled=False) if FP32_HEAD else contextlib.nullcontext():
        b = a.float() if FP32_HEAD else a
        y = model.head(b) if whole else nnf.conv2d(pad(b, 1), model.head.weight, model.head.bias)
    R = model.receptive_radius
    g0, g1 = (0 if border[0] else R), (0 if border[2] else R)
    h, w = y.shape[2], y.shape[3]
    if model.location is not None:
        y = y + model.location_crop([(origin[0] + g0, origin[1] + g1)], h, w).to(y.dtype)
    if model.residual:  # in the wider dtype, as DownscaleCNN.forward: the skip stays fp32 under autocast
        skip = t[:, :model.out_channels, g0:g0 + h, g1:g1 + w]
        dtype = torch.promote_types(y.dtype, skip.dtype)
        y = y.to(dtype) + skip.to(dtype)
    return y, (g0, g1)


MIN_TILE = 32
"""Smallest tile side (px) :func:`plan_tiles` splits down to: below it the halo costs more than it saves."""
TILE_QUANTUM = 16
"""Tile sides are rounded up to a multiple of this, so a global day runs few distinct shapes (oneDNN makes a
kernel per shape)."""
CALL_COST_PX = 48 * 48
"""The fixed cost of one network call, in pixels of work, weighed against the pixels a split saves."""


def plan_tiles(valid: np.ndarray, tile: int, halo: int, min_tile: int = MIN_TILE) -> list[tuple[int, int, int, int]]:
    """Every tile of :func:`plan_cells`, in order."""
    return [t for cell in plan_cells(valid, tile, halo, min_tile) for t in cell]


def plan_cells(valid: np.ndarray, tile: int, halo: int, min_tile: int = MIN_TILE
               ) -> list[list[tuple[int, int, int, int]]]:
    """Per cell of the ``tile`` grid (row by row), disjoint tiles (row0, row1, col0, col1) covering every True
    pixel of ``valid``, chosen to compute little
    beyond the valid pixels: each ``tile`` x ``tile`` cell of the grid is shrunk to the bounding box of its
    valid pixels, and split into quarters (recursively, down to ``min_tile``) wherever the quarters with
    valid pixels, each with its ``halo``, cost fewer pixels than the cell (coasts, swath edges, islands).
    Cells without a valid pixel give no tile. The output of a tile does not depend on its extent (the halo
    hides its edges), so this only changes how much is computed."""
    H, W = valid.shape

    def box(r0: int, r1: int, c0: int, c1: int) -> tuple[int, int, int, int] | None:
        sub = valid[r0:r1, c0:c1]
        rows, cols = np.flatnonzero(sub.any(axis=1)), np.flatnonzero(sub.any(axis=0))
        if rows.size == 0:
            return None
        b0, b1, d0, d1 = r0 + int(rows[0]), r0 + int(rows[-1]) + 1, c0 + int(cols[0]), c0 + int(cols[-1]) + 1
        q = TILE_QUANTUM  # round the size up (towards the cell's far edge, then its near one)
        h, w = -(-(b1 - b0) // q) * q, -(-(d1 - d0) // q) * q
        b1, d1 = min(r1, b0 + h), min(c1, d0 + w)
        b0, d0 = max(r0, b1 - h), max(c0, d1 - w)
        return b0, b1, d0, d1

    def cost(t: tuple[int, int, int, int]) -> int:
        r0, r1, c0, c1 = t
        return ((min(H, r1 + halo) - max(0, r0 - halo)) * (min(W, c1 + halo) - max(0, c0 - halo))
                + CALL_COST_PX)

    def plan(t: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
        r0, r1, c0, c1 = t
        if r1 - r0 < 2 * min_tile and c1 - c0 < 2 * min_tile:
            return [t]
        rm = r0 + max(min_tile, (r1 - r0) // 2) if r1 - r0 >= 2 * min_tile else r1
        cm = c0 + max(min_tile, (c1 - c0) // 2) if c1 - c0 >= 2 * min_tile else c1
        parts = [b for q in ((r0, rm, c0, cm), (r0, rm, cm, c1), (rm, r1, c0, cm), (rm, r1, cm, c1))
                 if q[0] < q[1] and q[2] < q[3] and (b := box(*q)) is not None]
        if parts and sum(cost(p) for p in parts) < cost(t):
            return [s for p in parts for s in plan(p)]
        return [t]

    cells: list[list[tuple[int, int, int, int]]] = []
    for r in range(0, H, tile):
        for c in range(0, W, tile):
            b = box(r, min(r + tile, H), c, min(c + tile, W))
            cells.append(plan(b) if b is not None else [])
    return cells


def _fill_nan(a: np.ndarray, rings: int) -> np.ndarray:
    """Fill NaN cells of a (C, h, w) float64 array from valid 8-neighbours, ``rings`` rings deep.

    Cells further than ``rings`` from any valid cell get the band mean (0 for an all-NaN band); they
    only feed outputs that are set to NaN anyway.
    """
    a = a.copy()
    for _ in range(rings):
        nan = np.isnan(a)
        if not nan.any():
            break
        p = np.pad(a, ((0, 0), (1, 1), (1, 1)), constant_values=np.nan)
        h, w = a.shape[1:]
        total = np.zeros_like(a)
        count = np.zeros_like(a)
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                if dr == dc == 1:
                    continue
                v = p[:, dr:dr + h, dc:dc + w]
                ok = np.isfinite(v)
                total += np.where(ok, v, 0.0)
                count += ok
        fill = nan & (count > 0)
        a[fill] = total[fill] / count[fill]
    nan = np.isnan(a)
    if nan.any():
        with np.errstate(invalid="ignore"):
            means = np.array([np.nanmean(b) if np.isfinite(b).any() else 0.0 for b in a])
        a = np.where(nan, means[:, None, None], a)
    return a


UPSAMPLING = ("bicubic", "nearest")


def upsample(coarse: np.ndarray, factor: int, method: str = "bicubic") -> np.ndarray:
    """(C, h, w) → (C, h*factor, w*factor) float32 by ``method``: 'bicubic' (:func:`upsample_bicubic`) or
    'nearest' (each coarse cell's value repeated over its block: the 36 km observation as it is)."""
    if method == "bicubic":
        return upsample_bicubic(coarse, factor)
    if method == "nearest":
        a = np.asarray(coarse, dtype=np.float32)
        return repeat_blocks(a, int(factor))
    raise InputError(f"unknown upsampling {method!r}; known: {', '.join(UPSAMPLING)}")


def upsample_bicubic(coarse: np.ndarray, factor: int) -> np.ndarray:
    """Bicubic upsampling of a (C, h, w) or (h, w) float raster by an integer factor, NaN-aware.

    NaN cells are first filled from their valid neighbours (so a coast does not spread NaN over the
    land cells next to it), then torch's bicubic (``align_corners=False``: cell centres stay cell
    centres, as on nested EASE grids) runs in float64; output pixels whose covering coarse cell is NaN
    are NaN again. Returns float32 of shape (C, h*factor, w*factor) (or 2-D for a 2-D input).
    """
    factor = int(factor)
    if factor < 1:
        raise InputError(f"The upsampling factor must be a positive integer, got {factor}.")
    a = np.asarray(coarse, dtype=np.float64)
    two_d = a.ndim == 2
    if two_d:
        a = a[None]
    if a.ndim != 3:
        raise InputError(f"upsample_bicubic expects a (bands, rows, cols) array, got shape {a.shape}.")
    nan = ~np.isfinite(a)
    filled = _fill_nan(np.where(nan, np.nan, a), rings=3)
    c, h, w = a.shape
    if factor == 1:
        up = filled.copy()
    else:
        t = torch.from_numpy(filled)[None]
        up = interpolate(t, size=(h * factor, w * factor), mode="bicubic", align_corners=False)[0].numpy()
    up[repeat_blocks(nan, factor)] = np.nan
    up = up.astype(np.float32)
    return up[0] if two_d else up
