"""The SMAP active–passive algorithm (Das et al. 2011; L2/L3_SM_AP ATBD): β by the time-series
regression of TB_36 on σ_36, Γ by the snapshot slope of the co-pol σ on σ_HV, and the radar-guided 9 km TB:
TB_V with σ_VV (β_tbv_vv, Γ_vv_xpol), TB_H with σ_HH (β_tbh_hh, Γ_hh_xpol), as the product does.
"""

from __future__ import annotations

import numpy as np

from .fields import _upsample
from .landscape import WATER_MASK_FRACTION
from .series import SimulatedDay

# the valid ranges of the SPL2SMAP fields beta_tbv_vv / beta_tbh_hh (K/dB) and gamma_vv_xpol / gamma_hh_xpol
# (NSIDC, SPL2SMAP version 3 data fields); estimates outside them are clipped to them
BETA_RANGE = (-25.0, 0.0)  # K/dB
GAMMA_RANGE = (0.0, 2.0)  # dB/dB


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
    """Fill in the radar-guided 9 km TB of every day (Das et al.): TB_V from σ_VV, TB_H from σ_HH, each
    with its own β (time series of the 36 km cell) and Γ (the day's slope on σ_HV); returns β per
    polarisation."""
    publish = wf9 <= WATER_MASK_FRACTION
    co = {"v": "sigma0_9", "h": "sigma0_hh_9"}  # the co-polarised σ⁰ each TB is disaggregated with
    co36: dict[str, list[np.ndarray]] = {"v": [], "h": []}
    hv36 = []
    for d in days:
        for name in ("sigma0_9", "sigma0_hh_9", "sigma0_hv_9"):  # published cells only, so that the
            getattr(d, name)[~publish] = np.nan                    # 9 km TB average to TB_36
        for p in ("v", "h"):
            co36[p].append(_cell_mean(getattr(d, co[p])))
        hv36.append(_cell_mean(d.sigma0_hv_9))
        d.gamma36 = _gamma(d.sigma0_9, d.sigma0_hv_9)
        d.gamma36_hh = _gamma(d.sigma0_hh_9, d.sigma0_hv_9)
    betas = {p: _beta(np.stack([getattr(d, f"tb36_{p}") for d in days]), np.stack(co36[p])) for p in ("v", "h")}
    for i, d in enumerate(days):
        dhv = d.sigma0_hv_9 - _upsample(hv36[i], 4)
        for p, gamma in (("v", d.gamma36), ("h", d.gamma36_hh)):
            term = (getattr(d, co[p]) - _upsample(co36[p][i], 4)) - _upsample(gamma, 4) * dhv
            tb = _upsample(getattr(d, f"tb36_{p}"), 4) + _upsample(betas[p], 4) * term
            tb[~np.isfinite(d.sigma0_9)] = np.nan
            setattr(d, f"tb9_radar_{p}", tb)
    return betas
