"""The simulator's driver: checks the request, builds the static context, spins up the state and runs
the days (weather, emission, observation, radar, products), then the series-wide active–passive β and
the 36 km retrievals; plus diagnostics of the result.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..errors import InputError
from ..feedback import SILENT, Feedback
from ..grid import Grid
from .active_passive import _active_passive
from .emission import _emission
from .fields import _block_mean, _grf, _weighted_block_mean
from .instrument import _lst, _observe, footprint_sample
from .landscape import (
    CLIMATES,
    WATER,
    WATER_KINDS,
    WATER_MASK_FRACTION,
    _Context,
    _context,
    _geometry,
    _static_fields,
)
from .radar import _radar
from .regions import CLIMATE_REGIONS
from .retrieval import _retrievals
from .sentinel import _sentinel_retrievals
from .series import SimulatedDay, SimulatedSeries
from .weather import _ANOMALY_SCALES, _State, _step_moisture, _temperatures


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


def _simulate_day(ctx: _Context, st: _State, date: dt.date, i: int) -> SimulatedDay:
    """One day: weather, emission, the 36 km observation, radar and soil-moisture products, LST."""
    geo = ctx.geo
    F, F9, F3 = geo.F, geo.F // 4, geo.F // 12
    rng = ctx.rng(i)
    sm = _step_moisture(rng, st, geo, ctx.sta, ctx.clim)
    temps = _temperatures(rng, ctx, st, sm, date.timetuple().tm_yday)
    am_v, am_h, liquid, ts36, land_v, land_h = _emission(ctx, sm, temps, "06:00")
    pm_v, pm_h, _, ts36_pm, _, _ = _emission(ctx, sm, temps, "18:00")
    tb36_v, tb36_h = _observe(rng, ctx, am_v, am_h, False)
    tb36_v_pm, tb36_h_pm = _observe(rng, ctx, pm_v, pm_h, True)
    sig9, sighv9, sighh9 = _radar(rng, ctx, sm, liquid, ~np.isfinite(tb36_v))
    sm_r, land_r = geo.crop(sm), ctx.land_r
    sm9, _ = _weighted_block_mean(sm_r, land_r, F9)
    sm36, _ = _weighted_block_mean(sm_r, land_r, F)
    sm3t, _ = _weighted_block_mean(sm_r, land_r, F3)
    sm9[ctx.wf9 > WATER_MASK_FRACTION] = np.nan
    sm36[ctx.wf36 > WATER_MASK_FRACTION] = np.nan
    sm3t[ctx.wf3 > WATER_MASK_FRACTION] = np.nan
    sm3 = sm3t.copy()  # the 3 km product's errors and days: sentinel._sentinel_retrievals
    sm3[_block_mean(geo.crop(liquid), F3) < 0.5] = np.nan
    lst = _lst(rng, ctx, temps, st.rained)
    true9 = []
    for land_tb in (land_v, land_h):  # the water-corrected truth: the land part's mean TB
        t9, _ = _weighted_block_mean(geo.crop(land_tb), land_r, F9)
        t9[ctx.wf9 > WATER_MASK_FRACTION] = np.nan
        true9.append(t9)
    return SimulatedDay(
        date=date, tb36_v=tb36_v, tb36_h=tb36_h, tb9_true_v=true9[0], tb9_true_h=true9[1],
        tb9_true_v_uncorrected=_block_mean(geo.crop(am_v), F9),
        tb9_true_h_uncorrected=_block_mean(geo.crop(am_h), F9),
        tb9_radar_v=np.empty(0), tb9_radar_h=np.empty(0), sigma0_9=sig9, sm9=sm9, sm3=sm3, sm3_true=sm3t,
        lst1=lst, surface_temperature36=ts36, tb36_v_pm=tb36_v_pm, tb36_h_pm=tb36_h_pm,
        surface_temperature36_pm=ts36_pm, sm36=sm36, sigma0_hv_9=sighv9, gamma36=np.empty(0),
        sigma0_hh_9=sighh9)


def _static_outputs(ctx: _Context, wf_mb36: np.ndarray, betas: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The series' static fields on the region (see :class:`SimulatedSeries`), float32 (land cover uint8)."""
    geo, sta = ctx.geo, ctx.sta
    F9 = geo.F // 4
    c = geo.crop
    R, C = geo.region.shape
    vwc = c(sta.mean(sta.vwc_k))
    vwc9, _ = _weighted_block_mean(vwc, ctx.land_r, F9)
    vwc36, _ = _weighted_block_mean(vwc, ctx.land_r, geo.F)
    static = {
        "land_cover": np.where(c(sta.wf) > WATER_MASK_FRACTION, WATER, c(sta.dominant())).astype(np.uint8),
        "land_cover_fractions": sta.frac[:, geo.off[0] * geo.F:(geo.off[0] + R) * geo.F,
                                         geo.off[1] * geo.F:(geo.off[1] + C) * geo.F],
        "water_fraction": c(sta.wf), "water_fraction3": ctx.wf3, "water_fraction9": ctx.wf9,
        "water_fraction36": ctx.wf36, "water_fraction_mb36": wf_mb36, "vwc": vwc, "vwc9": vwc9, "vwc36": vwc36,
        "clay": c(sta.clay), "sand": c(sta.sand), "porosity": c(sta.porosity),
        "roughness_h": c(sta.mean(sta.h_k)), "rms_height_cm": c(sta.mean(sta.rms_k)),
        "sm_climatology": c(sta.sm_clim),
        "beta_v": betas["v"], "beta_h": betas["h"],
    }
    if sta.wf1 is not None:
        static["water_fraction1"] = sta.wf1
    return {k: (v if v.dtype == np.uint8 else v.astype(np.float32)) for k, v in static.items()}


def _attrs(grid: Grid, seed: int, climate: str, fine: str, water: str, start: dt.date, days: int) -> dict[str, str]:
    """Provenance attributes every file of the series carries (simulated = true, the seed, the models)."""
    R, C = grid.shape
    return {
        "simulated": "true", "seed": str(int(seed)), "climate": climate,
        "generator": "smapdown.core.simulate", "note": "simulated scene, not real SMAP data",
        "fine_grid": fine, "water": water, "start": start.isoformat(), "days": str(days),
        "region": f"M36 rows {grid.row_off}..{grid.row_off + R - 1}, cols {grid.col_off}..{grid.col_off + C - 1}",
        "models": ("Mironov 2009 soil permittivity; Klein-Swift 1977 water; Fresnel at 40 deg; "
                   "h cos^2 roughness; tau-omega; Dubois 1995 + Oh 1992 (VV, HV, HH) + water-cloud radar with a "
                   "soil-stem double bounce; 40 km FWHM Gaussian footprint; NEDT 1.1 K; SPL2SMP water-body "
                   "correction of the 36 km TB (tb_*_corrected; the truth is the land part's TB); Das et al. "
                   "active-passive 9 km TB (TB_H from sigma_HH); SPL2SMAP_S-like 3 km soil moisture on Sentinel-1 "
                   "days with correlated errors"),
    }


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
    # the radiometer's main-beam water fraction (the footprint-weighted static water fraction at the nominal
    # cell centres), with which SPL2SMP corrects the 36 km TB for water bodies
    wf_mb36 = footprint_sample(sta.wf, grid.shape, geo.off, geo.F, geo.dx)
    _retrievals(out, ctx, entropy, wf_mb36)
    _sentinel_retrievals(out, entropy)
    betas = _active_passive(out, ctx.wf9)
    for d in out:
        for name in d.__dataclass_fields__:
            v = getattr(d, name)
            if isinstance(v, np.ndarray):
                setattr(d, name, v.astype(np.float32))
    static = _static_outputs(ctx, wf_mb36, betas)
    attrs = _attrs(grid, seed, climate, fine, water, start, days)
    fb.progress(100.0)
    return SimulatedSeries(grid, grid.refine("M09"), grid.refine("M03"), grid.refine("M01") if geo.lst1 else None,
                           out, static, int(seed), climate, attrs, fine, water)


# --- diagnostics and output ---------------------------------------------------------------------------
def subcell_variability(series: SimulatedSeries) -> dict:
    """Mean over days of the std (K) of the true 9 km TB (area mean, water included) within each 36 km cell,
    per polarisation.

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
            a = getattr(d, f"tb9_true_{p}_uncorrected").astype(np.float64).reshape(R, 4, C, 4)
            per_day.append(a.std(axis=(1, 3)))
        stds[p] = np.mean(per_day, axis=0)
    for name, sel in classes.items():
        res[name] = {f"tb_{p}": (float(stds[p][sel].mean()) if sel.any() else float("nan")) for p in ("v", "h")}
        res[name]["cells"] = int(sel.sum())
    return res


def simulate_named(name: str, start: dt.date, days: int, seed: int, fine: str = "M03",
                   swath_gaps: bool = True, feedback: Feedback | None = None) -> SimulatedSeries:
    """Simulate one of CLIMATE_REGIONS with its climate and kind of open water."""
    if name not in CLIMATE_REGIONS:
        raise InputError(f"unknown region {name!r}; known: {', '.join(CLIMATE_REGIONS)}")
    spec = CLIMATE_REGIONS[name]
    return simulate_region(spec.grid, start, days, seed, spec.climate, fine, swath_gaps, feedback,
                           water=spec.water)
