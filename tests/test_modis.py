import datetime as dt

import h5py
import numpy as np
import pytest
from osgeo import gdal, osr

from smapdown.core import modis
from smapdown.core.errors import Canceled, InputError
from smapdown.core.feedback import Feedback
from smapdown.core.grid import GRIDS, Grid, transform_points, wgs84_srs
from smapdown.core.modis import read_lst
from smapdown.core.raster import BandSpec, write_geotiff

gdal.UseExceptions()

SDS = 'HDF4_EOS:EOS_GRID:"{}":MODIS_Grid_Daily_1km_LST:{}'


def _read_sds(path, name):
    ds = gdal.Open(SDS.format(path, name))
    return ds.GetRasterBand(1).ReadAsArray(), ds.GetGeoTransform(), ds.GetSpatialRef()


def _valid_input(path, layer="Day", qc=True):
    """Valid 1 km LST (K) of the tile, computed independently of the reader."""
    dn, gt, srs = _read_sds(path, f"LST_{layer}_1km")
    ok = dn >= 7500
    if qc:
        q, _, _ = _read_sds(path, f"QC_{layer}")
        ok &= (q & 3) == 0
    return np.where(ok, dn * 0.02, np.nan), gt, srs


_CACHE: dict = {}


@pytest.fixture
def m09_day(real_mod11a1):
    """The real tile's day LST on M09, read once per session (about a second)."""
    key = str(real_mod11a1)
    if key not in _CACHE:
        _CACHE[key] = read_lst(key, "day", "M09")
    return _CACHE[key]


# --- the real tile --------------------------------------------------------------------------------
def test_real_tile_metadata_and_ranges(real_mod11a1, m09_day):
    s = m09_day
    assert s.product == "MOD11A1" and s.pass_ == "day" and s.date == dt.date(2019, 11, 1)
    assert s.attrs["short_name"] == "MOD11A1" and s.attrs["layer"] == "day" and "00" in s.attrs["qc"]
    lst, cnt = s.by_role("lst").data, s.by_role("count").data
    assert lst.dtype == np.float32 and cnt.dtype == np.float32 and s.grid.name == "M09"
    ok = np.isfinite(lst)
    assert ok.sum() > 1000
    assert lst[ok].min() >= 250 and lst[ok].max() <= 340
    assert (cnt[ok] > 0).all() and (cnt[~ok] == 0).all()
    # max possible: one M09 cell over one ~926.6 m MODIS cell (ellipsoid vs sphere: < 1 % apart)
    _, gt, _ = _read_sds(real_mod11a1, "LST_Day_1km")
    max_count = GRIDS["M09"][0] ** 2 / (gt[1] * -gt[5])
    assert cnt.max() <= 1.01 * max_count and cnt.max() > 0.9 * max_count
    assert (cnt[ok] >= 1).mean() > 0.9  # only edge / cloud-edge cells fall below one full cell


def test_real_tile_window_covers_footprint(real_mod11a1, m09_day):
    g = m09_day.grid
    lon, lat = g.lonlat(np.array([0, g.rows - 1, g.rows // 2, g.rows // 2]),
                        np.array([g.cols // 2, g.cols // 2, 0, g.cols - 1]))
    dlon = np.degrees(g.cell_size / (6378137.0 * np.cos(np.radians(30))))
    dlat = 0.1  # one M09 cell is ~0.07 deg of latitude near the equator
    assert abs(lat[0] - 0.0) <= dlat and abs(lat[1] - (-10.0)) <= dlat
    # the tile's west edge is the meridian x = -4447802 m of the sinusoidal grid: -40.62 deg at 10 S
    assert abs(lon[2] - (-40.62)) <= 2 * dlon and abs(lon[3] - (-30.0)) <= dlon
    # every valid cell centre lies in the tile's sinusoidal footprint (within one output cell)
    _, gt, srs = _read_sds(real_mod11a1, "LST_Day_1km")
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    r, c = np.nonzero(np.isfinite(m09_day.by_role("lst").data))
    vlon, vlat = g.lonlat(r, c)
    x, y = transform_points(vlon, vlat, wgs84_srs(), srs)
    tol = g.cell_size
    assert (x >= gt[0] - tol).all() and (x <= gt[0] + 1200 * gt[1] + tol).all()
    assert (y <= gt[3] + tol).all() and (y >= gt[3] + 1200 * gt[5] - tol).all()


def test_real_tile_area_weighted_mean_and_total_count(real_mod11a1, m09_day):
    v, _, _ = _valid_input(real_mod11a1)
    truth = float(np.nanmean(v))
    lst, cnt = m09_day.by_role("lst").data, m09_day.by_role("count").data
    ok = np.isfinite(lst)
    mean = float((lst[ok].astype(np.float64) * cnt[ok]).sum() / cnt[ok].sum())
    assert abs(mean - truth) < 0.05  # measured: 314.0642 vs 314.0641 K
    assert abs(cnt.sum() / np.isfinite(v).sum() - 1.0) < 0.01


def test_real_tile_qc_and_night_on_extent(real_mod11a1):
    box = (-36.0, -6.0, -34.0, -4.0)
    good = read_lst(real_mod11a1, "day", "M09", qc=True, extent=box, extent_crs="EPSG:4326")
    loose = read_lst(real_mod11a1, "day", "M09", qc=False, extent=box, extent_crs="EPSG:4326")
    night = read_lst(real_mod11a1, "LST_Night_1km", "M09", qc=False, extent=box, extent_crs="EPSG:4326")
    assert good.grid == loose.grid == night.grid and good.grid.rows < 40
    lon, lat = good.grid.lonlat(np.array([0, good.grid.rows - 1]), np.array([0, good.grid.cols - 1]))
    assert -36.1 < lon[0] < -35.9 and -4.1 < lat[0] < -3.9 and -34.1 < lon[1] < -33.9
    ng, nl = (np.isfinite(s.by_role("lst").data).sum() for s in (good, loose))
    assert nl >= ng > 0
    assert (loose.by_role("count").data >= good.by_role("count").data - 1e-3).all()
    assert night.pass_ == "night" and "off" in night.attrs["qc"]
    d, n = good.by_role("lst").data, night.by_role("lst").data
    both = np.isfinite(d) & np.isfinite(n)
    assert both.sum() > 10 and np.nanmean(d[both]) - np.nanmean(n[both]) > 5.0


def test_real_tile_on_target_matches_coarser_read(real_mod11a1, m09_day):
    # an M36 target half over the tile: outside stays NaN / 0, inside agrees with the M09 read
    m36 = m09_day.grid.coarsen("M36")
    target = Grid("M36", m36.row_off + 16, m36.col_off - 2, 4, 5)
    s = read_lst(real_mod11a1, "day", target=target)
    assert s.grid == target
    lst, cnt = s.by_role("lst").data, s.by_role("count").data
    assert np.isnan(lst[:, :2]).all() and (cnt[:, :2] == 0).all()
    r0, c0 = (target.row_off * 4 - m09_day.grid.row_off, target.col_off * 4 - m09_day.grid.col_off)
    l9, c9 = m09_day.by_role("lst").data, m09_day.by_role("count").data
    for i in range(target.rows):
        for j in range(2, target.cols):
            bl = l9[r0 + 4 * i:r0 + 4 * i + 4, c0 + 4 * j:c0 + 4 * j + 4]
            bc = c9[r0 + 4 * i:r0 + 4 * i + 4, c0 + 4 * j:c0 + 4 * j + 4]
            assert cnt[i, j] == pytest.approx(bc.sum(), rel=0.01, abs=0.5)
            if bc.sum() > 20:
                assert lst[i, j] == pytest.approx(np.nansum(bl * bc) / bc.sum(), abs=0.05)


# --- plain rasters --------------------------------------------------------------------------------
def _m01_field():
    grid = Grid("M01", 9 * 800 + 4, 9 * 1500 + 2, 60, 70)
    r, c = np.mgrid[0:grid.rows, 0:grid.cols]
    a = (280.0 + 0.3 * r + 0.1 * c + 2.0 * np.sin(r * c / 7.0)).astype(np.float32)
    a[3:25, 14:40] = np.nan  # a hole covering whole M09 cells and parts of others
    a[40::7, ::5] = np.nan
    return grid, a


def test_ease_m01_geotiff_onto_m09_is_exact_block_mean(tmp_path):
    grid, a = _m01_field()
    path = write_geotiff(str(tmp_path / "sim.tif"), grid, [a], [BandSpec("lst", "K")],
                         {"DATE": "2021-06-03"})
    s = read_lst(path, "night", "M09")
    want_grid = grid.coarsen("M09")
    assert s.grid == want_grid and s.product == "LST raster" and s.pass_ == "night"
    assert s.date == dt.date(2021, 6, 3) and s.attrs["aggregation"].startswith("exact")
    fine = np.full((want_grid.rows * 9, want_grid.cols * 9), np.nan, np.float32)
    r0, c0 = grid.row_off - want_grid.row_off * 9, grid.col_off - want_grid.col_off * 9
    fine[r0:r0 + grid.rows, c0:c0 + grid.cols] = a
    blocks = fine.reshape(want_grid.rows, 9, want_grid.cols, 9).transpose(0, 2, 1, 3)
    blocks = blocks.reshape(want_grid.rows, want_grid.cols, 81)
    n = np.isfinite(blocks).sum(axis=2)
    total = np.where(np.isfinite(blocks), blocks, 0.0).astype(np.float64).sum(axis=2)
    mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    np.testing.assert_array_equal(s.by_role("count").data, n.astype(np.float32))
    np.testing.assert_allclose(s.by_role("lst").data, mean, rtol=0, atol=1e-4)
    assert n.max() == 81 and (n == 0).any() and np.isnan(s.by_role("lst").data[n == 0]).all()
    # onto its own grid it is the identity
    same = read_lst(path, "day", "M01")
    np.testing.assert_array_equal(same.by_role("lst").data, a)
    np.testing.assert_array_equal(same.by_role("count").data, np.isfinite(a).astype(np.float32))


def test_geographic_scaled_raster_is_area_weighted(tmp_path):
    # 0.01 deg lon/lat UInt16 raster with scale 0.02 K and nodata 0, as a gdal_translate'd MODIS band
    nx, ny = 200, 150
    r, c = np.mgrid[0:ny, 0:nx]
    k = 290.0 + 8.0 * np.sin(c / 17.0) + 0.05 * r
    dn = np.round(k / 0.02).astype(np.uint16)
    dn[40:60, 100:130] = 0
    path = str(tmp_path / "geo.tif")
    ds = gdal.GetDriverByName("GTiff").Create(path, nx, ny, 1, gdal.GDT_UInt16)
    ds.SetGeoTransform((10.0, 0.01, 0.0, 41.5, 0.0, -0.01))
    ds.SetSpatialRef(wgs84_srs())
    b = ds.GetRasterBand(1)
    b.WriteArray(dn)
    b.SetNoDataValue(0)
    b.SetScale(0.02)
    b.SetOffset(0.0)
    ds = b = None
    s = read_lst(path, "day", "M09")
    lst, cnt = s.by_role("lst").data, s.by_role("count").data
    ok = np.isfinite(lst)
    valid = dn > 0
    truth = float((dn[valid] * 0.02).mean())
    assert float((lst[ok] * cnt[ok].astype(np.float64)).sum() / cnt[ok].sum()) == pytest.approx(truth,
                                                                                                abs=0.02)
    assert cnt.sum() == pytest.approx(valid.sum(), rel=0.01)
    assert s.attrs["aggregation"].startswith("nearest-neighbour warp")
    assert lst[ok].min() > 280 and lst[ok].max() < 306


# --- errors ---------------------------------------------------------------------------------------
def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_lst(str(tmp_path / "MOD11A1.A2019305.h14v09.006.hdf"))
    txt = tmp_path / "MOD11A1.A2020001.h14v09.006.hdf"
    txt.write_text("not an HDF file\n")
    with pytest.raises(InputError, match=r"MOD11A1\.A2020001.*not an HDF4 file or a raster"):
        read_lst(str(txt))


def test_other_hdf_files_are_refused(tmp_path):
    other = str(tmp_path / "MOD11A1.A2019305.h14v09.006.hdf")  # named like LST, holds something else
    ds = gdal.GetDriverByName("HDF4Image").Create(other, 10, 8, 1, gdal.GDT_Int16)
    ds.SetMetadata({"SHORTNAME": "MOD13A2"})
    ds.GetRasterBand(1).WriteArray(np.full((8, 10), 4000, np.int16))
    ds = None
    with pytest.raises(InputError, match=r"MOD13A2 product, not MODIS daily land surface temperature"):
        read_lst(other)
    h5 = str(tmp_path / "random.h5")
    with h5py.File(h5, "w") as f:
        f["group/temperature"] = np.full((20, 30), 300.0, np.float32)
        f["group/other"] = np.zeros((20, 30), np.float32)
    with pytest.raises(InputError, match=r"random\.h5.*not MODIS daily land surface temperature"):
        read_lst(h5)


def test_plain_raster_problems(tmp_path):
    grid = Grid("M01", 7000, 13000, 20, 20)
    celsius = str(tmp_path / "celsius.tif")
    write_geotiff(celsius, grid, [np.full((20, 20), 25.0, np.float32)] * 3,
                  [BandSpec("ndvi"), BandSpec("b2"), BandSpec("b3")])
    with pytest.raises(InputError, match=r"celsius\.tif.*not a land surface temperature in Kelvin"):
        read_lst(celsius)
    bare = str(tmp_path / "bare.tif")
    ds = gdal.GetDriverByName("GTiff").Create(bare, 5, 5, 1, gdal.GDT_Float32)
    ds.GetRasterBand(1).Fill(300.0)
    ds = None
    with pytest.raises(InputError, match="no coordinate reference system"):
        read_lst(bare)


def test_unknown_layer_and_bad_extent(tmp_path, real_mod11a1):
    grid, a = _m01_field()
    path = write_geotiff(str(tmp_path / "sim.tif"), grid, [a], [BandSpec("lst", "K")])
    with pytest.raises(InputError, match=r"sim\.tif: unknown LST layer 'evening'"):
        read_lst(path, "evening")
    with pytest.raises(InputError, match=r"MOD11A1.*does not intersect the raster's footprint"):
        read_lst(real_mod11a1, extent=(10.0, 40.0, 11.0, 41.0), extent_crs="EPSG:4326")
    with pytest.raises(InputError, match="does not overlap the target"):
        read_lst(path, target=Grid("M09", 10, 10, 5, 5))


def test_no_good_quality_suggests_qc_off(real_mod11a1, monkeypatch):
    monkeypatch.setattr(modis, "QC_GOOD", 0b100)  # a QA value no cell can have
    with pytest.raises(InputError, match="none has good quality.*QC filtering off"):
        read_lst(real_mod11a1, "night")


def test_cancel_between_blocks(tmp_path):
    class Stop(Feedback):
        def canceled(self) -> bool:
            return True

    grid, a = _m01_field()
    path = write_geotiff(str(tmp_path / "sim.tif"), grid, [a], [BandSpec("lst", "K")])
    with pytest.raises(Canceled):
        read_lst(path, feedback=Stop())


def test_no_good_quality_names_no_option_the_caller_lacks(real_mod11a1, monkeypatch):
    """Soil moisture has no QC option: its message must not tell the user to turn one off."""
    monkeypatch.setattr(modis, "QC_GOOD", 0b100)
    with pytest.raises(InputError, match="none has good quality") as err:
        read_lst(real_mod11a1, "night", qc_option=None)
    assert "QC filtering off" not in str(err.value) and "another day" in str(err.value)


def test_lst_outside_physical_range_is_masked_counted_or_refused(tmp_path):
    grid, a = _m01_field()
    b = a.copy()
    b[0, :3] = 370.0  # three impossible cells: no data, counted
    path = write_geotiff(str(tmp_path / "some.tif"), grid, [b], [BandSpec("lst", "K")])
    scene = read_lst(path, grid_name="M01")
    assert scene.by_role("lst").out_of_range == 3 and np.isnan(scene.by_role("lst").data[0, :3]).all()
    hot = write_geotiff(str(tmp_path / "hot.tif"), grid, [np.full_like(a, 380.0)], [BandSpec("lst", "K")])
    with pytest.raises(InputError, match=r"hot\.tif.*physical range.*200–350 K"):
        read_lst(hot)
