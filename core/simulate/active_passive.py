"""The SMAP active–passive algorithm (Das et al. 2011; L2/L3_SM_AP ATBD): β by the time-series
regression of TB_36 on σ_36, Γ by the snapshot slope of σ_VV on σ_HV, and the radar-guided 9 km TB.
"""

from __future__ import annotations

import numpy as np

from .fields import _upsample
from .landscape import WATER_MASK_FRACTION
from .series import SimulatedDay

BETA_RANGE = (-15.0, 0.0)  # K/dB
GAMMA_RANGE = (0.0, 1.5)  # dB/dB
def _cell_mean(a9: np.ndarray) -> np.ndarray:
    """Mean of the valid 9 km values of each 36 km cell (NaN where none)."""
    R, C = a9.shape[0] // 4, a9.shape[1] // 4
    b = a9.reshape(R, 4, C, 4)
    ok = np.isfinite(b)
    n = ok.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, b, 0.0).sum(axis=(1, 3)) / n


def _gamma(vv9: np.ndarray, hv9: np.ndarray) -> np.ndarray:
    """Das heterogeneity parameter Γ per 36 km cell: spatial slope of σ_VV on σ_HV (9 km, dB)."""
    R, C = vv9.shape[0] // 4, vv9.shape[1] // 4
    x = hv9.reshape(R, 4, C, 4).transpose(0, 2, 1, 3).reshape(R, C, 16)
    y = vv9.reshape(R, 4, C, 4).transpose(0, 2, 1, 3).reshape(R, C, 16)
    ok = np.isfinite(x) & np.isfinite(y)
    n = ok.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.where(ok, x, 0).sum(-1) / n
        my = np.where(ok, y, 0).sum(-1) / n
        sxx = np.where(ok, (x - mx[..., None]) ** 2, 0).sum(-1)
        sxy = np.where(ok, (x - mx[..., None]) * (y - my[..., None]), 0).sum(-1)
        g = sxy / sxx
    good = (n >= 4) & (sxx > 0.05 * np.maximum(n, 1)) & np.isfinite(g)
    g = np.clip(g, *GAMMA_RANGE)
    fallback = float(np.median(g[good])) if good.any() else 0.0
    return np.where(good, g, fallback)


def _beta(tb36: np.ndarray, sig36: np.ndarray) -> np.ndarray:
    """Das β per 36 km cell: regression slope (K/dB) of TB_36 on σ_36 over the valid days, clipped;
    the region's median where a cell has fewer than 4 days or no σ variation."""
    ok = np.isfinite(tb36) & np.isfinite(sig36)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.where(ok, sig36, 0.0).sum(0) / n
        my = np.where(ok, tb36, 0.0).sum(0) / n
        sxx = np.where(ok, (sig36 - mx) ** 2, 0.0).sum(0)
        sxy = np.where(ok, (sig36 - mx) * (tb36 - my), 0.0).sum(0)
        beta = sxy / sxx
    good = (n >= 4) & (sxx > 0.01 * np.maximum(n, 1)) & np.isfinite(beta)
    beta = np.clip(beta, *BETA_RANGE)
    fallback = float(np.median(beta[good])) if good.any() else -3.0
    return np.where(good, beta, fallback)


def _active_passive(days: list[SimulatedDay], wf9: np.ndarray) -> dict[str, np.ndarray]:
    """Fill in the radar-guided 9 km TB of every day (Das et al.); returns β per polarisation."""
    publish = wf9 <= WATER_MASK_FRACTION
    sig36, hv36 = [], []
    for d in days:
        d.sigma0_9[~publish] = np.nan  # published cells only, so that the 9 km TB average to TB_36
        d.sigma0_hv_9[~publish] = np.nan
        sig36.append(_cell_mean(d.sigma0_9))
        hv36.append(_cell_mean(d.sigma0_hv_9))
        d.gamma36 = _gamma(d.sigma0_9, d.sigma0_hv_9)
    betas = {p: _beta(np.stack([getattr(d, f"tb36_{p}") for d in days]), np.stack(sig36)) for p in ("v", "h")}
    for d, s36, h36 in zip(days, sig36, hv36, strict=True):
        term = (d.sigma0_9 - _upsample(s36, 4)) - _upsample(d.gamma36, 4) * (d.sigma0_hv_9 - _upsample(h36, 4))
        for p in ("v", "h"):
            tb = _upsample(getattr(d, f"tb36_{p}"), 4) + _upsample(betas[p], 4) * term
            tb[~np.isfinite(d.sigma0_9)] = np.nan
            setattr(d, f"tb9_radar_{p}", tb)
    return betas
