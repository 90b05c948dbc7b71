"""Downscaling the real SPL2SMP_NRT half-orbit with the bundled model: what can be checked without a 9 km truth."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from smapdown.core.inputs import read_tb36

gdal.UseExceptions()


@pytest.fixture(scope="module")
def real_run(provider, real_smap_l2, tmp_path_factory):
    import processing

    out = tmp_path_factory.mktemp("real")
    res = processing.run("smapdown:downscale", {"INPUT": str(real_smap_l2), "TILE": 192,
                                                "OUTPUT": str(out / "tb9.tif")})
    ds = gdal.Open(res["OUTPUT"])
    cnn = np.stack([ds.GetRasterBand(i + 1).ReadAsArray() for i in range(2)]).astype(np.float64)
    cnn[cnn == -9999] = np.nan
    return res, cnn, read_tb36(str(real_smap_l2))


def test_whole_half_orbit_nodata_where_input_is_nodata(real_run):
    res, cnn, scene = real_run
    tb36 = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data])
    assert cnn.shape[1:] == (tb36.shape[1] * 4, tb36.shape[2] * 4)
    expected = np.repeat(np.repeat(np.isfinite(tb36), 4, 1), 4, 2)
    np.testing.assert_array_equal(np.isfinite(cnn), expected)
    assert np.isfinite(cnn).sum() > 200_000  # the whole swath, ~17 000 cells of 36 km


def test_mean_preserved_and_physical(real_run):
    """Block means reproduce the 36 km TB wherever it is physical; below the open-water floor (the
    water-corrected TB over open water reaches 57.8 K at H in this file) the block sits at the floor; and no
    9 km pixel is colder than calm open water (the issue's 36 -> 9 km gate on the real half-orbit)."""
    from smapdown.core.tb_bounds import TB_CEILING, TB_FLOOR

    res, cnn, scene = real_run
    tb36 = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data])
    c, h, w = tb36.shape
    with np.errstate(invalid="ignore"):
        blocks = np.nanmean(cnn.reshape(c, h, 4, w, 4), axis=(2, 4))
    lo = np.array(TB_FLOOR)[:, None, None]
    ok = np.isfinite(tb36) & (tb36 >= lo) & (tb36 <= TB_CEILING)
    assert np.abs(blocks[ok] - tb36[ok]).max() <= 0.1
    below = np.isfinite(tb36) & (tb36 < lo)
    assert below.sum() == 17 + 45  # this file: 17 cells below the V floor, 45 below the H floor (open water)
    np.testing.assert_allclose(blocks[below], np.broadcast_to(lo, tb36.shape)[below], atol=0.1)
    assert res["MEAN_PRESERVATION_ERROR"] <= 0.1
    for b in range(2):
        v = cnn[b][np.isfinite(cnn[b])]
        assert v.min() >= TB_FLOOR[b] - 1e-3 and v.max() <= TB_CEILING


def test_detail_inside_36km_cells(real_run):
    _, cnn, _ = real_run
    c, H, W = cnn.shape
    with np.errstate(invalid="ignore"):
        within = np.nanstd(cnn.reshape(c, H // 4, 4, W // 4, 4), axis=(2, 4))
    full = np.isfinite(cnn.reshape(c, H // 4, 4, W // 4, 4)).all(axis=(2, 4))
    assert np.median(within[full]) > 0.05  # not a blocky copy of the 36 km cells
    # a 36 km coastal cell half water (~100 K) and half land (~260 K) has a 9 km std of ~80 K at most
    assert np.percentile(within[full], 99) < 80
    assert np.percentile(within[full], 50) < 15  # inland cells: a few K, as seen in SMAP/AP 9 km products


def test_real_file_gives_the_soil_moisture_model_its_36km_inputs_exactly(real_smap_l2):
    """The bundled soil-moisture model reads the product's own retrieval, VWC and surface temperature:
    from the real half-orbit they come out cell for cell as stored, fill and out-of-range values masked."""
    import h5py

    from smapdown.workflows.soil_moisture import SM_ANCILLARY

    scene = read_tb36(str(real_smap_l2), ancillary=SM_ANCILLARY)
    with h5py.File(real_smap_l2, "r") as f:
        g = f["Soil_Moisture_Retrieval_Data"]
        rows = g["EASE_row_index"][:].astype(int) - scene.grid.row_off
        cols = g["EASE_column_index"][:].astype(int) - scene.grid.col_off
        for role in SM_ANCILLARY:
            ds = g[role]
            raw = ds[:].astype(np.float64)
            lo, hi = float(ds.attrs["valid_min"]), float(ds.attrs["valid_max"])
            ok = (raw != float(ds.attrs["_FillValue"])) & np.isfinite(raw) & (raw >= lo) & (raw <= hi)
            got = scene.by_role(role).data[rows, cols]
            np.testing.assert_allclose(got[ok], raw[ok], rtol=1e-6)
            assert np.isnan(got[~ok]).all(), role
            assert ok.sum() > 1000, role


def test_soil_moisture_on_the_real_half_orbit(run_alg, real_smap_l2, tmp_path):
    """Case 2 on real SMAP input (LST and soil / land-cover maps flat, as no real ones of that place are here):
    the bundled model runs on the real retrieval and ancillary, values stay in range, nodata follows the
    input (TB and the product's own retrieval) and frozen ground (real surface temperature < 273.15 K) is
    left empty."""
    from smapdown.core.grid import Grid
    from smapdown.core.raster import BandSpec, write_geotiff
    from smapdown.core.scene import STATIC_BANDS
    from smapdown.workflows.soil_moisture import SM_ANCILLARY

    scene = read_tb36(str(real_smap_l2), ancillary=SM_ANCILLARY)
    ok = np.isfinite(scene.by_role("soil_moisture").data)
    r, c = np.argwhere(ok[1:-1, 1:-1])[len(np.argwhere(ok[1:-1, 1:-1])) // 2] + 1  # a retrieved cell mid-swath
    win = Grid("M36", scene.grid.row_off + r - 1, scene.grid.col_off + c - 1, 3, 3)
    g3 = win.refine("M03")
    lst = write_geotiff(str(tmp_path / "lst.tif"), g3, [np.full(g3.shape, 300.0, np.float32)],
                        [BandSpec("lst", "K", "flat LST")], {})
    flat = {"static_clay": 0.2, "static_sand": 0.4, "static_grassland": 1.0}  # no real soil map here either
    static = write_geotiff(str(tmp_path / "static.tif"), g3,
                           [np.full(g3.shape, flat.get(n, 0.0), np.float32) for n in STATIC_BANDS],
                           [BandSpec(n, "1", n) for n in STATIC_BANDS], {})
    xmin, ymin, xmax, ymax = win.bounds()
    res = run_alg("soilmoisture", {"INPUT": str(real_smap_l2), "LST": lst, "STATIC": static, "GRID": 0,
                                   "EXTENT": f"{xmin},{xmax},{ymin},{ymax} [EPSG:6933]",
                                   "OUTPUT": str(tmp_path / "sm.tif")})
    ds = gdal.Open(res["OUTPUT"])
    sm = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
    sm[sm == -9999] = np.nan
    assert sm.shape == (36, 36)
    sub = scene.by_role("tb_v").data[r - 1:r + 2, c - 1:c + 2]
    ts = scene.by_role("surface_temperature").data[r - 1:r + 2, c - 1:c + 2]
    ret = scene.by_role("soil_moisture").data[r - 1:r + 2, c - 1:c + 2]
    empty = np.repeat(np.repeat(~np.isfinite(sub) | ~np.isfinite(ret) | (ts < 273.15), 12, 0), 12, 1)
    np.testing.assert_array_equal(np.isnan(sm), empty)
    assert np.nanmin(sm) >= 0.0 and np.nanmax(sm) <= 0.6
