"""Dielectric and emission physics at L-band: Mironov (2009) soil and Klein–Swift (1977) water permittivity,
Fresnel reflectivities at 40°, the h·cos²θ roughness and the tau–omega model (SMAP L2_SM_P ATBD); a day's
fine-scale TB of land, lakes and sea.
"""

from __future__ import annotations

import math

import numpy as np

from .fields import _weighted_block_mean
from .landscape import _IMPERVIOUS, URBAN, _Context
from .vegetation import _B, _OMEGA
from .weather import _Temperatures

THETA_DEG = 40.0  # SMAP incidence angle
FREQ_RADIOMETER = 1.41e9  # Hz
FREQ_RADAR = 1.26e9  # Hz
EPS0 = 8.854187817e-12  # F/m
_EPS_IMPERVIOUS = 5.5 - 0.3j
_EPS_ICE = 3.2 - 0.003j
# --- physics ----------------------------------------------------------------------------------------
def mironov_permittivity(sm: np.ndarray | float, clay: np.ndarray | float,
                         freq_hz: float = FREQ_RADIOMETER) -> np.ndarray:
    """Complex soil permittivity ε' − jε'' (Mironov et al. 2009, GRMDM) from moisture and clay fraction.

    ``sm`` in m³/m³, ``clay`` as a fraction 0–1. Bound water fills up to m_vt, free water beyond it;
    refractive indices mix linearly in moisture (Mironov et al. 2009, eqs. 11–13 and 17–25).
    """
    sm = np.asarray(sm, dtype=np.float64)
    c = np.asarray(clay, dtype=np.float64) * 100.0  # percent
    nd = 1.634 - 0.539e-2 * c + 0.2748e-4 * c ** 2
    kd = 0.03952 - 0.04038e-2 * c
    mvt = 0.02863 + 0.30673e-2 * c
    e0b = 79.8 - 85.4e-2 * c + 32.7e-4 * c ** 2
    taub = 1.062e-11 + 3.450e-12 * 1e-2 * c
    sigb = 0.3112 + 0.467e-2 * c
    sigu = 0.3631 + 1.217e-2 * c
    e0u, tauu, einf = 100.0, 8.5e-12, 4.9
    w = 2.0 * math.pi * freq_hz

    def index(e0, tau, sig):
        """Refractive index n and extinction k of a Debye water with conductivity."""
        x = w * tau
        er = einf + (e0 - einf) / (1.0 + x ** 2)
        ei = (e0 - einf) * x / (1.0 + x ** 2) + sig / (w * EPS0)
        mod = np.sqrt(er ** 2 + ei ** 2)
        return np.sqrt((mod + er) / 2.0), np.sqrt((mod - er) / 2.0)

    nb, kb = index(e0b, taub, sigb)
    nu, ku = index(e0u, tauu, sigu)
    bound = np.minimum(sm, mvt)
    free = np.maximum(sm - mvt, 0.0)
    n = nd + (nb - 1.0) * bound + (nu - 1.0) * free
    k = kd + kb * bound + ku * free
    return (n ** 2 - k ** 2) - 1j * (2.0 * n * k)


def water_permittivity(temp_k: np.ndarray | float, salinity_psu: float = 0.5,
                       freq_hz: float = FREQ_RADIOMETER) -> np.ndarray:
    """Complex permittivity ε' − jε'' of (saline) water, Klein & Swift (1977)."""
    t = np.asarray(temp_k, dtype=np.float64) - 273.15
    s = float(salinity_psu)
    es = (87.134 - 1.949e-1 * t - 1.276e-2 * t ** 2 + 2.491e-4 * t ** 3) * (
        1.0 + 1.613e-5 * s * t - 3.656e-3 * s + 3.210e-5 * s ** 2 - 4.232e-7 * s ** 3)
    tau = (1.768e-11 - 6.086e-13 * t + 1.104e-14 * t ** 2 - 8.111e-17 * t ** 3) * (
        1.0 + 2.282e-5 * s * t - 7.638e-4 * s - 7.760e-6 * s ** 2 + 1.105e-8 * s ** 3)
    d = 25.0 - t
    alpha = (2.033e-2 + 1.266e-4 * d + 2.464e-6 * d ** 2
             - s * (1.849e-5 - 2.551e-7 * d + 2.551e-8 * d ** 2))
    sigma = s * (0.182521 - 1.46192e-3 * s + 2.09324e-5 * s ** 2 - 1.28205e-7 * s ** 3) * np.exp(-d * alpha)
    w = 2.0 * math.pi * freq_hz
    einf = 4.9
    debye = (es - einf) / (1.0 + 1j * w * tau)  # = (es - einf)(1 - jωτ)/(1 + (ωτ)²)
    return einf + debye - 1j * sigma / (w * EPS0)


def fresnel_reflectivity(eps: np.ndarray | complex, theta_deg: float = THETA_DEG
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Smooth-surface power reflectivities (r_V, r_H) of a half-space of permittivity ``eps``."""
    th = math.radians(theta_deg)
    c, s2 = math.cos(th), math.sin(th) ** 2
    eps = np.asarray(eps, dtype=np.complex128)
    root = np.sqrt(eps - s2)
    rh = np.abs((c - root) / (c + root)) ** 2
    rv = np.abs((eps * c - root) / (eps * c + root)) ** 2
    return rv, rh


def land_emissivity(sm: np.ndarray | float, clay: np.ndarray | float, vwc: np.ndarray | float = 0.0,
                    h: np.ndarray | float = 0.15, b: np.ndarray | float = 0.10,
                    omega: np.ndarray | float = 0.05, theta_deg: float = THETA_DEG,
                    impervious: np.ndarray | float = 0.0, liquid: np.ndarray | float = 1.0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Effective emissivities (e_V, e_H) of rough vegetated soil: TB_p = T · e_p when soil and canopy
    share one temperature (tau–omega model, zero order, as the SMAP baseline algorithm).

    ``impervious`` is the fraction of the cell sealed by buildings and roads; ``liquid`` the fraction of
    the soil water that is not frozen.
    """
    eps = mironov_permittivity(np.asarray(sm) * np.asarray(liquid), clay)
    rv0, rh0 = fresnel_reflectivity(eps, theta_deg)
    return _emissivity(rv0, rh0, vwc, h, b, omega, impervious, theta_deg)


def _emissivity(rv0: np.ndarray, rh0: np.ndarray, vwc, h, b, omega, impervious=0.0,
                theta_deg: float = THETA_DEG) -> tuple[np.ndarray, np.ndarray]:
    """Tau–omega emissivities from the smooth-soil reflectivities (roughness, urban sealing, canopy)."""
    th = math.radians(theta_deg)
    cos2 = math.cos(th) ** 2
    rough = np.exp(-np.asarray(h) * cos2)
    rv, rh = rv0 * rough, rh0 * rough
    imp = np.asarray(impervious, dtype=np.float64)
    if np.any(imp > 0):
        iv, ih = fresnel_reflectivity(_EPS_IMPERVIOUS, theta_deg)
        irough = math.exp(-0.3 * cos2)
        rv = (1.0 - imp) * rv + imp * iv * irough
        rh = (1.0 - imp) * rh + imp * ih * irough
    gamma = np.exp(-np.asarray(b) * np.asarray(vwc) / math.cos(th))
    om = np.asarray(omega)

    def tau_omega(r):
        """(1 − r)γ + (1 − ω)(1 − γ)(1 + rγ)."""
        return (1.0 - r) * gamma + (1.0 - om) * (1.0 - gamma) * (1.0 + r * gamma)

    return tau_omega(rv), tau_omega(rh)


def land_tb(sm: np.ndarray | float, clay: np.ndarray | float, ts: np.ndarray | float,
            vwc: np.ndarray | float = 0.0, h: np.ndarray | float = 0.15, b: np.ndarray | float = 0.10,
            omega: np.ndarray | float = 0.05, theta_deg: float = THETA_DEG
            ) -> tuple[np.ndarray, np.ndarray]:
    """Brightness temperatures (TB_V, TB_H) in K of soil at temperature ``ts`` (K) under vegetation."""
    ev, eh = land_emissivity(sm, clay, vwc, h, b, omega, theta_deg)
    return np.asarray(ts) * ev, np.asarray(ts) * eh


def water_emissivity(temp_k: float, salinity_psu: float = 0.5, frozen: bool = False,
                     theta_deg: float = THETA_DEG) -> tuple[float, float]:
    """Emissivities (e_V, e_H) of a calm water (or ice) surface."""
    eps = _EPS_ICE if frozen else water_permittivity(temp_k, salinity_psu)
    rv, rh = fresnel_reflectivity(eps, theta_deg)
    return float(1.0 - rv), float(1.0 - rh)


def water_tb(temp_k: float, salinity_psu: float = 0.5, theta_deg: float = THETA_DEG
             ) -> tuple[float, float]:
    """Brightness temperatures (TB_V, TB_H) in K of calm open water (cold: TB_H ≈ 80–90 K)."""
    ev, eh = water_emissivity(temp_k, salinity_psu, False, theta_deg)
    return temp_k * ev, temp_k * eh


def _emission(ctx: _Context, sm: np.ndarray, temps: _Temperatures, hour: str
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fine (padded) TB_V, TB_H at ``hour`` (land, lakes and sea area-weighted), the liquid fraction of
    soil water, the 36 km surface temperature (land-weighted; water temperature where a cell has no land)
    and the land part's own TB_V, TB_H (what a water-corrected TB estimates)."""
    sta, geo, F = ctx.sta, ctx.geo, ctx.geo.F
    ts = temps.land(hour)
    liquid = np.clip((ts - 269.0) / 4.0, 0.08, 1.0)
    rv0, rh0 = fresnel_reflectivity(mironov_permittivity(sm * liquid, sta.clay))
    ev, eh = np.zeros_like(sm), np.zeros_like(sm)
    for k in sta.present:  # area-weighted emission of the land classes of each fine cell
        kv, kh = _emissivity(rv0, rh0, sta.vwc_k[k], sta.h_k[k], _B[k], _OMEGA[k],
                             _IMPERVIOUS if k == URBAN else 0.0)
        ev += sta.frac[k] * kv
        eh += sta.frac[k] * kh
    tl, tsea = temps.water(hour)
    lv, lh = water_emissivity(max(tl, 273.15), 0.5, frozen=tl < 272.5)
    sv, sh = water_emissivity(max(tsea, 271.5), 33.0)
    tbv = ctx.land * ts * ev + ctx.lake * tl * lv + sta.sea * tsea * sv
    tbh = ctx.land * ts * eh + ctx.lake * tl * lh + sta.sea * tsea * sh
    t36, lw = _weighted_block_mean(geo.crop(ts), ctx.land_r, F)
    with np.errstate(invalid="ignore", divide="ignore"):
        tw36 = (ctx.lake36 * tl + ctx.sea36 * tsea) / ctx.wf36
    return tbv, tbh, liquid, np.where(lw > 0, t36, tw36), ts * ev, ts * eh
