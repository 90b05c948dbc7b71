"""Downscaling the real SPL2SMP_NRT half-orbit with the bundled model: what can be checked without a 9 km truth."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from smapdown.core.pipeline import read_tb36

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
    res, cnn, scene = real_run
    tb36 = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data])
    c, h, w = tb36.shape
    with np.errstate(invalid="ignore"):
        blocks = np.nanmean(cnn.reshape(c, h, 4, w, 4), axis=(2, 4))
    ok = np.isfinite(tb36)
    assert np.abs(blocks[ok] - tb36[ok]).max() <= 0.1
    assert res["MEAN_PRESERVATION_ERROR"] <= 0.1
    v = cnn[np.isfinite(cnn)]
    assert v.min() >= 0 and v.max() <= 340  # the product's valid range for TB


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
