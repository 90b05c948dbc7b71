"""The instruments: the radiometer's Gaussian footprint (40 km FWHM) with geolocation jitter, NEDT and
swath gaps; MODIS-like daytime LST with noise and correlated cloud gaps.
"""

from __future__ import annotations

import math

import numpy as np

from ..grid import GRIDS
from .fields import _grf, _upsample
from .landscape import _Context
from .weather import _Temperatures

FOOTPRINT_FWHM_KM = 40.0  # radiometer 3 dB footprint (SMAP: 39 x 47 km, taken circular)
NEDT_K = 1.1  # radiometric noise of the 36 km TB
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
