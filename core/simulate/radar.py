"""L-band radar backscatter: Dubois (1995) soil VV, the Oh (1992) cross-pol ratio, the water-cloud canopy,
built-up surfaces; a day's 9 km σ⁰ with clutter and 3 km speckle.
"""

from __future__ import annotations

import math

import numpy as np

from .emission import FREQ_RADAR, THETA_DEG, mironov_permittivity
from .fields import _block_mean, _grf, _upsample, _weighted_block_mean
from .landscape import _IMPERVIOUS, URBAN, WATER_MASK_FRACTION, _Context
from .vegetation import _B, _CANOPY_HV_DB

KP_3KM = 0.15  # radar normalised standard deviation at 3 km, VV
KP_HV_3KM = 0.20  # and HV (lower signal)
_BUILT_DB = -6.0
_BUILT_HV_DB = -15.0

def dubois_sigma0_vv(eps_real: np.ndarray | float, rms_height_cm: np.ndarray | float,
                     theta_deg: float = THETA_DEG, freq_hz: float = FREQ_RADAR) -> np.ndarray:
    """Bare-soil VV backscatter (linear) of Dubois et al. (1995); valid for k·s ≤ 2.5, θ ≥ 30°."""
    th = math.radians(theta_deg)
    lam = 29.9792458 / (freq_hz / 1e9)  # cm
    ks = 2.0 * math.pi / lam * np.asarray(rms_height_cm, dtype=np.float64)
    return (10 ** -2.35 * math.cos(th) ** 3 / math.sin(th)
            * 10 ** (0.046 * np.asarray(eps_real) * math.tan(th))
            * (ks * math.sin(th)) ** 1.1 * lam ** 0.7)


def oh_cross_ratio(eps: np.ndarray | complex, rms_height_cm: np.ndarray | float,
                   freq_hz: float = FREQ_RADAR) -> np.ndarray:
    """Bare-soil σ⁰_HV / σ⁰_VV of Oh, Sarabandi & Ulaby (1992): 0.23 √Γ₀ (1 − e^(−ks))."""
    root = np.sqrt(np.asarray(eps, dtype=np.complex128))
    gamma0 = np.abs((1.0 - root) / (1.0 + root)) ** 2
    ks = 2.0 * math.pi * freq_hz / 29.9792458e9 * np.asarray(rms_height_cm, dtype=np.float64)
    return 0.23 * np.sqrt(gamma0) * (1.0 - np.exp(-ks))


def backscatter(sm: np.ndarray | float, clay: np.ndarray | float, vwc: np.ndarray | float = 0.0,
                rms_height_cm: np.ndarray | float = 1.0, b: np.ndarray | float = 0.10,
                canopy_db: np.ndarray | float = -15.0, impervious: np.ndarray | float = 0.0,
                liquid: np.ndarray | float = 1.0, theta_deg: float = THETA_DEG
                ) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free L-band (σ⁰_VV, σ⁰_HV), linear, of vegetated soil.

    Soil: Dubois et al. (1995) VV and the Oh et al. (1992) cross-pol ratio; canopy: water-cloud model
    σ⁰ = σ_can (1 − γ²) + γ² σ⁰_soil with two-way transmissivity γ² = exp(−2 b VWC / cos θ) and canopy
    HV 7 dB below its VV; built-up fraction at −6 dB VV, −15 dB HV.
    """
    eps = mironov_permittivity(np.asarray(sm) * np.asarray(liquid), clay)
    return _backscatter(eps, rms_height_cm, vwc, b, canopy_db, impervious, theta_deg)


def _backscatter(eps: np.ndarray, rms_height_cm, vwc, b, canopy_db, impervious=0.0,
                 theta_deg: float = THETA_DEG) -> tuple[np.ndarray, np.ndarray]:
    """(σ⁰_VV, σ⁰_HV) linear from the soil permittivity: Dubois + Oh soil under a water-cloud canopy."""
    soil_vv = dubois_sigma0_vv(eps.real, rms_height_cm, theta_deg)
    soil_hv = soil_vv * oh_cross_ratio(eps, rms_height_cm)
    g2 = np.exp(-2.0 * np.asarray(b) * np.asarray(vwc) / math.cos(math.radians(theta_deg)))
    can = 10 ** (np.asarray(canopy_db) / 10.0)
    vv = can * (1.0 - g2) + g2 * soil_vv
    hv = can * 10 ** (_CANOPY_HV_DB / 10.0) * (1.0 - g2) + g2 * soil_hv
    imp = np.asarray(impervious)
    vv = (1.0 - imp) * vv + imp * 10 ** (_BUILT_DB / 10.0)
    hv = (1.0 - imp) * hv + imp * 10 ** (_BUILT_HV_DB / 10.0)
    return vv, hv


def sigma0_vv_db(sm: np.ndarray | float, clay: np.ndarray | float, vwc: np.ndarray | float = 0.0,
                 rms_height_cm: np.ndarray | float = 1.0, b: np.ndarray | float = 0.10,
                 canopy_db: np.ndarray | float = -15.0, theta_deg: float = THETA_DEG) -> np.ndarray:
    """Noise-free L-band σ⁰_VV (dB) of vegetated soil: Dubois soil under a water-cloud canopy."""
    vv, _ = backscatter(sm, clay, vwc, rms_height_cm, b, canopy_db, theta_deg=theta_deg)
    return 10.0 * np.log10(vv)


def _radar(rng: np.random.Generator, ctx: _Context, sm: np.ndarray, liquid: np.ndarray, gap36: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """σ⁰_VV and σ⁰_HV (dB) at 9 km: fine backscatter, 3 km speckle, water-flagged 3 km cells left out
    of the 9 km aggregate (linear mean), NaN where the pass is missing or no land 3 km cell exists."""
    geo, sta = ctx.geo, ctx.sta
    c = geo.crop
    F3 = geo.F // 12
    eps = mironov_permittivity(c(sm) * c(liquid), c(sta.clay))
    vv, hv = np.zeros(eps.shape), np.zeros(eps.shape)
    for k in sta.present:
        kv, kh = _backscatter(eps, c(sta.rms_k[k]), c(sta.vwc_k[k]), _B[k], c(sta.canopy_k[k]),
                              _IMPERVIOUS if k == URBAN else 0.0)
        vv += c(sta.frac[k]) * kv
        hv += c(sta.frac[k]) * kh
    struct = 10 ** ((c(sta.clutter_db) + 0.3 * _grf(rng, vv.shape, geo.dx, 20.0, 1.0)) / 10.0)
    water_vv = 10 ** ((-26.0 + rng.uniform(-4.0, 6.0)) / 10.0)
    wf_r = 1.0 - ctx.land_r
    vv3 = _block_mean(ctx.land_r * vv * struct + wf_r * water_vv, F3)
    hv3 = _block_mean(ctx.land_r * hv * struct + wf_r * water_vv * 0.1, F3)
    vv3 = vv3 * rng.gamma(1.0 / KP_3KM ** 2, KP_3KM ** 2, vv3.shape)
    hv3 = hv3 * rng.gamma(1.0 / KP_HV_3KM ** 2, KP_HV_3KM ** 2, hv3.shape)
    ok3 = (ctx.wf3 <= WATER_MASK_FRACTION).astype(np.float64)
    gap9 = _upsample(gap36, 4)
    out = []
    for s3 in (vv3, hv3):
        m, w = _weighted_block_mean(s3, ok3, 3)
        with np.errstate(invalid="ignore", divide="ignore"):
            s9 = 10.0 * np.log10(m)
        s9[(w == 0) | gap9] = np.nan
        out.append(s9)
    return out[0], out[1]
