"""loadsmap / loadmodis through processing.run and qgis_process, on the real NASA files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from osgeo import gdal, osr
from qgis.core import QgsProcessingException

gdal.UseExceptions()


def _read(path):
    ds = gdal.Open(str(path))
    arrays = [ds.GetRasterBand(i + 1).ReadAsArray() for i in range(ds.RasterCount)]
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    return ds, arrays, names


def test_loadsmap_real_l2_cells_match_file(run_alg, real_smap_l2, tmp_path):
    out = tmp_path / "l2.tif"
    res = run_alg("loadsmap", {"INPUT": str(real_smap_l2), "OUTPUT": str(out)})
    assert res["PRODUCT"] == "SPL2SMP_NRT" and res["GRID"] == "M36" and res["DATE"] == "2019-08-22"
    ds, arrays, names = _read(out)
    assert ds.GetSpatialRef().GetAuthorityCode(None) == "6933"
    gt = ds.GetGeoTransform()
    assert gt[1] == pytest.approx(36032.220840584) and gt[5] == pytest.approx(-36032.220840584)
    band = {n: a for n, a in zip(names, arrays, strict=False)}
    assert "tb_v_corrected" in band and "tb_h_corrected" in band
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    assert nodata == -9999
    with h5py.File(real_smap_l2, "r") as f:
        g = f["Soil_Moisture_Retrieval_Data"]
        rows, cols = g["EASE_row_index"][:].astype(int), g["EASE_column_index"][:].astype(int)
        lat, lon = g["latitude"][:], g["longitude"][:]
        tbv = g["tb_v_corrected"][:]
        sm = g["soil_moisture"][:]
    r0, c0 = round((7314540.8306386 - gt[3]) / gt[1]), round((gt[0] + 17367530.4451615) / gt[1])
    rr, cc = rows - r0, cols - c0
    # pixel centres -> lon/lat with GDAL equal the file's own latitude/longitude
    ct = osr.CoordinateTransformation(ds.GetSpatialRef(), _wgs84())
    x = gt[0] + (cc + 0.5) * gt[1]
    y = gt[3] + (rr + 0.5) * gt[5]
    pts = np.array(ct.TransformPoints(np.stack([x, y], 1)))
    ok = (lat > -90) & (lon > -180)
    assert np.abs(pts[ok, 0] - lon[ok]).max() < 1e-4
    assert np.abs(pts[ok, 1] - lat[ok]).max() < 1e-4
    # TB equals the file cell by cell; fill is nodata
    got = band["tb_v_corrected"][rr, cc]
    valid = (tbv != -9999) & (tbv >= 0) & (tbv <= 330)
    assert valid.sum() > 1000
    np.testing.assert_array_equal(got[valid], tbv[valid])
    assert (got[~valid] == nodata).all()
    # out-of-range soil moisture (valid_max 0.5) is nodata too
    smb = band["soil_moisture"][rr, cc]
    high = sm > 0.5
    assert high.any() and (smb[high] == nodata).all()


def _wgs84():
    s = osr.SpatialReference()
    s.ImportFromEPSG(4326)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def test_loadmodis_real_tile(run_alg, real_mod11a1, tmp_path):
    out = tmp_path / "lst.tif"
    res = run_alg("loadmodis", {"INPUT": str(real_mod11a1), "LAYER": 0, "GRID": 1, "QC": True, "OUTPUT": str(out)})
    assert res["DATE"] == "2019-11-01"
    ds, arrays, names = _read(out)
    assert names[:2] == ["lst", "count"]
    lst = arrays[0]
    valid = lst != -9999
    assert valid.mean() > 0.1  # clouds, QC and the sinusoidal tile inside a rectangular window
    assert 250 <= lst[valid].min() and lst[valid].max() <= 340
    gt = ds.GetGeoTransform()
    ct = osr.CoordinateTransformation(ds.GetSpatialRef(), _wgs84())
    corners = np.array(ct.TransformPoints([[gt[0], gt[3]], [gt[0] + ds.RasterXSize * gt[1],
                                                             gt[3] + ds.RasterYSize * gt[5]]]))
    assert corners[0, 1] == pytest.approx(0, abs=0.2) and corners[1, 1] == pytest.approx(-10, abs=0.2)
    assert -41.5 < corners[0, 0] < -40 and corners[1, 0] == pytest.approx(-30, abs=0.2)


def _bad_inputs(tmp_path, real):
    text = tmp_path / "notes.h5"
    text.write_text("this is not HDF5\n")
    trunc = tmp_path / "truncated.h5"
    data = real.read_bytes()
    trunc.write_bytes(data[: len(data) // 2])
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("Some_Group/temperature", data=np.zeros((4, 4), np.float32))
    return {
        "missing": ({"INPUT": str(tmp_path / "nope.h5")}, "no such file"),
        "text renamed .h5": ({"INPUT": str(text)}, "hdf5"),
        "truncated": ({"INPUT": str(trunc)}, "truncated"),
        "unknown product": ({"INPUT": str(other)}, "product"),
        "unknown variable": ({"INPUT": str(real), "VARIABLES": "tb_x_bogus"}, "tb_x_bogus"),
        "extent outside": ({"INPUT": str(real), "EXTENT": "10,11,89.0,89.5 [EPSG:4326]"}, "outside|intersect"),
        "extent without cells": ({"INPUT": str(real), "EXTENT": "-500000,-400000,0,100000 [EPSG:6933]",
                                  "VARIABLES": "tb_v"}, "intersect|no valid|no cell|no data"),
    }


@pytest.mark.parametrize("case", ["missing", "text renamed .h5", "truncated", "unknown product",
                                  "unknown variable", "extent outside", "extent without cells"])
def test_loadsmap_bad_input_clear_error_no_output(run_alg, real_smap_l2, tmp_path, case):
    params, words = _bad_inputs(tmp_path, real_smap_l2)[case]
    out = tmp_path / "out" / "x.tif"
    with pytest.raises(QgsProcessingException) as err:
        run_alg("loadsmap", {**params, "OUTPUT": str(out)})
    msg = str(err.value)
    assert any(w in msg.lower() for w in words.split("|")), msg
    assert "Traceback" not in msg
    name = params["INPUT"].rsplit("/", 1)[-1]
    assert name in msg, f"message does not name the file: {msg}"
    assert not out.exists()
    assert not any(p.name.startswith(".smapdown-") for p in tmp_path.rglob("*"))


def test_loadsmap_through_qgis_process_cli(qgis_process_run, real_smap_l2, tmp_path):
    out = tmp_path / "cli.tif"
    rc, data, log = qgis_process_run("smapdown:loadsmap", {"INPUT": real_smap_l2, "VARIABLES": "tb_v,tb_h",
                                                           "OUTPUT": out})
    assert rc == 0, log
    assert data["results"]["PRODUCT"] == "SPL2SMP_NRT"
    assert data["results"]["GRID"] == "M36"
    assert out.exists()
    _, arrays, names = _read(out)
    assert names == ["tb_v_corrected", "tb_h_corrected"]
    assert (arrays[0] != -9999).sum() > 1000


def test_qgis_process_bad_input_fails_cleanly(qgis_process_run, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("nope")
    rc, _, log = qgis_process_run("smapdown:loadsmap", {"INPUT": bad, "OUTPUT": tmp_path / "o.tif"})
    assert rc != 0
    assert "bad.h5" in log and "Traceback" not in log
    assert not (tmp_path / "o.tif").exists()


