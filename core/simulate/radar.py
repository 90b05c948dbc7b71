"""L-band radar backscatter: Dubois (1995) soil VV, the Oh (1992) co- and cross-pol ratios, the water-cloud
canopy with a soil–stem double-bounce term, built-up surfaces; a day's 9 km σ⁰ (VV, HV, HH) with clutter and
3 km speckle.
"""

from __future__ import annotations

import math

import numpy as np

from .emission import FREQ_RADAR, THETA_DEG, fresnel_reflectivity, mironov_permittivity
from .fields import _block_mean, _grf, _upsample, _weighted_block_mean
from .landscape import _IMPERVIOUS, URBAN, WATER_MASK_FRACTION, _Context
from .vegetation import _B, _CANOPY_HV_DB, _DOUBLE_BOUNCE

KP_3KM = 0.15  # radar normalised standard deviation at 3 km, VV
KP_HV_3KM = 0.20  # and HV (lower signal)
_BUILT_DB = -6.0
_BUILT_HV_DB = -15.0
_WATER_HH_DB = -3.0  # calm water: HH below VV at 40 degrees (Bragg scattering)


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


def oh_copol_ratio(eps: np.ndarray | complex, rms_height_cm: np.ndarray | float,
                   theta_deg: float = THETA_DEG, freq_hz: float = FREQ_RADAR) -> np.ndarray:
    """Bare-soil σ⁰_HH / σ⁰_VV of Oh, Sarabandi & Ulaby (1992): [1 − (2θ/π)^(1/(3Γ₀)) e^(−ks)]².

    Below 1 (HH under VV) on smooth soil, tending to 1 as the surface roughens (ks → ∞).
    """
    root = np.sqrt(np.asarray(eps, dtype=np.complex128))
    gamma0 = np.abs((1.0 - root) / (1.0 + root)) ** 2
    ks = 2.0 * math.pi * freq_hz / 29.9792458e9 * np.asarray(rms_height_cm, dtype=np.float64)
    return (1.0 - (2.0 * math.radians(theta_deg) / math.pi) ** (1.0 / (3.0 * gamma0)) * np.exp(-ks)) ** 2


def double_bounce(eps: np.ndarray | complex, rms_height_cm: np.ndarray | float, vwc: np.ndarray | float,
                  b: np.ndarray | float, strength: np.ndarray | float, theta_deg: float = THETA_DEG,
                  freq_hz: float = FREQ_RADAR) -> tuple[np.ndarray, np.ndarray]:
    """Soil–stem double-bounce backscatter (σ⁰_VV, σ⁰_HH), linear, of a vegetation layer over rough soil.

    σ_db,p = S · (1 − γ²) γ² · Γ_p(θ) · exp(−4 k² s² cos² θ): ``strength`` S of the class's vertical stems
    (0 for grass-free bare soil), the stem density growing with the canopy's opacity (1 − γ²) and the path
    attenuated by it (γ², two-way), the specular reflection of the soil Γ_p (Fresnel at θ; H above V at 40°,
    so HH gets more than VV) reduced by roughness (coherent loss, Kirchhoff). The form of the double-bounce
    term of discrete vegetation models (e.g. MIMICS, Ulaby et al. 1990); it makes the co-pol backscatter of
    dense vegetation rise with soil moisture, which is why β is less negative there (Jagdhuber et al. 2019).
    """
    th = math.radians(theta_deg)
    g2 = np.exp(-2.0 * np.asarray(b) * np.asarray(vwc) / math.cos(th))
    rv, rh = fresnel_reflectivity(eps, theta_deg)
    k = 2.0 * math.pi * freq_hz / 29.9792458e9  # 1/cm
    coherent = np.exp(-4.0 * k ** 2 * np.asarray(rms_height_cm, dtype=np.float64) ** 2 * math.cos(th) ** 2)
    common = np.asarray(strength) * (1.0 - g2) * g2 * coherent
    return common * rv, common * rh


def backscatter(sm: np.ndarray | float, clay: np.ndarray | float, vwc: np.ndarray | float = 0.0,
                rms_height_cm: np.ndarray | float = 1.0, b: np.ndarray | float = 0.10,
                canopy_db: np.ndarray | float = -15.0, impervious: np.ndarray | float = 0.0,
                liquid: np.ndarray | float = 1.0, theta_deg: float = THETA_DEG, stems: np.ndarray | float = 0.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise-free L-band (σ⁰_VV, σ⁰_HV, σ⁰_HH), linear, of vegetated soil.

    Soil: Dubois et al. (1995) VV with the Oh et al. (1992) cross- and co-pol ratios; canopy: water-cloud model
    σ⁰ = σ_can (1 − γ²) + γ² σ⁰_soil with two-way transmissivity γ² = exp(−2 b VWC / cos θ), canopy HV 7 dB
    below its VV and HH equal to it, plus the soil–stem double bounce of strength ``stems``
    (:func:`double_bounce`); built-up fraction at −6 dB VV and HH, −15 dB HV.
    """
    eps = mironov_permittivity(np.asarray(sm) * np.asarray(liquid), clay)
    return _backscatter(eps, rms_height_cm, vwc, b, canopy_db, impervious, theta_deg, stems)


def _backscatter(eps: np.ndarray, rms_height_cm, vwc, b, canopy_db, impervious=0.0,
                 theta_deg: float = THETA_DEG, stems=0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(σ⁰_VV, σ⁰_HV, σ⁰_HH) linear from the soil permittivity: Dubois + Oh soil under a water-cloud canopy
    with the soil–stem double bounce."""
    soil_vv = dubois_sigma0_vv(eps.real, rms_height_cm, theta_deg)
    soil_hv = soil_vv * oh_cross_ratio(eps, rms_height_cm)
    soil_hh = soil_vv * oh_copol_ratio(eps, rms_height_cm, theta_deg)
    g2 = np.exp(-2.0 * np.asarray(b) * np.asarray(vwc) / math.cos(math.radians(theta_deg)))
    can = 10 ** (np.asarray(canopy_db) / 10.0)
    db_vv, db_hh = double_bounce(eps, rms_height_cm, vwc, b, stems, theta_deg)
    vv = can * (1.0 - g2) + g2 * soil_vv + db_vv
    hv = can * 10 ** (_CANOPY_HV_DB / 10.0) * (1.0 - g2) + g2 * soil_hv
    hh = can * (1.0 - g2) + g2 * soil_hh + db_hh
    imp = np.asarray(impervious)
    vv = (1.0 - imp) * vv + imp * 10 ** (_BUILT_DB / 10.0)
    hv = (1.0 - imp) * hv + imp * 10 ** (_BUILT_HV_DB / 10.0)
    hh = (1.0 - imp) * hh + imp * 10 ** (_BUILT_DB / 10.0)
    return vv, hv, hh


def sigma0_vv_db(sm: np.ndarray | float, clay: np.ndarray | float, vwc: np.ndarray | float = 0.0,
                 rms_height_cm: np.ndarray | float = 1.0, b: np.ndarray | float = 0.10,
                 canopy_db: np.ndarray | float = -15.0, theta_deg: float = THETA_DEG) -> np.ndarray:
    """Noise-free L-band σ⁰_VV (dB) of vegetated soil: Dubois soil under a water-cloud canopy."""
    vv, _, _ = backscatter(sm, clay, vwc, rms_height_cm, b, canopy_db, theta_deg=theta_deg)
    return 10.0 * np.log10(vv)


def _radar(rng: np.random.Generator, ctx: _Context, sm: np.ndarray, liquid: np.ndarray, gap36: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """σ⁰_VV, σ⁰_HV and σ⁰_HH (dB) at 9 km: fine backscatter, 3 km speckle, water-flagged 3 km cells left
    out of the 9 km aggregate (linear mean), NaN where the pass is missing or no land 3 km cell exists."""
    geo, sta = ctx.geo, ctx.sta
    c = geo.crop
    F3 = geo.F // 12
    eps = mironov_permittivity(c(sm) * c(liquid), c(sta.clay))
    vv, hv, hh = np.zeros(eps.shape), np.zeros(eps.shape), np.zeros(eps.shape)
    for k in sta.present:
        kv, kx, kh = _backscatter(eps, c(sta.rms_k[k]), c(sta.vwc_k[k]), _B[k], c(sta.canopy_k[k]),
                                  _IMPERVIOUS if k == URBAN else 0.0, stems=_DOUBLE_BOUNCE[k])
        vv += c(sta.frac[k]) * kv
        hv += c(sta.frac[k]) * kx
        hh += c(sta.frac[k]) * kh
    struct = 10 ** ((c(sta.clutter_db) + 0.3 * _grf(rng, vv.shape, geo.dx, 20.0, 1.0)) / 10.0)
    water_vv = 10 ** ((-26.0 + rng.uniform(-4.0, 6.0)) / 10.0)
    wf_r = 1.0 - ctx.land_r
    vv3 = _block_mean(ctx.land_r * vv * struct + wf_r * water_vv, F3)
    hv3 = _block_mean(ctx.land_r * hv * struct + wf_r * water_vv * 0.1, F3)
    hh3 = _block_mean(ctx.land_r * hh * struct + wf_r * water_vv * 10 ** (_WATER_HH_DB / 10.0), F3)
    vv3 = vv3 * rng.gamma(1.0 / KP_3KM ** 2, KP_3KM ** 2, vv3.shape)
    hv3 = hv3 * rng.gamma(1.0 / KP_HV_3KM ** 2, KP_HV_3KM ** 2, hv3.shape)
    hh3 = hh3 * rng.gamma(1.0 / KP_3KM ** 2, KP_3KM ** 2, hh3.shape)
    ok3 = (ctx.wf3 <= WATER_MASK_FRACTION).astype(np.float64)
    gap9 = _upsample(gap36, 4)
    out = []
    for s3 in (vv3, hv3, hh3):
        m, w = _weighted_block_mean(s3, ok3, 3)
        with np.errstate(invalid="ignore", divide="ignore"):
            s9 = 10.0 * np.log10(m)
        s9[(w == 0) | gap9] = np.nan
        out.append(s9)
    return out[0], out[1], out[2]
