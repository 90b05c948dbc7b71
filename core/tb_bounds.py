"""The physical bounds of downscaled brightness temperature (K) and the 36 km block means it must reproduce.

Downscaled TB is kept between the emission of the coldest calm open water at SMAP's 40° incidence and 340 K, with
each 9 km block's mean equal to its 36 km value (:func:`physical_tb`); a 36 km value outside the bounds (a
water-corrected TB over open water) is raised or lowered to them (:func:`bounded_tb36`). Numpy only.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np

from .blocks import block_mean
from .errors import InputError


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' warnings inside a with-block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


#: K, (V, H): the lowest emission of any natural surface seen by SMAP (40° incidence): calm open water,
#: minimised over salinity 0–40 psu and 271–305 K with the Klein–Swift permittivity and Fresnel's equations
#: (108.5 K V, 69.3 K H at 40 psu, 305 K; fresh water at 273 K gives 117.7 / 77.0 K). Rough water, land,
#: vegetation and the atmosphere only add emission; tests/test_physical_tb.py recomputes it.
TB_FLOOR = (108.0, 69.0)
TB_CEILING = 340.0  # K: above any land TB; SMAP's valid max is 330-340 K
TB_BOUNDS = (min(TB_FLOOR), TB_CEILING)  # the loosest bounds over both polarisations (for reports)


def physical_tb(fine: np.ndarray, coarse: np.ndarray | None, factor: int = 4) -> tuple[np.ndarray, int]:
    """Keep 9 km TB (bands V, H) between the open-water floor and the ceiling and, with ``coarse``, preserve
    the 36 km block means exactly.

    Each block gets the one shift s for which mean(clip(x + s)) equals its 36 km value (found by
    bisection; it exists whenever that value lies inside the bounds; a 36 km value below the floor — e.g. a
    water-corrected TB over open water — is raised to it), so detail is kept, the radiometer's mean is
    reproduced and no pixel leaves the bounds. Returns the field and how many pixels the CNN put outside the
    bounds (a sign of inputs unlike the training data, e.g. unusual coasts in real files).
    """
    c = fine.shape[0]
    if c != len(TB_FLOOR):
        raise InputError(f"physical_tb expects the two TB bands (V, H), got {c}")
    lo = np.asarray(TB_FLOOR, np.float64)
    hi = TB_CEILING
    lo_f = lo[:, None, None]
    with _quiet():
        clipped = int(np.count_nonzero((fine < lo_f) | (fine > hi)))
    if coarse is None:
        return np.where(np.isfinite(fine), np.clip(fine, lo_f, hi), np.nan).astype(np.float32), clipped
    _, h, w = coarse.shape
    b = fine.astype(np.float64).reshape(c, h, factor, w, factor)
    lo5 = lo[:, None, None, None, None]
    target = bounded_tb36(coarse)[0].astype(np.float64)[:, :, None, :, None]
    with _quiet():
        shift = target - block_mean(fine, factor, skip_nan=True)[:, :, None, :, None]  # plain mean preservation
        moved = b + shift
        hard = np.isfinite(shift) & np.any((moved < lo5) | (moved > hi), axis=(2, 4), keepdims=True)
        if hard.any():  # only blocks that would leave the bounds need the bisection
            idx = np.nonzero(hard[:, :, 0, :, 0])
            bb = b.transpose(0, 1, 3, 2, 4)[idx]  # (n, factor, factor)
            tt = target[:, :, 0, :, 0][idx][:, None, None]
            ll = lo[idx[0]][:, None, None]
            s_lo = ll - hi
            s_hi = hi - ll
            for _ in range(40):  # (hi - lo) * 2 / 2**40 < 1e-9 K
                mid = (s_lo + s_hi) / 2
                too_high = np.nanmean(np.clip(bb + mid, ll, hi), axis=(1, 2), keepdims=True) > tt
                s_hi = np.where(too_high, mid, s_hi)
                s_lo = np.where(too_high, s_lo, mid)
            sh = shift[:, :, 0, :, 0]
            sh[idx] = ((s_lo + s_hi) / 2)[:, 0, 0]
            shift = sh[:, :, None, :, None]
    shift = np.where(np.isfinite(shift), shift, 0.0)
    out = np.clip(b + shift, lo5, hi).reshape(fine.shape).astype(np.float32)
    return np.where(np.isfinite(fine), out, np.nan), clipped


def bounded_tb36(tb36: np.ndarray) -> tuple[np.ndarray, int]:
    """36 km TB (V, H) raised to the open-water floor / lowered to the ceiling — what the 9 km output's block
    means reproduce — and how many cells were outside (water-corrected TB over open water can fall below
    any natural emission)."""
    lo = np.asarray(TB_FLOOR, np.float64)[:, None, None]
    with _quiet():
        outside = int(np.count_nonzero((tb36 < lo) | (tb36 > TB_CEILING)))
    return np.where(np.isfinite(tb36), np.clip(tb36, lo, TB_CEILING), np.nan).astype(np.float32), outside


def block_mean_error(fine: np.ndarray, coarse: np.ndarray, factor: int) -> float:
    """Largest |mean of a valid fine block − its coarse value| (K), over blocks valid in both."""
    d = np.abs(block_mean(fine, factor, skip_nan=True) - coarse)
    d = d[np.isfinite(d)]
    return float(d.max()) if d.size else float("nan")
