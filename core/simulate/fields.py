"""Random fields and small array helpers of the simulator: Matérn-like Gaussian random fields by FFT
filtering, block means and repeats between nested grids, soft bounds, linear interpolation matrices.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..blocks import block_mean, repeat_blocks


# --- random fields and small array helpers -------------------------------------------------------------
def _fast_len(n: int) -> int:
    """The smallest 2·3·5-smooth integer ≥ n (fast FFT sizes)."""
    m = max(int(n), 1)
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


@functools.lru_cache(maxsize=32)
def _filter(ny: int, nx: int, dx_km: float, length_km: float, nu: float) -> np.ndarray:
    """rfft2 amplitude filter of a Matérn-like field (unit variance, correlation length ``length_km``)."""
    ky = np.fft.fftfreq(ny, d=dx_km)[:, None]
    kx_full = np.fft.fftfreq(nx, d=dx_km)[None, :]
    s_full = (1.0 + (2.0 * math.pi * length_km) ** 2 * (ky ** 2 + kx_full ** 2)) ** (-(nu + 1.0))
    norm = math.sqrt(float(s_full.mean()))
    kx = np.fft.rfftfreq(nx, d=dx_km)[None, :]
    s = (1.0 + (2.0 * math.pi * length_km) ** 2 * (ky ** 2 + kx ** 2)) ** (-(nu + 1.0))
    return np.sqrt(s) / norm


def _grf(rng: np.random.Generator, shape: tuple[int, int], dx_km: float, length_km: float,
         nu: float = 0.5) -> np.ndarray:
    """A zero-mean, unit-variance Gaussian random field by FFT filtering of white noise.

    ν = 0.5 gives an exponential covariance exp(−r/L) (rough, like soil moisture); larger ν smoother.
    The field is drawn on a grid extended by 2.5 L and cropped, so its periodicity does not show.
    """
    ny, nx = shape
    margin = int(math.ceil(2.5 * length_km / dx_km))
    NY, NX = _fast_len(ny + margin), _fast_len(nx + margin)
    white = rng.standard_normal((NY, NX))
    h = _filter(NY, NX, round(dx_km, 6), round(length_km, 3), nu)
    return np.fft.irfft2(np.fft.rfft2(white) * h, s=(NY, NX))[:ny, :nx]


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """The area mean over f x f blocks: core.blocks' rule (a NaN makes its block NaN; the simulated fields have
    no gaps)."""
    return block_mean(a, f, skip_nan=False)


def _weighted_block_mean(a: np.ndarray, w: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted block mean of ``a`` with weights ``w`` and the block mean of the weights."""
    ws = _block_mean(w, f)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = _block_mean(a * w, f) / ws
    return m, ws


def _upsample(a: np.ndarray, f: int) -> np.ndarray:
    """Nearest-neighbour repeat by f along both axes (core.blocks.repeat_blocks)."""
    return repeat_blocks(a, f)


def _soft_bound(x: np.ndarray, lo: float, hi: np.ndarray | float, m: float = 0.03) -> np.ndarray:
    """Bound x to (lo, hi) with exponential shoulders of width m (no flat clipped plateaus)."""
    hi = np.asarray(hi)
    out = np.array(x, dtype=np.float64, copy=True)
    top = out > hi - m
    out = np.where(top, hi - m * np.exp(-(out - (hi - m)) / m), out)
    bot = out < lo + m
    return np.where(bot, lo + m * np.exp((out - (lo + m)) / m), out)


def _linear_interp_matrix(n_out: int, n_in: int, f: float, off: float) -> np.ndarray:
    """Rows: linear-interpolation weights taking n_in coarse cells to n_out cells f times smaller.

    Output cell i (centre (i + 0.5)/f coarse units after shifting by ``off`` coarse cells) draws on the
    two nearest coarse centres; clamped at the ends.
    """
    pos = (np.arange(n_out) + 0.5) / f + off - 0.5
    pos = np.clip(pos, 0.0, n_in - 1.0)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, n_in - 1)
    t = pos - i0
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), i0] += 1.0 - t
    m[np.arange(n_out), i1] += t
    return m
