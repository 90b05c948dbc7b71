"""Simulated SMAP scenes with known truth, made the way the instruments see the ground.

No real pair of 36 km and 9 km brightness temperature (TB) of the same day exists, so the training data
of the downscaling network are simulated. The simulator is not tuned to make downscaling easy: the fine
fields carry the sub-cell variability real landscapes have (land-cover patches, soil texture, lakes and
coasts, rain cells), and every coarse product is made from them by the instrument's own operation.

Fields, on a fine EASE-Grid 2.0 grid (M03 by default, M01 optional) covering the region padded by two
36 km cells on every side, so that edge cells have whole radiometer footprints:

* static (fixed across days; a location-specific network learns exactly these): land cover (bare/sparse,
  grassland, cropland, forest, urban) drawn on the 1 km grid as km-sized patches with a 30 km landscape
  modulation, so every 3 km cell holds class fractions (emission and backscatter are area-weighted over
  the classes); per class VWC, roughness ``h``, ``b`` and single-scattering albedo ω, radar rms height
  and canopy backscatter, each with a static within-class variation; clay and sand fractions and
  porosity (smooth fields); lakes (and a sea with a coastline where asked) drawn on the 1 km grid, so
  water fractions are fractional at 3 km;
* soil moisture per day: climatology (climate, texture, land cover, a drainage-like static pattern)
  + multi-scale Gaussian random-field anomalies (correlation lengths 12, 40 and 100 km, AR(1) in time,
  10 days) + rain cells that wet random patches and dry down exponentially (time constant 2–4 days,
  longer on clay and under forest); softly bounded to 0.02 m³/m³ and the porosity (at most 0.50);
* surface temperature: seasonal cycle + synoptic anomaly; wet ground cooler (evaporation) and with a
  smaller diurnal range; offsets per land cover; a diurnal shape giving the 6 AM / 6 PM SMAP overpass
  temperatures and the 10:30 MODIS (Terra-like) daytime LST; lakes and sea with their own, damped
  temperatures; soil freezes (liquid water drops) below about 271 K, lakes freeze below 272.5 K.

Emission (per fine cell, isothermal soil and canopy, as the SMAP baseline algorithm assumes):

* soil permittivity: Mironov et al. (2009) GRMDM, "Physically and mineralogically based spectroscopic
  dielectric model for moist soils", IEEE TGRS 47(7), 2059–2070 (eqs. for n_d, k_d, m_vt and the bound /
  free water Debye parameters as functions of clay %, refractive mixing of eq. 11–13), at 1.41 GHz;
* water permittivity: Klein & Swift (1977), "An improved model for the dielectric constant of sea water
  at microwave frequencies", IEEE TAP 25(1), 104–111 (Debye with salinity-dependent static permittivity,
  relaxation time and ionic conductivity); lakes 0.5 psu, sea 33 psu; ice ε = 3.2;
* Fresnel reflectivities at SMAP's 40° incidence, H and V;
* roughness: r_p = r_p0 · exp(−h cos²θ) (Choudhury et al. 1979; Wang & Choudhury 1981; the Q = 0,
  N_p = 2 form of the SMAP L2_SM_P ATBD, O'Neill et al.);
* vegetation: tau–omega, τ = b·VWC (nadir), γ = exp(−τ / cos θ),
  TB_p = T [ (1 − r_p) γ + (1 − ω)(1 − γ)(1 + r_p γ) ] (SMAP L2_SM_P ATBD eq. of the zero-order model);
  b, ω and h per class after the ATBD's class tables (rounded); urban cells are half impervious
  (ε = 5.5 − 0.3j). Sky and atmosphere emission are left out (a few K, removed in the real L1C/L3 TB).

Radar (L-band at 40°, 1.26 GHz): bare soil VV by Dubois et al. (1995), "Measuring soil moisture with
imaging radars", IEEE TGRS 33(4), 915–926: σ⁰_vv = 10^−2.35 cos³θ / sin θ · 10^(0.046 ε' tan θ)
· (k s sin θ)^1.1 · λ^0.7 (≈ 0.2–0.3 dB per 0.01 m³/m³), HV by the cross-pol ratio of Oh, Sarabandi &
Ulaby (1992), IEEE TGRS 30(2), 370–381: q = 0.23 √Γ₀ (1 − e^(−ks)); vegetation by a water-cloud model
(Attema & Ulaby 1978): σ⁰ = σ_can (1 − γ²) + γ² σ⁰_soil with the radiometer's τ, canopy HV 7 dB below
its VV; built-up half of urban cells at −6 dB VV / −15 dB HV; static clutter (0.7 dB) and a daily
vegetation/dew term (0.3 dB); speckle with K_p = 0.15 (VV) and 0.20 (HV) at 3 km; water −26 dB VV with
a daily wind term (very dark). The soil permittivity is the 1.41 GHz one.

Products per day:

* the 36 km observation (SPL3SMP-like, AM 6 AM and PM 6 PM passes): the fine TB convolved with a
  Gaussian radiometer footprint of 40 km FWHM (−3 dB), centred on each M36 cell centre (plus a ±3 km
  geolocation/gridding jitter per row and column), plus NEDT 1.1 K white noise; with ``swath_gaps`` a
  random subset of passes miss a tilted stripe of cells (AM and PM differ);
* the true 9 km TB: the area mean of the fine TB over each 9 km cell (no footprint, no noise);
* the radar-guided 9 km TB as the SMAP active–passive algorithm makes it (Das et al. 2011, "An algorithm
  for merging SMAP radiometer and radar data for high-resolution soil-moisture retrieval", IEEE TGRS
  49(5), 1504–1512; SMAP L2/L3_SM_AP ATBD, Entekhabi, Das et al. 2014):
  TB_9 = TB_36 + β [(σ_vv,9 − σ_vv,36) − Γ (σ_hv,9 − σ_hv,36)]. σ_9 is the 9 km aggregate of the 3 km
  radar (linear mean over the 3 km cells not flagged as water, in dB); σ_36 the mean of the published
  σ_9 of the 36 km cell (dB), so the published 9 km TB average back to TB_36 exactly; β (K/dB) the
  per-cell regression slope of TB_36 on σ_vv,36 over the valid days of the series (time-series method),
  clipped to [−15, 0] K/dB, the region's median where a cell has fewer than 4 days; Γ the day's
  spatial slope of σ_vv,9 on σ_hv,9 within the 36 km cell (snapshot heterogeneity parameter), clipped
  to [0, 1.5]. Cells whose 9 km water fraction exceeds 0.5 are left empty (not disaggregated);
* the 36 km soil-moisture retrieval of the SPL3SMP-like file: the single-channel algorithm at V (SCA-V,
  the SMAP L2_SM_P baseline) applied to the observed 36 km TB_V with ancillary data that carry errors
  like the real ones (temperature ±1 K persistent and ±1.5 K daily per cell, VWC ±15 % persistent and
  ±8 % daily, clay ±0.04, h/b/ω from the class table without the truth's within-class variation); the
  file's surface_temperature and vegetation_water_content are these ancillary values. Its errors
  (footprint, NEDT, heterogeneity, water, ancillary) are emergent, not drawn;
* 3 km soil moisture (SPL2SMAP_S-like): the land-mean soil moisture of each M03 cell, empty where water
  covers more than half the cell or where the soil is frozen at 6 AM, plus 0.03 m³/m³ white retrieval
  noise (independent per cell and day), clipped to 0.02–0.50. Produced every day (the real product only
  exists on Sentinel-1 days);
* MODIS-like daytime LST (10:30) at 1 km with correlated cloud gaps (20–40 % of the area on average,
  more on rainy days), 0.7 K noise; on M03 instead when the region is too large for M01.

Everything is deterministic for (seed, region, climate, fine grid, water kind); a day's random draws
depend only on its index, so a longer series starts with the same days. All products are float32.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .feedback import SILENT, Feedback
from .grid import GRIDS, Grid
from .scene import STATIC_BANDS

# --- constants ------------------------------------------------------------------------------------
THETA_DEG = 40.0  # SMAP incidence angle
FREQ_RADIOMETER = 1.41e9  # Hz
FREQ_RADAR = 1.26e9  # Hz
EPS0 = 8.854187817e-12  # F/m
FOOTPRINT_FWHM_KM = 40.0  # radiometer 3 dB footprint (SMAP: 39 x 47 km, taken circular)
NEDT_K = 1.1  # radiometric noise of the 36 km TB
SM_RETRIEVAL_NOISE = 0.03  # m3/m3, white noise of the simulated 3 km retrieval
SM_MIN, SM_MAX = 0.02, 0.50
KP_3KM = 0.15  # radar normalised standard deviation at 3 km, VV
KP_HV_3KM = 0.20  # and HV (lower signal)
BETA_RANGE = (-15.0, 0.0)  # K/dB
GAMMA_RANGE = (0.0, 1.5)  # dB/dB
PAD_CELLS = 2  # 36 km cells of margin simulated around the region on every side
WATER_MASK_FRACTION = 0.5  # products are empty where water covers more than this
# ancillary errors of the simulated 36 km retrieval (GEOS-5-like temperature, NDVI-climatology VWC, soil map)
ANC_TS_STATIC_K, ANC_TS_DAILY_K = 1.0, 1.5  # K, per cell: persistent + daily
ANC_VWC_STATIC, ANC_VWC_DAILY = 0.15, 0.08  # relative (log-normal), per cell: persistent + daily
ANC_CLAY_STATIC = 0.04  # clay fraction, per cell, persistent
LST1_MAX_PIXELS = 1_500_000  # larger regions get their LST on M03
WATER1_MAX_PIXELS = 6_000_000  # larger padded regions draw water on the fine grid

# land cover classes (codes of static["land_cover"])
LAND_COVER = ("bare", "grassland", "cropland", "forest", "urban", "water")
BARE, GRASS, CROP, FOREST, URBAN, WATER = range(6)
# per land class (bare, grass, crop, forest, urban): VWC kg/m2 (temperate), h, b, omega, radar rms
# height (cm), canopy backscatter at full cover (dB), daily-mean temperature offset (K), diurnal-range
# factor, soil-moisture climatology offset (m3/m3)
_VWC = np.array([0.15, 1.2, 2.5, 9.0, 0.4])
_H = np.array([0.150, 0.156, 0.108, 0.160, 0.150])
_B = np.array([0.10, 0.10, 0.11, 0.10, 0.10])
_OMEGA = np.array([0.00, 0.05, 0.05, 0.07, 0.03])
_RMS_CM = np.array([1.2, 0.8, 1.5, 1.5, 1.0])
_CANOPY_DB = np.array([-25.0, -17.0, -14.0, -10.0, -14.0])
_T_OFFSET = np.array([1.0, 0.0, -0.5, -1.5, 2.5])
_DIURNAL = np.array([1.0, 0.8, 0.7, 0.45, 0.85])
_SM_OFFSET = np.array([-0.03, 0.0, 0.01, 0.03, -0.03])
_IMPERVIOUS = 0.5  # impervious fraction of an urban cell
_EPS_IMPERVIOUS = 5.5 - 0.3j
_EPS_ICE = 3.2 - 0.003j
_BUILT_DB = -6.0
_BUILT_HV_DB = -15.0
_CANOPY_HV_DB = -7.0  # canopy HV relative to its VV
# diurnal shape: T(hour) = daily mean + amplitude/2 * d(hour)
_DIURNAL_SHAPE = {"06:00": -1.0, "10:30": 0.7, "13:30": 1.0, "18:00": 0.15, "22:30": -0.55}


@dataclass(frozen=True)
class Climate:
    """Parameters of one climate: soil moisture, rain, vegetation, temperature, clouds, lakes."""

    name: str
    sm_mean: float  # regional mean of the soil-moisture climatology (m3/m3)
    anomaly_std: float  # std of the correlated anomalies (m3/m3)
    rain_prob: float  # probability of a rain event per day
    rain_amount: tuple[float, float]  # range of the peak soil-moisture increment of an event (m3/m3)
    drydown_days: float  # e-folding time of the rain store on medium soil
    vwc_scale: float  # multiplies the class VWC
    cover: tuple[float, float, float, float, float]  # mean fractions of bare, grass, crop, forest, urban
    t_mean: float  # annual mean air temperature (K)
    t_season: float  # seasonal half-range (K)
    t_diurnal: float  # diurnal surface-temperature range of dry bare soil (K)
    t_synoptic: float  # std of day-to-day temperature anomalies (K)
    cloud: tuple[float, float]  # range of the daily cloud fraction over the LST
    lake_fraction: float  # typical open-water fraction from lakes
    irrigated: bool = False  # croplands irrigated (wet patches in a dry landscape)


CLIMATES: dict[str, Climate] = {
    "arid": Climate("arid", 0.06, 0.015, 0.07, (0.03, 0.12), 2.0, 0.4,
                    (0.55, 0.34, 0.06, 0.0, 0.05), 293.0, 9.0, 40.0, 2.5, (0.10, 0.30), 0.003, True),
    "temperate": Climate("temperate", 0.19, 0.035, 0.28, (0.02, 0.10), 3.0, 1.0,
                         (0.04, 0.40, 0.35, 0.16, 0.05), 289.0, 11.0, 26.0, 3.0, (0.20, 0.40), 0.015),
    "humid": Climate("humid", 0.27, 0.040, 0.45, (0.02, 0.09), 4.0, 1.2,
                     (0.02, 0.15, 0.15, 0.63, 0.05), 292.0, 7.0, 16.0, 2.0, (0.25, 0.50), 0.02),
    "continental": Climate("continental", 0.21, 0.035, 0.25, (0.02, 0.10), 3.5, 1.0,
                           (0.03, 0.30, 0.45, 0.18, 0.04), 281.0, 16.0, 24.0, 4.0, (0.20, 0.45), 0.03),
}
WATER_KINDS = ("none", "lakes", "coast")


@dataclass(frozen=True)
class RegionSpec:
    """A named default region: a window on M36, its climate and its kind of open water."""

    name: str
    grid: Grid
    climate: str
    water: str
    description: str


def _window(row: int, col: int, size: int) -> Grid:
    """A size x size M36 window whose cell (size // 2, size // 2) is global cell (row, col)."""
    h = size // 2
    return Grid("M36", row - h, col - h, size, size)


# Cells computed from the lon/lat given (EPSG:4326 -> EPSG:6933 -> M36 row/col).
CLIMATE_REGIONS: dict[str, RegionSpec] = {
    "oklahoma": RegionSpec("oklahoma", _window(81, 220, 4), "temperate", "lakes",
                           "Southern Great Plains grassland and cropland with reservoirs (36.6 N 97.5 W)"),
    "iowa": RegionSpec("iowa", _window(66, 231, 4), "continental", "lakes",
                       "Corn Belt cropland (42.0 N 93.4 W)"),
    "georgia": RegionSpec("georgia", _window(96, 258, 4), "humid", "lakes",
                          "south-eastern US forest and cropland mosaic (31.6 N 83.5 W)"),
    "arizona": RegionSpec("arizona", _window(96, 187, 4), "arid", "none",
                          "semi-arid shrubland and bare soil with irrigated fields (31.7 N 110.0 W)"),
    "chesapeake": RegionSpec("chesapeake", _window(77, 277, 4), "temperate", "coast",
                             "Chesapeake Bay: coast, estuaries and lakes (38.3 N 76.3 W)"),
    "kenaston": RegionSpec("kenaston", _window(44, 197, 4), "continental", "lakes",
                           "Canadian prairie cropland with pothole lakes (51.4 N 106.4 W)"),
}


def default_region() -> Grid:
    """3 x 3 M36 cells (108 km) around 36.6 N 97.5 W, Oklahoma grassland and cropland."""
    return _window(81, 220, 3)


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
    """Mean over f x f blocks (shape divisible by f)."""
    if f == 1:
        return a
    r, c = a.shape
    return a.reshape(r // f, f, c // f, f).mean(axis=(1, 3))


def _weighted_block_mean(a: np.ndarray, w: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted block mean of ``a`` with weights ``w`` and the block mean of the weights."""
    ws = _block_mean(w, f)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = _block_mean(a * w, f) / ws
    return m, ws


def _upsample(a: np.ndarray, f: int) -> np.ndarray:
    """Nearest-neighbour repeat by f along both axes."""
    return np.repeat(np.repeat(a, f, axis=0), f, axis=1) if f > 1 else a


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


# --- results ------------------------------------------------------------------------------------------
@dataclass
class SimulatedDay:
    """One simulated day. Grids: 36 km arrays on ``series.grid36``, 9 km on ``grid9``, 3 km on ``grid3``,
    LST on ``series.lst_grid`` (M01, or M03 for very large regions). NaN = no data. float32."""

    date: dt.date
    tb36_v: np.ndarray  # AM (6 AM) pass, footprint-convolved + NEDT, swath gaps NaN
    tb36_h: np.ndarray
    tb9_true_v: np.ndarray  # area mean of the fine TB over 9 km cells (AM), no noise
    tb9_true_h: np.ndarray
    tb9_radar_v: np.ndarray  # radar-guided (active-passive) 9 km TB, the case-1 training target
    tb9_radar_h: np.ndarray
    sigma0_9: np.ndarray  # σ⁰_VV at 9 km (dB), NaN where the AM pass is missing or water > 0.5
    sm9: np.ndarray  # true land-mean soil moisture of 9 km cells (NaN where water > 0.5)
    sm3: np.ndarray  # SPL2SMAP_S-like 3 km soil moisture: truth + 0.03 noise, NaN water / frozen
    sm3_true: np.ndarray  # true land-mean soil moisture of 3 km cells (NaN where water > 0.5)
    lst1: np.ndarray  # MODIS-like daytime (10:30) LST in K, NaN under clouds
    surface_temperature36: np.ndarray  # 6 AM effective surface temperature of the 36 km cell (K)
    tb36_v_pm: np.ndarray  # PM (6 PM) pass
    tb36_h_pm: np.ndarray
    surface_temperature36_pm: np.ndarray
    sm36: np.ndarray  # true land-mean soil moisture of 36 km cells (NaN where water > 0.5)
    sigma0_hv_9: np.ndarray  # σ⁰_HV at 9 km (dB), same cells as sigma0_9
    gamma36: np.ndarray  # Das heterogeneity parameter Γ of the day per 36 km cell (dB/dB)
    # the 36 km soil-moisture retrieval (SCA-V from tb36_v with erroneous ancillary data) and its ancillary
    sm36_retrieved: np.ndarray = field(default_factory=lambda: np.empty(0))
    sm36_retrieved_pm: np.ndarray = field(default_factory=lambda: np.empty(0))
    ts36_ancillary: np.ndarray = field(default_factory=lambda: np.empty(0))
    ts36_ancillary_pm: np.ndarray = field(default_factory=lambda: np.empty(0))
    vwc36_ancillary: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass
class SimulatedSeries:
    """A simulated region over consecutive days, its static fields and provenance.

    ``static`` holds: land_cover (uint8 codes of LAND_COVER), water_fraction, vwc, clay, sand, porosity,
    roughness_h, rms_height_cm, sm_climatology on the fine grid; water_fraction3 (M03); water_fraction9,
    vwc9 (M09); water_fraction36, vwc36 (M36); water_fraction1 (M01, when LST is on M01); beta_v, beta_h
    (M36, K/dB, estimated from the whole series).
    """

    grid36: Grid
    grid9: Grid
    grid3: Grid
    grid1: Grid | None
    days: list[SimulatedDay]
    static: dict[str, np.ndarray]
    seed: int
    climate: str
    attrs: dict[str, str]
    fine: str = "M03"
    water: str = "lakes"

    @property
    def grid_fine(self) -> Grid:
        """The grid of the fine truth fields (M03 or M01)."""
        return self.grid36.refine(self.fine)

    @property
    def lst_grid(self) -> Grid:
        """The grid of ``SimulatedDay.lst1``: M01, or M03 when the region is too large."""
        return self.grid1 if self.grid1 is not None else self.grid3


# --- geometry and static fields ---------------------------------------------------------------------
@dataclass
class _Geometry:
    """The region, its padded window and the fine grids."""

    region: Grid
    pad: Grid
    fine: str
    F: int  # fine cells per 36 km
    off: tuple[int, int]  # region offset in the padded window, in 36 km cells
    dx: float  # fine cell size, km
    lat: float
    lst1: bool  # LST on M01

    @property
    def fine_shape(self) -> tuple[int, int]:
        return self.pad.rows * self.F, self.pad.cols * self.F

    def crop(self, a: np.ndarray, f: int | None = None) -> np.ndarray:
        """The region part of a padded array with f cells per 36 km (default: the fine grid)."""
        f = self.F if f is None else f
        r0, c0 = self.off[0] * f, self.off[1] * f
        return a[r0:r0 + self.region.rows * f, c0:c0 + self.region.cols * f]


def _geometry(grid: Grid, fine: str) -> _Geometry:
    _, gcols, grows = GRIDS["M36"]
    pr0, pc0 = min(PAD_CELLS, grid.row_off), min(PAD_CELLS, grid.col_off)
    pr1 = min(PAD_CELLS, grows - grid.row_off - grid.rows)
    pc1 = min(PAD_CELLS, gcols - grid.col_off - grid.cols)
    pad = Grid("M36", grid.row_off - pr0, grid.col_off - pc0, grid.rows + pr0 + pr1, grid.cols + pc0 + pc1)
    F = grid.factor_to(fine)
    _, lat = grid.lonlat(np.array([grid.rows / 2.0 - 0.5]), np.array([grid.cols / 2.0 - 0.5]))
    lat0 = float(lat[0]) if np.isfinite(lat[0]) else 35.0
    lst1 = fine == "M01" or grid.rows * grid.cols * 36 * 36 <= LST1_MAX_PIXELS
    return _Geometry(grid, pad, fine, F, (pr0, pc0), GRIDS[fine][0] / 1000.0, lat0, lst1)


@dataclass
class _Static:
    """Static fields on the padded fine grid; per-class arrays have a leading axis of 5 land classes."""

    frac: np.ndarray  # (5, ...) cover fractions of the land part (sum 1)
    present: list[int]  # classes present somewhere
    wf: np.ndarray  # water fraction (lakes + sea)
    sea: np.ndarray  # sea fraction
    vwc_k: np.ndarray  # (5, ...) VWC per class (kg/m2)
    h_k: np.ndarray  # (5, ...) roughness h per class
    rms_k: np.ndarray  # (5, ...) radar rms height per class (cm)
    canopy_k: np.ndarray  # (5, ...) canopy VV backscatter at full cover per class (dB)
    clutter_db: np.ndarray
    clay: np.ndarray
    sand: np.ndarray
    porosity: np.ndarray
    sm_clim: np.ndarray
    t_offset: np.ndarray
    diurnal: np.ndarray
    drydown: np.ndarray
    wf1: np.ndarray | None  # region water fraction on M01 (LST grid), lakes + sea, and the sea part
    sea1: np.ndarray | None
    lst_texture: np.ndarray  # static 1 km LST texture on the LST grid (K)

    def mean(self, per_class: np.ndarray) -> np.ndarray:
        """Cover-weighted mean over classes of a (5, ...) array (or a per-class vector)."""
        if per_class.ndim == 1:
            return np.tensordot(per_class, self.frac, axes=1)
        return (self.frac * per_class).sum(axis=0)

    def dominant(self) -> np.ndarray:
        return np.argmax(self.frac, axis=0)


def _water(rng: np.random.Generator, shape: tuple[int, int], dx: float, clim: Climate, water: str,
           region_slice: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """Lake and sea masks (float 0/1) on a grid of cell size dx km."""
    lakes = np.zeros(shape)
    sea = np.zeros(shape)
    if water == "none":
        return lakes, sea
    frac = min(0.15, clim.lake_fraction * math.exp(rng.normal(0.0, 0.6)))
    z = _grf(rng, shape, dx, 2.5, 1.5) + 0.7 * _grf(rng, shape, dx, 25.0, 1.0)
    lakes = (z > np.quantile(z, 1.0 - frac)).astype(np.float64)
    if water == "coast":
        phi = rng.uniform(0.0, 2.0 * math.pi)
        yy, xx = np.meshgrid(np.arange(shape[0]) * dx, np.arange(shape[1]) * dx, indexing="ij")
        u = xx * math.cos(phi) - yy * math.sin(phi) + 8.0 * _grf(rng, shape, dx, 20.0, 1.5)
        thr = np.quantile(u[region_slice], rng.uniform(0.15, 0.40))
        sea = (u < thr).astype(np.float64)
        lakes = lakes * (1.0 - sea)
    return lakes, sea


# (class, patch correlation length km, weight of the 30 km landscape-scale modulation), drawn in order
_COVER_FIELDS = ((URBAN, 1.5, 0.4), (FOREST, 4.0, 0.5), (BARE, 4.0, 0.4), (CROP, 2.0, 0.4))


def _land_cover(rng: np.random.Generator, shape: tuple[int, int], dx: float, frac: np.ndarray,
                clay_z: np.ndarray | None) -> np.ndarray:
    """Class map (0..4) by hierarchical quantile thresholds of correlated fields; grassland fills the rest.

    Patches are km-sized with a landscape-scale (30 km) modulation, as real mosaics of fields and woods.
    """
    cover = np.full(shape, GRASS, dtype=np.int8)
    free = np.ones(shape, bool)
    remaining = 1.0
    for cls, length, large in _COVER_FIELDS:
        share = min(frac[cls] / remaining, 1.0) if remaining > 1e-9 else 0.0
        if share > 1e-4 and free.any():
            z = _grf(rng, shape, dx, length, 0.5) + large * _grf(rng, shape, dx, 30.0, 1.0)
            if cls == FOREST and clay_z is not None:  # woods keep a little to the heavier, wetter soils
                z = z + 0.4 * clay_z
            thr = np.quantile(z[free], 1.0 - share)
            pick = free & (z > thr)
            cover[pick] = cls
            free &= ~pick
        remaining -= frac[cls]
    return cover


def _static_fields(rng: np.random.Generator, geo: _Geometry, clim: Climate, water: str) -> _Static:
    shape, dx = geo.fine_shape, geo.dx
    # water and land cover on M01 when affordable (fractions at 3 km), else on the fine grid
    f1 = 1 if geo.fine == "M01" else 3
    on1 = f1 > 1 and shape[0] * shape[1] * f1 * f1 <= WATER1_MAX_PIXELS
    if not on1:
        f1 = 1
    wshape, wdx, per36 = (shape[0] * f1, shape[1] * f1), dx / f1, geo.F * f1
    r0, c0 = geo.off[0] * per36, geo.off[1] * per36
    rs = (slice(r0, r0 + geo.region.rows * per36), slice(c0, c0 + geo.region.cols * per36))
    lakes, sea1 = _water(rng, wshape, wdx, clim, water, rs)
    wf1 = lakes + sea1
    wf, seaf = _block_mean(wf1, f1), _block_mean(sea1, f1)
    # soil texture: smooth fields
    clay_mean = float(np.clip(rng.normal(0.22, 0.07), 0.06, 0.45))
    sand_mean = float(np.clip(rng.normal(0.40, 0.12), 0.10, 0.80))
    clay_z = 0.9 * _grf(rng, shape, dx, 40.0, 1.5) + 0.43 * _grf(rng, shape, dx, 8.0, 1.0)
    clay = np.clip(clay_mean + 0.07 * clay_z, 0.03, 0.60)
    sand = np.clip(sand_mean - 0.8 * (clay - clay_mean) + 0.06 * _grf(rng, shape, dx, 25.0, 1.5), 0.05, 0.90)
    sand = np.minimum(sand, 0.97 - clay)
    porosity = np.clip(0.49 - 0.12 * sand + 0.04 * clay, 0.38, SM_MAX)
    # land cover fractions of each fine cell
    target = rng.dirichlet(np.asarray(clim.cover) * 40.0 + 0.05)
    cover1 = _land_cover(rng, wshape, wdx, target, _upsample(clay_z, f1))
    frac = np.stack([_block_mean((cover1 == k).astype(np.float64), f1) for k in range(5)])
    present = [k for k in range(5) if frac[k].any()]
    # per-class parameters with static within-class variation
    vwc_var = np.exp(0.25 * _grf(rng, shape, dx, 6.0, 0.5))
    rough = _grf(rng, shape, dx, 5.0, 0.5)
    canopy_var = 1.0 * _grf(rng, shape, dx, 3.0, 0.5)
    vwc_k = _VWC[:, None, None] * clim.vwc_scale * vwc_var[None]
    h_k = np.clip(_H[:, None, None] * (1.0 + 0.25 * rough[None]), 0.02, None)
    rms_k = _RMS_CM[:, None, None] * np.exp(0.3 * rough[None])
    canopy_k = _CANOPY_DB[:, None, None] + canopy_var[None]
    clutter = 0.7 * _grf(rng, shape, dx, 2.0, 0.5)
    sm_off = _SM_OFFSET.copy()
    if clim.irrigated:
        sm_off[CROP] += 0.15
    sm_clim = (clim.sm_mean + rng.normal(0.0, 0.02) + 0.25 * (clay - clay_mean) - 0.08 * (sand - sand_mean)
               + np.tensordot(sm_off, frac, axes=1) + 0.02 * _grf(rng, shape, dx, 6.0, 0.5))
    sm_clim = np.clip(sm_clim, 0.03, porosity - 0.05)
    t_off = np.tensordot(_T_OFFSET, frac, axes=1) + 0.5 * _grf(rng, shape, dx, 10.0, 1.0)
    drydown = clim.drydown_days * (0.75 + 1.0 * clay) * (1.0 + 0.3 * frac[FOREST])
    # the LST grid's water and texture
    if geo.lst1 and geo.fine == "M03":
        wf_l = wf1[rs] if on1 else _upsample(geo.crop(wf), 3)
        sea_l = sea1[rs] if on1 else _upsample(geo.crop(seaf), 3)
        lshape, ldx = wf_l.shape, dx / 3.0
    elif geo.fine == "M01":
        wf_l, sea_l = geo.crop(wf), geo.crop(seaf)
        lshape, ldx = wf_l.shape, dx
    else:
        wf_l = sea_l = None
        lshape, ldx = geo.crop(wf).shape, dx
    texture = 0.8 * _grf(rng, lshape, ldx, 2.0, 0.5)
    return _Static(frac, present, wf, seaf, vwc_k, h_k, rms_k, canopy_k, clutter, clay, sand, porosity,
                   sm_clim, t_off, np.tensordot(_DIURNAL, frac, axes=1), drydown, wf_l, sea_l, texture)


# --- dynamic state --------------------------------------------------------------------------------------
_ANOMALY_SCALES = ((12.0, 0.4), (40.0, 0.6), (100.0, 0.6))  # (correlation length km, weight)
_ANOMALY_TAU_DAYS = 10.0


@dataclass
class _State:
    anomaly: list[np.ndarray]
    store: np.ndarray  # rain store (m3/m3)
    synoptic: float  # regional temperature anomaly (K)
    rained: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def _anomaly_weights(clim: Climate) -> list[float]:
    w = np.array([s[1] for s in _ANOMALY_SCALES])
    return list(clim.anomaly_std * w / math.sqrt(float((w ** 2).sum())))


def _step_moisture(rng: np.random.Generator, st: _State, geo: _Geometry, sta: _Static, clim: Climate
                   ) -> np.ndarray:
    """Advance anomalies and rain store by one day; returns the day's soil moisture (fine, padded)."""
    shape, dx = geo.fine_shape, geo.dx
    rho = math.exp(-1.0 / _ANOMALY_TAU_DAYS)
    for i, (length, _) in enumerate(_ANOMALY_SCALES):
        st.anomaly[i] = rho * st.anomaly[i] + math.sqrt(1.0 - rho ** 2) * _grf(rng, shape, dx, length, 0.5)
    anom = sum(w * a for w, a in zip(_anomaly_weights(clim), st.anomaly, strict=True))
    st.store = st.store * np.exp(-1.0 / sta.drydown)
    rained = np.zeros(shape)
    if rng.random() < clim.rain_prob:
        length = float(rng.integers(15, 41))
        r = _grf(rng, shape, dx, length, 0.5) + 0.5 * _grf(rng, shape, dx, 100.0, 1.0)
        thr = np.quantile(r, 1.0 - rng.uniform(0.2, 0.9))
        amount = rng.uniform(*clim.rain_amount)
        rained = np.where(r > thr, amount * (1.0 - np.exp(-(r - thr) / 0.7)), 0.0)
        st.store = st.store + rained
    base = sta.sm_clim + anom
    st.store = np.clip(np.minimum(st.store, sta.porosity + 0.03 - base), 0.0, None)
    st.rained = rained
    return _soft_bound(base + st.store, SM_MIN, sta.porosity)


# --- instrument ------------------------------------------------------------------------------------------
def _footprint_matrix(n36: int, off36: int, F: int, n_fine: int, dx: float, jitter: np.ndarray) -> np.ndarray:
    """1-D Gaussian footprint weights (rows: region 36 km cells; columns: padded fine cells)."""
    sigma = FOOTPRINT_FWHM_KM / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    centre = ((off36 + np.arange(n36) + 0.5) * F)[:, None] * dx + jitter[:, None]
    pos = (np.arange(n_fine) + 0.5)[None, :] * dx
    w = np.exp(-0.5 * ((pos - centre) / sigma) ** 2)
    return w / w.sum(axis=1, keepdims=True)


def footprint_sample(fine: np.ndarray, region_shape: tuple[int, int], off36: tuple[int, int], F: int,
                     dx_km: float, jitter_km: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The radiometer's view of a fine field: Gaussian footprint (40 km FWHM) at each 36 km cell centre.

    ``fine`` covers the padded window (F fine cells per 36 km); the region starts ``off36`` 36 km cells
    into it. The circular Gaussian is separable, so the convolution sampled at the cell centres is
    W_y · fine · W_xᵀ.
    """
    R, C = region_shape
    jy, jx = jitter_km if jitter_km is not None else (np.zeros(R), np.zeros(C))
    wy = _footprint_matrix(R, off36[0], F, fine.shape[0], dx_km, jy)
    wx = _footprint_matrix(C, off36[1], F, fine.shape[1], dx_km, jx)
    return wy @ fine @ wx.T


def _swath_gap(rng: np.random.Generator, shape: tuple[int, int], lat: float, pm: bool) -> np.ndarray:
    """Cells a pass misses (True): on some days a stripe between swaths, tilted as the ground track."""
    alat = abs(lat)
    p = 0.5 if alat < 20 else (0.35 if alat < 50 else 0.15)
    if rng.random() >= p:
        return np.zeros(shape, bool)
    R, C = shape
    tilt = math.radians(rng.uniform(8.0, 20.0)) * (1.0 if pm else -1.0)  # ascending vs descending
    yy, xx = np.meshgrid(-np.arange(R) * 36.0, np.arange(C) * 36.0, indexing="ij")
    u = xx * math.cos(tilt) + yy * math.sin(tilt)
    width = rng.uniform(40.0, 150.0)
    u0 = rng.uniform(u.min() - width, u.max())
    return (u >= u0) & (u <= u0 + width)


# --- the simulator ------------------------------------------------------------------------------------------
def _season(doy: int, lat: float, lag: float = 0.0) -> float:
    """Seasonal temperature shape, +1 in mid-July (north) / mid-January (south), damped in the tropics."""
    s = math.cos(2.0 * math.pi * (doy - 200.0 - lag) / 365.25) * (1.0 if lat >= 0 else -1.0)
    return s * min(1.0, abs(lat) / 25.0)


def _check(grid: Grid, days: int, seed: int, climate: str, fine: str, water: str) -> None:
    if not isinstance(grid, Grid) or grid.name != "M36":
        raise InputError(f"the region must be a window on the 36 km grid (M36), not {grid!r}")
    if climate not in CLIMATES:
        raise InputError(f"unknown climate {climate!r}; known: {', '.join(CLIMATES)}")
    if fine not in ("M03", "M01"):
        raise InputError(f"the fine grid must be M03 or M01, not {fine!r}")
    if water not in WATER_KINDS:
        raise InputError(f"unknown kind of open water {water!r}; known: {', '.join(WATER_KINDS)}")
    if int(days) < 1:
        raise InputError(f"the number of days must be at least 1, not {days}")
    if int(seed) < 0:
        raise InputError(f"the seed must be a non-negative integer, not {seed}")


@dataclass
class _Context:
    """Everything a day's simulation reads but does not change."""

    geo: _Geometry
    sta: _Static
    clim: Climate
    entropy: list[int]
    swath_gaps: bool
    land: np.ndarray  # padded fine land fraction
    lake: np.ndarray  # padded fine lake fraction
    land_r: np.ndarray  # region fine land fraction
    wf3: np.ndarray
    wf9: np.ndarray
    wf36: np.ndarray
    lake36: np.ndarray
    sea36: np.ndarray
    up_lst: tuple[np.ndarray, np.ndarray] | None  # fine (padded) -> M01 region interpolation

    def rng(self, day: int) -> np.random.Generator:
        """The random generator of day index ``day`` (negative: spin-up)."""
        return np.random.default_rng(np.random.SeedSequence(self.entropy + [1, day + 1000]))


def _context(geo: _Geometry, sta: _Static, clim: Climate, entropy: list[int], swath_gaps: bool) -> _Context:
    F = geo.F
    wf_r = geo.crop(sta.wf)
    up = None
    if geo.lst1 and geo.fine == "M03":
        shape = geo.fine_shape
        up = (_linear_interp_matrix(geo.region.rows * 36, shape[0], 3.0, geo.off[0] * F),
              _linear_interp_matrix(geo.region.cols * 36, shape[1], 3.0, geo.off[1] * F))
    return _Context(geo, sta, clim, entropy, swath_gaps, 1.0 - sta.wf, sta.wf - sta.sea, 1.0 - wf_r,
                    _block_mean(wf_r, F // 12), _block_mean(wf_r, F // 4), _block_mean(wf_r, F),
                    _block_mean(geo.crop(sta.wf - sta.sea), F), _block_mean(geo.crop(sta.sea), F), up)


@dataclass
class _Temperatures:
    """A day's temperatures: land (fine, padded) as a function of the hour, lake and sea scalars."""

    mean: np.ndarray
    amplitude: np.ndarray
    lake: float
    sea: float

    def land(self, hour: str) -> np.ndarray:
        return self.mean + 0.5 * self.amplitude * _DIURNAL_SHAPE[hour]

    def water(self, hour: str) -> tuple[float, float]:
        """(lake, sea) temperatures: 1 K diurnal range."""
        d = 0.5 * _DIURNAL_SHAPE[hour]
        return self.lake + d, self.sea + d


def _temperatures(rng: np.random.Generator, ctx: _Context, st: _State, sm: np.ndarray, doy: int
                  ) -> _Temperatures:
    geo, sta, clim = ctx.geo, ctx.sta, ctx.clim
    st.synoptic = 0.7 * st.synoptic + math.sqrt(1.0 - 0.49) * rng.normal(0.0, clim.t_synoptic)
    season = _season(doy, geo.lat)
    t_air = clim.t_mean + clim.t_season * season + st.synoptic + 0.7 * _grf(rng, geo.fine_shape, geo.dx,
                                                                              150.0, 1.5)
    wet = np.clip((sm - SM_MIN) / (sta.porosity - SM_MIN), 0.0, 1.0)
    mean = t_air + 1.5 + sta.t_offset - 3.0 * (wet - 0.5)  # skin warmer than air; wet soil cooler
    amp = clim.t_diurnal * sta.diurnal * (1.0 - 0.6 * wet) * (0.8 + 0.2 * season)
    lake = clim.t_mean + clim.t_season * _season(doy, geo.lat, 30.0) + 0.3 * st.synoptic
    sea = clim.t_mean + 2.0 + 0.6 * clim.t_season * _season(doy, geo.lat, 45.0)
    return _Temperatures(mean, amp, lake, sea)


def _emission(ctx: _Context, sm: np.ndarray, temps: _Temperatures, hour: str
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fine (padded) TB_V, TB_H at ``hour``, the liquid fraction of soil water and the 36 km surface
    temperature (land-weighted; water temperature where a cell has no land)."""
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
    return tbv, tbh, liquid, np.where(lw > 0, t36, tw36)


def _observe(rng: np.random.Generator, ctx: _Context, tbv: np.ndarray, tbh: np.ndarray, pm: bool
             ) -> tuple[np.ndarray, np.ndarray]:
    """The 36 km radiometer observation of one pass: footprint, NEDT, swath gap."""
    geo = ctx.geo
    R, C = geo.region.shape
    jitter = (rng.uniform(-3.0, 3.0, R), rng.uniform(-3.0, 3.0, C))
    gap = _swath_gap(rng, (R, C), geo.lat, pm) if ctx.swath_gaps else np.zeros((R, C), bool)
    out = []
    for tb in (tbv, tbh):
        o = footprint_sample(tb, (R, C), geo.off, geo.F, geo.dx, jitter) + rng.normal(0.0, NEDT_K, (R, C))
        o[gap] = np.nan
        out.append(o)
    return out[0], out[1]


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


def _lst(rng: np.random.Generator, ctx: _Context, temps: _Temperatures, rained: np.ndarray) -> np.ndarray:
    """MODIS-like daytime (10:30) LST on the LST grid, with noise and correlated cloud gaps."""
    geo, sta = ctx.geo, ctx.sta
    tl10 = temps.land("10:30")
    lake_t, sea_t = temps.water("10:30")
    if ctx.up_lst is not None:
        land_t = ctx.up_lst[0] @ tl10 @ ctx.up_lst[1].T
        wf, sea = sta.wf1, sta.sea1
    else:
        land_t = geo.crop(tl10)
        wf, sea = geo.crop(sta.wf), geo.crop(sta.sea)
    lst = ((1.0 - wf) * land_t + (wf - sea) * lake_t + sea * sea_t + sta.lst_texture
           + rng.normal(0.0, 0.7, land_t.shape))
    per36 = land_t.shape[0] // geo.region.rows
    dx = GRIDS["M36"][0] / 1000.0 / per36
    cloud = _grf(rng, land_t.shape, dx, 15.0, 0.5) + 0.5 * _grf(rng, land_t.shape, dx, 60.0, 1.0)
    wet = geo.crop(rained) > 0
    if wet.any():  # rain days are cloudier where it rained
        cloud = cloud + 1.5 * _upsample(wet, per36 // geo.F)
    lst[cloud > np.quantile(cloud, 1.0 - rng.uniform(*ctx.clim.cloud))] = np.nan
    return lst


def _simulate_day(ctx: _Context, st: _State, date: dt.date, i: int) -> SimulatedDay:
    """One day: weather, emission, the 36 km observation, radar and soil-moisture products, LST."""
    geo = ctx.geo
    F, F9, F3 = geo.F, geo.F // 4, geo.F // 12
    rng = ctx.rng(i)
    sm = _step_moisture(rng, st, geo, ctx.sta, ctx.clim)
    temps = _temperatures(rng, ctx, st, sm, date.timetuple().tm_yday)
    am_v, am_h, liquid, ts36 = _emission(ctx, sm, temps, "06:00")
    pm_v, pm_h, _, ts36_pm = _emission(ctx, sm, temps, "18:00")
    tb36_v, tb36_h = _observe(rng, ctx, am_v, am_h, False)
    tb36_v_pm, tb36_h_pm = _observe(rng, ctx, pm_v, pm_h, True)
    sig9, sighv9 = _radar(rng, ctx, sm, liquid, ~np.isfinite(tb36_v))
    sm_r, land_r = geo.crop(sm), ctx.land_r
    sm9, _ = _weighted_block_mean(sm_r, land_r, F9)
    sm36, _ = _weighted_block_mean(sm_r, land_r, F)
    sm3t, _ = _weighted_block_mean(sm_r, land_r, F3)
    sm9[ctx.wf9 > WATER_MASK_FRACTION] = np.nan
    sm36[ctx.wf36 > WATER_MASK_FRACTION] = np.nan
    sm3t[ctx.wf3 > WATER_MASK_FRACTION] = np.nan
    sm3 = np.clip(sm3t + rng.normal(0.0, SM_RETRIEVAL_NOISE, sm3t.shape), SM_MIN, SM_MAX)
    sm3[~np.isfinite(sm3t) | (_block_mean(geo.crop(liquid), F3) < 0.5)] = np.nan
    lst = _lst(rng, ctx, temps, st.rained)
    return SimulatedDay(
        date=date, tb36_v=tb36_v, tb36_h=tb36_h,
        tb9_true_v=_block_mean(geo.crop(am_v), F9), tb9_true_h=_block_mean(geo.crop(am_h), F9),
        tb9_radar_v=np.empty(0), tb9_radar_h=np.empty(0), sigma0_9=sig9, sm9=sm9, sm3=sm3, sm3_true=sm3t,
        lst1=lst, surface_temperature36=ts36, tb36_v_pm=tb36_v_pm, tb36_h_pm=tb36_h_pm,
        surface_temperature36_pm=ts36_pm, sm36=sm36, sigma0_hv_9=sighv9, gamma36=np.empty(0))


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


def sca_v_retrieval(tb_v: np.ndarray, ts: np.ndarray, vwc: np.ndarray, clay: np.ndarray, h: np.ndarray,
                    b: np.ndarray, omega: np.ndarray, water_fraction: np.ndarray) -> np.ndarray:
    """Soil moisture (m³/m³) of 36 km cells by the single-channel algorithm at V polarisation, the SMAP
    L2_SM_P baseline (O'Neill et al., SMAP L2/L3 radiometer soil moisture ATBD).

    The open-water emission at the ancillary temperature ``ts`` is removed in proportion to
    ``water_fraction``; the land emissivity TB / ts is inverted through the tau–omega model (``vwc``, ``b``,
    ``omega``, roughness ``h``) and the Mironov permittivity of ``clay`` for soil moisture. NaN where TB is
    missing, the ground is frozen (ts < 273.15 K) or water covers more than half the cell; clipped to
    0.02–0.50 (the products' valid range).
    """
    shape = np.shape(tb_v)
    tb, t, wf = (np.asarray(a, np.float64).ravel() for a in (tb_v, ts, water_fraction))
    ok = np.isfinite(tb) & np.isfinite(t) & (t >= 273.15) & (wf <= WATER_MASK_FRACTION)
    out = np.full(tb.shape, np.nan)
    if ok.any():
        idx = np.flatnonzero(ok)
        pars = [np.broadcast_to(np.asarray(a, np.float64), shape).ravel()[idx][:, None]
                for a in (vwc, clay, h, b, omega)]
        e_water = np.array([water_emissivity(float(x), 0.5)[0] for x in t[idx]])
        e_land = (tb[idx] / t[idx] - wf[idx] * e_water) / (1.0 - wf[idx])
        sms = np.linspace(0.0, 0.60, 241)
        ev = land_emissivity(sms[None, :], pars[1], pars[0], pars[2], pars[3], pars[4])[0]  # falls with sm
        k = np.clip((ev > e_land[:, None]).sum(axis=1), 1, sms.size - 1)
        rows = np.arange(idx.size)
        e0, e1 = ev[rows, k - 1], ev[rows, k]
        frac = np.clip((e0 - e_land) / np.where(e0 > e1, e0 - e1, 1.0), 0.0, 1.0)
        out[idx] = np.clip(sms[k - 1] + frac * (sms[k] - sms[k - 1]), SM_MIN, SM_MAX)
    return out.reshape(shape)


def _retrievals(days: list[SimulatedDay], ctx: _Context, entropy: list[int]) -> None:
    """Fill in each day's 36 km SCA-V retrievals (AM, PM) from the observed TB with ancillary data that
    carry realistic errors: temperature (persistent + daily), VWC (relative, persistent + daily), clay
    (persistent), and h, b, ω from the class table without the within-class variation of the truth."""
    geo, sta = ctx.geo, ctx.sta
    c, F = geo.crop, geo.F
    frac36 = np.stack([_weighted_block_mean(c(sta.frac[k]), ctx.land_r, F)[0] for k in range(5)])
    frac36 = frac36 / np.maximum(frac36.sum(axis=0), 1e-9)
    h36, b36, om36 = (np.tensordot(tab, frac36, axes=1) for tab in (_H, _B, _OMEGA))
    b36 = np.where(np.isfinite(b36) & (b36 > 0), b36, 0.1)
    # VWC as the opacity-equivalent mean of the fine classes (the ancillary is made at 1 km and aggregated
    # as transmissivity, so a forest patch counts by what it hides, not by its kilograms)
    cos = math.cos(math.radians(THETA_DEG))
    gam = sum(sta.frac[k] * np.exp(-_B[k] * sta.vwc_k[k] / cos) for k in range(5))
    gam36 = _weighted_block_mean(c(gam / np.maximum(sta.frac.sum(axis=0), 1e-9)), ctx.land_r, F)[0]
    vwc36 = -cos * np.log(np.clip(gam36, 1e-6, 1.0)) / b36
    clay36 = _weighted_block_mean(c(sta.clay), ctx.land_r, F)[0]
    rng = np.random.default_rng(np.random.SeedSequence(entropy + [2, 0]))
    shape = geo.region.shape
    ts_bias = rng.normal(0.0, ANC_TS_STATIC_K, shape)
    vwc_bias = rng.normal(0.0, ANC_VWC_STATIC, shape)
    clay_anc = np.clip(clay36 + rng.normal(0.0, ANC_CLAY_STATIC, shape), 0.03, 0.60)
    for i, d in enumerate(days):
        r = np.random.default_rng(np.random.SeedSequence(entropy + [2, i + 1]))
        d.vwc36_ancillary = (np.nan_to_num(vwc36) * np.exp(vwc_bias + r.normal(0.0, ANC_VWC_DAILY, shape))
                             ).astype(np.float32)
        for tb, ts, suffix in ((d.tb36_v, d.surface_temperature36, ""),
                               (d.tb36_v_pm, d.surface_temperature36_pm, "_pm")):
            ts_anc = ts + ts_bias + r.normal(0.0, ANC_TS_DAILY_K, shape)
            sm = sca_v_retrieval(tb, ts_anc, d.vwc36_ancillary, clay_anc, h36, b36, om36, ctx.wf36)
            setattr(d, "sm36_retrieved" + suffix, sm.astype(np.float32))
            setattr(d, "ts36_ancillary" + suffix, ts_anc.astype(np.float32))


def simulate_region(grid: Grid, start: dt.date, days: int, seed: int, climate: str = "temperate",
                    fine: str = "M03", swath_gaps: bool = True, feedback: Feedback | None = None, *,
                    water: str = "lakes") -> SimulatedSeries:
    """Simulate ``days`` consecutive days over the M36 window ``grid``; deterministic for a seed.

    ``water``: 'none', 'lakes' (default) or 'coast' (a sea with a coastline, plus lakes).
    """
    fb = feedback or SILENT
    _check(grid, days, seed, climate, fine, water)
    clim = CLIMATES[climate]
    geo = _geometry(grid, fine)
    entropy = [int(seed), grid.row_off, grid.col_off, grid.rows, grid.cols, int(fine[1:]),
               list(CLIMATES).index(climate), WATER_KINDS.index(water)]
    sta = _static_fields(np.random.default_rng(np.random.SeedSequence(entropy + [0])), geo, clim, water)
    ctx = _context(geo, sta, clim, entropy, swath_gaps)
    # spin-up: anomalies start from their stationary law, the rain store from 20 days of weather
    rng0 = ctx.rng(-1000)
    st = _State([_grf(rng0, geo.fine_shape, geo.dx, s[0], 0.5) for s in _ANOMALY_SCALES],
                np.zeros(geo.fine_shape), float(rng0.normal(0.0, clim.t_synoptic)))
    for i in range(-20, 0):
        _step_moisture(ctx.rng(i), st, geo, sta, clim)
    out: list[SimulatedDay] = []
    for i in range(days):
        fb.check()
        out.append(_simulate_day(ctx, st, start + dt.timedelta(days=i), i))
        fb.progress(95.0 * (i + 1) / days)
    betas = _active_passive(out, ctx.wf9)
    _retrievals(out, ctx, entropy)
    for d in out:
        for name in d.__dataclass_fields__:
            v = getattr(d, name)
            if isinstance(v, np.ndarray):
                setattr(d, name, v.astype(np.float32))
    F9 = geo.F // 4
    c = geo.crop
    R, C = grid.shape
    vwc = c(sta.mean(sta.vwc_k))
    vwc9, _ = _weighted_block_mean(vwc, ctx.land_r, F9)
    vwc36, _ = _weighted_block_mean(vwc, ctx.land_r, geo.F)
    static = {
        "land_cover": np.where(c(sta.wf) > WATER_MASK_FRACTION, WATER, c(sta.dominant())).astype(np.uint8),
        "land_cover_fractions": sta.frac[:, geo.off[0] * geo.F:(geo.off[0] + R) * geo.F,
                                         geo.off[1] * geo.F:(geo.off[1] + C) * geo.F],
        "water_fraction": c(sta.wf), "water_fraction3": ctx.wf3, "water_fraction9": ctx.wf9,
        "water_fraction36": ctx.wf36, "vwc": vwc, "vwc9": vwc9, "vwc36": vwc36,
        "clay": c(sta.clay), "sand": c(sta.sand), "porosity": c(sta.porosity),
        "roughness_h": c(sta.mean(sta.h_k)), "rms_height_cm": c(sta.mean(sta.rms_k)),
        "sm_climatology": c(sta.sm_clim),
        "beta_v": betas["v"], "beta_h": betas["h"],
    }
    if sta.wf1 is not None:
        static["water_fraction1"] = sta.wf1
    static = {k: (v if v.dtype == np.uint8 else v.astype(np.float32)) for k, v in static.items()}
    attrs = {
        "simulated": "true", "seed": str(int(seed)), "climate": climate,
        "generator": "smapdown.core.simulate", "note": "simulated scene, not real SMAP data",
        "fine_grid": fine, "water": water, "start": start.isoformat(), "days": str(days),
        "region": f"M36 rows {grid.row_off}..{grid.row_off + R - 1}, cols {grid.col_off}..{grid.col_off + C - 1}",
        "models": ("Mironov 2009 soil permittivity; Klein-Swift 1977 water; Fresnel at 40 deg; "
                   "h cos^2 roughness; tau-omega; Dubois 1995 + Oh 1992 + water-cloud radar; 40 km FWHM "
                   "Gaussian footprint; NEDT 1.1 K; Das et al. active-passive 9 km TB"),
    }
    fb.progress(100.0)
    return SimulatedSeries(grid, grid.refine("M09"), grid.refine("M03"), grid.refine("M01") if geo.lst1 else None,
                           out, static, int(seed), climate, attrs, fine, water)


# --- diagnostics and output ---------------------------------------------------------------------------
def subcell_variability(series: SimulatedSeries) -> dict:
    """Mean over days of the std (K) of the true 9 km TB within each 36 km cell, per polarisation.

    'land': cells with water fraction < 0.01; 'water': cells with water fraction 0.05–0.95 (lakes and
    coasts; all-sea cells excluded); 'all': every cell. NaN where a class has no cell.
    """
    wf36 = series.static["water_fraction36"]
    classes = {"land": wf36 < 0.01, "water": (wf36 >= 0.05) & (wf36 <= 0.95), "all": np.ones_like(wf36, bool)}
    R, C = series.grid36.shape
    res: dict = {}
    stds = {}
    for p in ("v", "h"):
        per_day = []
        for d in series.days:
            a = getattr(d, f"tb9_true_{p}").astype(np.float64).reshape(R, 4, C, 4)
            per_day.append(a.std(axis=(1, 3)))
        stds[p] = np.mean(per_day, axis=0)
    for name, sel in classes.items():
        res[name] = {f"tb_{p}": (float(stds[p][sel].mean()) if sel.any() else float("nan")) for p in ("v", "h")}
        res[name]["cells"] = int(sel.sum())
    return res


def _write_low(write_product, series: SimulatedSeries, d: SimulatedDay, folder: str, tag: str,
               attrs: dict[str, str]) -> str:
    """SPL3SMP-like file: the 36 km AM and PM observations, the SCA-V soil-moisture retrieval and the
    ancillary temperature and VWC it used (with their errors, as the real product carries its ancillary)."""
    st = series.static

    def fields(tb_v, tb_h, sm, ts):
        return {"tb_v": tb_v, "tb_h": tb_h, "soil_moisture": sm, "surface_temperature": ts,
                "water_fraction": st["water_fraction36"], "vegetation_water_content": d.vwc36_ancillary}

    return write_product(os.path.join(folder, f"SMAP_L3_SM_P_{tag}_SIM.h5"), "SPL3SMP", series.grid36,
                         fields(d.tb36_v, d.tb36_h, d.sm36_retrieved, d.ts36_ancillary), date=d.date,
                         pm_fields=fields(d.tb36_v_pm, d.tb36_h_pm, d.sm36_retrieved_pm, d.ts36_ancillary_pm),
                         attrs=attrs)


def _write_high(write_product, series: SimulatedSeries, d: SimulatedDay, folder: str, tag: str,
                attrs: dict[str, str]) -> str:
    """SPL3SMAP-like file: radar-guided 9 km TB, σ⁰_VV, true 9 km soil moisture where radar exists."""
    st = series.static
    return write_product(
        os.path.join(folder, f"SMAP_L3_SM_AP_{tag}_SIM.h5"), "SPL3SMAP", series.grid9,
        {"tb_v": d.tb9_radar_v, "tb_h": d.tb9_radar_h, "sigma0_vv": d.sigma0_9,
         "soil_moisture": np.where(np.isfinite(d.sigma0_9), d.sm9, np.nan),
         "water_fraction": st["water_fraction9"], "vegetation_water_content": st["vwc9"]},
        date=d.date, attrs=attrs)


def write_series(series: SimulatedSeries, folder: str, feedback: Feedback | None = None) -> dict[str, list[str]]:
    """Write every day in the NASA product layouts (through core.smap_write) and GeoTIFFs.

    Returns {"low": SPL3SMP paths, "high": SPL3SMAP paths, "sm3": SPL2SMAP_S paths, "lst": LST GeoTIFFs,
    "truth": true 9 km TB GeoTIFFs, in the subfolder truth/ so a folder of products holds one 9 km TB
    per day, "static": [the static ancillary map, :func:`write_static_map`]}. Every file carries
    ``series.attrs`` (simulated = true, the seed).
    Days whose AM pass misses the whole region get no SPL3SMP / SPL3SMAP file (a reader would find no
    valid data in the region); their 3 km, LST and truth files are written.
    """
    from .raster import BandSpec, write_geotiff
    from .smap_write import write_product

    fb = feedback or SILENT
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create the output folder ({exc.strerror})") from None
    files: dict[str, list[str]] = {"low": [], "high": [], "sm3": [], "lst": [], "truth": [], "static": []}
    files["static"].append(write_static_map(series, os.path.join(folder, "STATIC_M03_SIM.tif")))
    for i, d in enumerate(series.days):
        fb.check()
        tag = d.date.strftime("%Y%m%d")
        attrs = dict(series.attrs)
        if np.isfinite(d.tb36_v).any():
            files["low"].append(_write_low(write_product, series, d, folder, tag, attrs))
            files["high"].append(_write_high(write_product, series, d, folder, tag, attrs))
        else:
            fb.info(f"{d.date}: the AM pass misses the whole region; no 36 km or 9 km product file")
        files["sm3"].append(write_product(
            os.path.join(folder, f"SMAP_L2_SM_SP_{tag}_SIM.h5"), "SPL2SMAP_S", series.grid3,
            {"soil_moisture": d.sm3, "water_fraction": series.static["water_fraction3"]}, date=d.date,
            attrs=attrs))
        md = dict(attrs, date=d.date.isoformat())
        files["lst"].append(write_geotiff(
            os.path.join(folder, f"LST_{tag}_SIM.tif"), series.lst_grid, [d.lst1],
            [BandSpec("lst", "K", "simulated MODIS-like daytime (10:30) land surface temperature")],
            dict(md, product="simulated LST", time="10:30 local solar, Terra-like")))
        files["truth"].append(write_geotiff(
            os.path.join(folder, "truth", f"TB9_TRUE_{tag}_SIM.tif"), series.grid9, [d.tb9_true_v, d.tb9_true_h],
            [BandSpec("tb_v", "K", "true 9 km brightness temperature, V (area mean of the fine TB)"),
             BandSpec("tb_h", "K", "true 9 km brightness temperature, H (area mean of the fine TB)")],
            dict(md, product="simulated true 9 km TB", time="06:00 (AM pass)")))
        fb.progress(100.0 * (i + 1) / len(series.days))
    return files


STATIC_MAP_CLAY_ERROR = 0.04  # std of the clay map's error (correlated over ~10 km)
STATIC_MAP_COVER_CONFUSION = 0.15  # share of each cell's cover mixed with the region's mean cover


def static_map(series: SimulatedSeries) -> tuple[Grid, list[np.ndarray]]:
    """The static ancillary map of the region on M03 (order of :data:`STATIC_BANDS`), with map errors:
    clay off by a correlated error, land-cover fractions partly confused with the region's mix, sand
    following clay's error. Deterministic for the series' seed."""
    st = series.static
    f = 3 if series.fine == "M01" else 1
    grid3 = series.grid3
    clay, sand = (_block_mean(st[k].astype(np.float64), f) for k in ("clay", "sand"))
    cover = np.stack([_block_mean(a.astype(np.float64), f) for a in st["land_cover_fractions"]])
    water = _block_mean(st["water_fraction"].astype(np.float64), f)
    rng = np.random.default_rng(np.random.SeedSequence([series.seed, 77, grid3.row_off, grid3.col_off]))
    err = STATIC_MAP_CLAY_ERROR * _grf(rng, grid3.shape, GRIDS["M03"][0] / 1000.0, 10.0, 1.0)
    clay_map = np.clip(clay + err, 0.0, 1.0)
    sand_map = np.clip(sand - 0.8 * err, 0.0, 1.0)
    mix = cover.reshape(5, -1).mean(axis=1)[:, None, None]
    cover_map = (1.0 - STATIC_MAP_COVER_CONFUSION) * cover + STATIC_MAP_COVER_CONFUSION * mix
    cover_map = cover_map / np.maximum(cover_map.sum(axis=0), 1e-9)
    return grid3, [clay_map, sand_map, *cover_map, water]


def write_static_map(series: SimulatedSeries, path: str) -> str:
    """Write :func:`static_map` as a GeoTIFF with named bands (one file per region: the map is static)."""
    from .raster import BandSpec, write_geotiff

    grid3, arrays = static_map(series)
    what = {"static_clay": "clay fraction (soil map)", "static_sand": "sand fraction (soil map)",
            "static_water": "open-water fraction"}
    bands = [BandSpec(n, "1", what.get(n, f"{n[7:]} fraction of the land (land-cover map)")) for n in STATIC_BANDS]
    md = dict(series.attrs, product="simulated static ancillary map",
              note="simulated soil and land-cover maps with map errors, not real data")
    return write_geotiff(path, grid3, [a.astype(np.float32) for a in arrays], bands, md)


def simulate_named(name: str, start: dt.date, days: int, seed: int, fine: str = "M03",
                   swath_gaps: bool = True, feedback: Feedback | None = None) -> SimulatedSeries:
    """Simulate one of CLIMATE_REGIONS with its climate and kind of open water."""
    if name not in CLIMATE_REGIONS:
        raise InputError(f"unknown region {name!r}; known: {', '.join(CLIMATE_REGIONS)}")
    spec = CLIMATE_REGIONS[name]
    return simulate_region(spec.grid, start, days, seed, spec.climate, fine, swath_gaps, feedback,
                           water=spec.water)
