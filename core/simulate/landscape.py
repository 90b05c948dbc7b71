"""Soil and climate fields: the climates, the land-cover classes and their non-vegetation parameters, the
region's padded geometry, the static fields (water, soil texture, land cover, per-class parameters with
their within-class variation, soil-moisture climatology) and the static context a day reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..grid import GRIDS, Grid
from .fields import _block_mean, _grf, _linear_interp_matrix, _upsample
from .vegetation import _CANOPY_DB, _H, _VWC

SM_MIN, SM_MAX = 0.02, 0.50
PAD_CELLS = 2  # 36 km cells of margin simulated around the region on every side
WATER_MASK_FRACTION = 0.5  # products are empty where water covers more than this
LST1_MAX_PIXELS = 1_500_000  # larger regions get their LST on M03
WATER1_MAX_PIXELS = 6_000_000  # larger padded regions draw water on the fine grid
# land cover classes (codes of static["land_cover"])
LAND_COVER = ("bare", "grassland", "cropland", "forest", "urban", "water")
BARE, GRASS, CROP, FOREST, URBAN, WATER = range(6)
# per land class (bare, grass, crop, forest, urban): radar rms height (cm), daily-mean temperature offset (K),
# diurnal-range factor, soil-moisture climatology offset (m3/m3); the vegetation's parameters: vegetation.py
_RMS_CM = np.array([1.2, 0.8, 1.5, 1.5, 1.0])
_T_OFFSET = np.array([1.0, 0.0, -0.5, -1.5, 2.5])
_DIURNAL = np.array([1.0, 0.8, 0.7, 0.45, 0.85])
_SM_OFFSET = np.array([-0.03, 0.0, 0.01, 0.03, -0.03])
_IMPERVIOUS = 0.5  # impervious fraction of an urban cell


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
# Regional gradients (vegetation density, land-cover mix, wetness) at the scale between 36 km cells. Anchor:
# the real SPL2SMP_NRT half-orbit's 36 km TB semivariogram over land (docs/validation.md), which was 3.5 times
# the simulator's at 36 km lags and 1.5-1.7 times at 108-180 km without them.
REGIONAL_LENGTH_KM = 40.0  # correlation length (km)
REGIONAL_COVER = 1.2  # weight of the regional field in each class's cover field (patch field: 1)
REGIONAL_VWC = 0.35  # std of log(VWC) across the region
REGIONAL_SM = 0.07  # std of the soil-moisture climatology across the region (m3/m3)


def _land_cover(rng: np.random.Generator, shape: tuple[int, int], dx: float, frac: np.ndarray,
                clay_z: np.ndarray | None) -> np.ndarray:
    """Class map (0..4) by hierarchical quantile thresholds of correlated fields; grassland fills the rest.

    Patches are km-sized with a landscape-scale (30 km) and a regional (60 km) modulation, as real mosaics of
    fields and woods whose mix changes across a region.
    """
    cover = np.full(shape, GRASS, dtype=np.int8)
    free = np.ones(shape, bool)
    remaining = 1.0
    for cls, length, large in _COVER_FIELDS:
        share = min(frac[cls] / remaining, 1.0) if remaining > 1e-9 else 0.0
        if share > 1e-4 and free.any():
            z = (_grf(rng, shape, dx, length, 0.5) + large * _grf(rng, shape, dx, 30.0, 1.0)
                 + REGIONAL_COVER * _grf(rng, shape, dx, REGIONAL_LENGTH_KM, 1.0))
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
    regional = _grf(rng, shape, dx, REGIONAL_LENGTH_KM, 1.0)
    vwc_var = np.exp(0.25 * _grf(rng, shape, dx, 6.0, 0.5) + REGIONAL_VWC * regional)
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
               + np.tensordot(sm_off, frac, axes=1) + 0.02 * _grf(rng, shape, dx, 6.0, 0.5)
               + REGIONAL_SM * _grf(rng, shape, dx, REGIONAL_LENGTH_KM, 1.0))
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
