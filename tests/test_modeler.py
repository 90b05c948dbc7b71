"""The shipped graphical-modeler model (load → downscale → load reference → difference), headless."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from osgeo import gdal

ROOT = Path(__file__).resolve().parents[1]
MODEL3 = ROOT / "resources" / "models" / "smap_downscale_chain.model3"
DAY = "20150406"


def _model():
    from qgis.core import QgsProcessingModelAlgorithm

    m = QgsProcessingModelAlgorithm()
    assert m.fromFile(str(MODEL3)), f"cannot read {MODEL3}"
    return m


def test_model_validates_and_names_its_parameters(provider):
    m = _model()
    ok, errors = m.validate()
    assert ok, errors
    names = {p.name() for p in m.parameterDefinitions()}
    assert {"smap36", "reference9", "extent", "downscale:tb9", "difference:difference"} <= names


def test_model_runs_through_processing(provider, sim, tmp_path):
    import processing

    folder, _ = sim
    model = _model()  # keep the model alive while Processing runs it
    res = processing.run(model, {
        "smap36": str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"), "reference9": str(folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5"),
        "downscale:tb9": str(tmp_path / "tb9.tif"), "difference:difference": str(tmp_path / "diff.tif"),
        "difference:report": str(tmp_path / "report.json")})
    ds = gdal.Open(res["difference:difference"])  # keep the dataset referenced while reading its band
    diff = ds.GetRasterBand(1).ReadAsArray()
    assert ((diff != -9999) & (np.abs(diff) < 60)).any()
    report = json.loads(Path(res["difference:report"]).read_text())
    assert report["resampling"] == "same grid" and report["bands"]


def test_model_runs_through_qgis_process(qgis_process_run, sim, tmp_path):
    folder, _ = sim
    rc, data, log = qgis_process_run(str(MODEL3), {
        "smap36": folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5", "reference9": folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5",
        "downscale:tb9": tmp_path / "tb9.tif", "difference:difference": tmp_path / "diff.tif"})
    assert rc == 0, log
    assert Path(data["results"]["difference:difference"]).exists()
