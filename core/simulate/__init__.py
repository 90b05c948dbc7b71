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
* 3 km soil moisture (SPL2SMAP_S-like, ``sentinel``): the land-mean soil moisture of each M03 cell, empty
  where water covers more than half the cell or where the soil is frozen at 6 AM, with retrieval errors of
  about 0.04 m³/m³ (white, persistent correlated over 10 km, daily correlated over 20 km), on Sentinel-1 days
  only (every 6 days from the series' first day; the real product only exists on those days);
* MODIS-like daytime LST (10:30) at 1 km with correlated cloud gaps (20–40 % of the area on average,
  more on rainy days), 0.7 K noise; on M03 instead when the region is too large for M01.

Everything is deterministic for (seed, region, climate, fine grid, water kind); a day's random draws
depend only on its index, so a longer series starts with the same days. All products are float32.


Modules: ``fields`` (random fields, block helpers), ``landscape`` (climates, land cover, static fields),
``vegetation`` (class tables), ``emission`` (dielectric and emission), ``weather`` (moisture and
temperature state), ``radar`` (backscatter), ``instrument`` (radiometer, MODIS), ``active_passive``,
``retrieval`` (SCA-V, the water-body correction), ``sentinel`` (the 3 km product), ``series`` (results),
``engine`` (the driver), ``products`` (files), ``regions`` (named regions). This package exports the public API below.
"""

from __future__ import annotations

from .active_passive import BETA_RANGE, GAMMA_RANGE
from .emission import (
    EPS0,
    FREQ_RADIOMETER,
    THETA_DEG,
    fresnel_reflectivity,
    land_emissivity,
    land_tb,
    mironov_permittivity,
    water_emissivity,
    water_permittivity,
    water_tb,
)
from .engine import simulate_named, simulate_region, subcell_variability
from .instrument import FOOTPRINT_FWHM_KM, NEDT_K, footprint_sample
from .landscape import (
    BARE,
    CLIMATES,
    CROP,
    FOREST,
    GRASS,
    LAND_COVER,
    REGIONAL_COVER,
    REGIONAL_LENGTH_KM,
    REGIONAL_SM,
    REGIONAL_VWC,
    SM_MAX,
    SM_MIN,
    URBAN,
    WATER,
    WATER_KINDS,
    WATER_MASK_FRACTION,
    Climate,
)
from .products import STATIC_MAP_CLAY_ERROR, STATIC_MAP_COVER_CONFUSION, static_map, write_series, write_static_map
from .radar import (
    FREQ_RADAR,
    KP_3KM,
    KP_HV_3KM,
    backscatter,
    double_bounce,
    dubois_sigma0_vv,
    oh_copol_ratio,
    oh_cross_ratio,
    sigma0_vv_db,
)
from .regions import CLIMATE_REGIONS, RegionSpec, default_region
from .retrieval import sca_v_retrieval, water_corrected_tb
from .sentinel import SENTINEL1_REVISIT_DAYS, SM3_ERROR, sentinel1_day
from .series import SimulatedDay, SimulatedSeries

__all__ = [
    "REGIONAL_COVER", "REGIONAL_LENGTH_KM", "REGIONAL_SM", "REGIONAL_VWC",
    "BARE", "BETA_RANGE", "CLIMATES", "CLIMATE_REGIONS", "CROP", "EPS0", "FOOTPRINT_FWHM_KM", "FOREST",
    "FREQ_RADAR", "FREQ_RADIOMETER", "GAMMA_RANGE", "GRASS", "KP_3KM", "KP_HV_3KM", "LAND_COVER", "NEDT_K",
    "SM_MAX", "SM_MIN", "SENTINEL1_REVISIT_DAYS", "SM3_ERROR", "sentinel1_day", "STATIC_MAP_CLAY_ERROR",
    "STATIC_MAP_COVER_CONFUSION", "THETA_DEG",
    "URBAN", "WATER", "WATER_KINDS", "WATER_MASK_FRACTION", "Climate", "RegionSpec", "SimulatedDay",
    "SimulatedSeries", "backscatter", "default_region", "dubois_sigma0_vv", "footprint_sample",
    "fresnel_reflectivity", "land_emissivity", "land_tb", "mironov_permittivity", "oh_cross_ratio", "oh_copol_ratio",
    "double_bounce",
    "sca_v_retrieval", "sigma0_vv_db", "simulate_named", "simulate_region", "static_map", "subcell_variability",
    "water_corrected_tb", "water_emissivity", "water_permittivity", "water_tb", "write_series", "write_static_map",
    "source_digest",
]


def source_digest() -> str:
    """SHA-1 (8 hex digits) of the simulator's source files: a changed simulator never reuses cached scenes."""
    import hashlib
    import os

    h = hashlib.sha1()
    folder = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()[:8]
