"""Writing a simulated series in NASA's product layouts (through core.smap_write) and GeoTIFFs, and the
static ancillary map with map errors.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import InputError
from ..feedback import SILENT, Feedback
from ..grid import GRIDS, Grid
from ..scene import STATIC_BANDS
from .fields import _block_mean, _grf
from .series import SimulatedDay, SimulatedSeries


def _write_low(write_product, series: SimulatedSeries, d: SimulatedDay, folder: str, tag: str,
               attrs: dict[str, str]) -> str:
    """SPL3SMP-like file: the 36 km AM and PM observations, the SCA-V soil-moisture retrieval and the
    ancillary temperature and VWC it used (with their errors, as the real product carries its ancillary); the
    TB water-corrected as ``tb_*_corrected`` and as observed as ``tb_*_uncorrected``."""
    st = series.static

    def fields(tb_v, tb_h, sm, ts, tb_v_unc, tb_h_unc):
        return {"tb_v": tb_v, "tb_h": tb_h, "tb_v_uncorrected": tb_v_unc, "tb_h_uncorrected": tb_h_unc,
                "soil_moisture": sm, "surface_temperature": ts,
                "water_fraction": st["water_fraction36"], "vegetation_water_content": d.vwc36_ancillary}

    return write_product(os.path.join(folder, f"SMAP_L3_SM_P_{tag}_SIM.h5"), "SPL3SMP", series.grid36,
                         fields(d.tb36_v, d.tb36_h, d.sm36_retrieved, d.ts36_ancillary,
                                d.tb36_v_uncorrected, d.tb36_h_uncorrected), date=d.date,
                         pm_fields=fields(d.tb36_v_pm, d.tb36_h_pm, d.sm36_retrieved_pm, d.ts36_ancillary_pm,
                                          d.tb36_v_pm_uncorrected, d.tb36_h_pm_uncorrected),
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
    from ..raster import BandSpec, write_geotiff
    from ..smap_write import write_product

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
        if np.isfinite(d.sm3).any():  # the product exists on Sentinel-1 days only
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
            os.path.join(folder, "truth", f"TB9_TRUE_{tag}_SIM.tif"), series.grid9,
            [d.tb9_true_v, d.tb9_true_h, d.tb9_true_v_uncorrected, d.tb9_true_h_uncorrected],
            [BandSpec("tb_v", "K", "true 9 km brightness temperature, V, water-corrected (mean TB of the land "
                      "part; empty where water covers more than half the cell)"),
             BandSpec("tb_h", "K", "true 9 km brightness temperature, H, water-corrected (mean TB of the land "
                      "part; empty where water covers more than half the cell)"),
             BandSpec("tb_v_uncorrected", "K", "true 9 km brightness temperature, V, area mean with water"),
             BandSpec("tb_h_uncorrected", "K", "true 9 km brightness temperature, H, area mean with water")],
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
    from ..raster import BandSpec, write_geotiff

    grid3, arrays = static_map(series)
    what = {"static_clay": "clay fraction (soil map)", "static_sand": "sand fraction (soil map)",
            "static_water": "open-water fraction"}
    bands = [BandSpec(n, "1", what.get(n, f"{n[7:]} fraction of the land (land-cover map)")) for n in STATIC_BANDS]
    md = dict(series.attrs, product="simulated static ancillary map",
              note="simulated soil and land-cover maps with map errors, not real data")
    return write_geotiff(path, grid3, [a.astype(np.float32) for a in arrays], bands, md)
