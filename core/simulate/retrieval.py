"""The 36 km soil-moisture retrieval of the SPL3SMP-like product: the single-channel algorithm at V
(SCA-V, the SMAP L2_SM_P baseline) with ancillary data that carry realistic errors.
"""

from __future__ import annotations

import math

import numpy as np

from .emission import THETA_DEG, fresnel_reflectivity, land_emissivity, water_emissivity, water_permittivity
from .fields import _weighted_block_mean
from .landscape import SM_MAX, SM_MIN, WATER_MASK_FRACTION, _Context
from .series import SimulatedDay
from .vegetation import _B, _H, _OMEGA

# ancillary errors of the simulated 36 km retrieval (GEOS-5-like temperature, NDVI-climatology VWC, soil map)
ANC_TS_STATIC_K, ANC_TS_DAILY_K = 1.0, 1.5  # K, per cell: persistent + daily
ANC_VWC_STATIC, ANC_VWC_DAILY = 0.15, 0.08  # relative (log-normal), per cell: persistent + daily
ANC_CLAY_STATIC = 0.04  # clay fraction, per cell, persistent
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


def water_corrected_tb(tb: np.ndarray, ts: np.ndarray, water_fraction: np.ndarray, pol: str) -> np.ndarray:
    """The water-body correction of a 36 km TB (K) as SPL2SMP makes ``tb_*_corrected``.

    TB_land = (TB − f · TB_water) / (1 − f), with f the main-beam (antenna-weighted) water fraction and
    TB_water the emission of calm fresh water at the ancillary surface temperature ``ts`` (K; at least
    273.15 K). Measured on the real SPL2SMP_NRT half-orbit: the TB_water implied by its corrected and
    uncorrected TB and ``surface_water_fraction_mb_*`` has median 129.0 K (V) / 88.3 K (H), this model at
    the file's surface temperature 127.8 / 83.8 K. Left as is where f ≤ 0 or f > 0.5 (the real product
    corrects neither) or where TB or ``ts`` is missing. ``pol``: 'v' or 'h'.
    """
    tb = np.asarray(tb, np.float64)
    t = np.maximum(np.nan_to_num(np.asarray(ts, np.float64), nan=273.15), 273.15)
    f = np.broadcast_to(np.asarray(water_fraction, np.float64), tb.shape)
    rv, rh = fresnel_reflectivity(water_permittivity(t, 0.5))
    tb_water = t * (1.0 - (rv if pol == "v" else rh))
    ok = np.isfinite(tb) & np.isfinite(np.asarray(ts, np.float64)) & (f > 0.0) & (f <= WATER_MASK_FRACTION)
    with np.errstate(invalid="ignore", divide="ignore"):
        corrected = (tb - f * tb_water) / (1.0 - f)
    return np.where(ok, corrected, tb)


def _retrievals(days: list[SimulatedDay], ctx: _Context, entropy: list[int], wf_mb36: np.ndarray) -> None:
    """Fill in each day's ancillary data, water-corrected 36 km TB and 36 km SCA-V retrievals (AM, PM).

    The ancillary data carry realistic errors: temperature (persistent + daily), VWC (relative, persistent +
    daily), clay (persistent), and h, b, ω from the class table without the within-class variation of the
    truth. The observed TB is kept as ``tb36_*_uncorrected``; ``tb36_*`` becomes the water-corrected TB
    (:func:`water_corrected_tb` with the main-beam water fraction ``wf_mb36`` and the ancillary
    temperature). The SCA-V retrieval inverts the uncorrected TB with its own water term (same result)."""
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
            for pol in ("v", "h"):
                name = f"tb36_{pol}{suffix}"
                observed = getattr(d, name)
                setattr(d, name + "_uncorrected", observed)
                setattr(d, name, water_corrected_tb(observed, ts_anc, wf_mb36, pol))
