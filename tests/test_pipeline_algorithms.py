"""simulate → train → downscale / soilmoisture → difference through processing.run, on simulated scenes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsProcessingFeedback

from smapdown.core.files import DEFAULT_SM_MODEL, DEFAULT_TB_MODEL

gdal.UseExceptions()
DAY = "20150406"
SM_DAY = "20150407"  # a Sentinel-1 day of the fixture: the 3 km SPL2SMAP_S-like product exists every 6 days


def bands(path):
    ds = gdal.Open(str(path))
    out = []
    for i in range(ds.RasterCount):
        a = ds.GetRasterBand(i + 1).ReadAsArray().astype(np.float64)
        a[a == -9999] = np.nan
        out.append(a)
    return np.stack(out), ds.GetGeoTransform()


@pytest.fixture(scope="session")
def tiny_model(sim, tmp_path_factory):
    """A small location-specific model trained in seconds through smapdown:train."""
    import processing

    folder, _ = sim
    out = tmp_path_factory.mktemp("model")
    res = processing.run("smapdown:train", {
        "INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "CASE": 0, "VALIDATION_DAYS": 2, "EPOCHS": 3,
        "FEATURES": 8, "PATCHES_PER_EPOCH": 64, "PATCH": 16, "SEED": 1,
        "OUTPUT_MODEL": str(out / "tiny.pt"), "OUTPUT_REPORT": str(out / "train.json")})
    return res


def test_simulate_writes_nasa_layouts_marked_simulated(sim):
    folder, res = sim
    low = res["LOW_FILES"].split(";")
    assert len(low) >= 6 and all(Path(p).exists() for p in low)
    assert res["SUBCELL_STD_LAND"] > 1.0
    from smapdown.core import smap

    assert smap.identify(low[0]) == "SPL3SMP"
    scene = smap.read_smap(res["HIGH_FILES"].split(";")[0])
    assert scene.product == "SPL3SMAP" and scene.attrs["simulated"] == "true" and scene.attrs["seed"] == "3"


def test_train_loss_goes_down_and_writes_card_report_png(tiny_model):
    model = Path(tiny_model["OUTPUT_MODEL"])
    assert model.exists() and model.with_suffix(".json").exists()
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["training"]["data"] == "simulated"
    assert card["training"]["case"] == "tb"
    assert card["architecture"]["kwargs"]["features"] == 8
    # location-specific by default, so the residual starts from the 36 km observation itself
    assert card["training"]["location_specific"] and card["input_upsampling"] == "nearest"
    report = json.loads(Path(tiny_model["OUTPUT_REPORT"]).read_text())
    hist = report["history"]
    assert len(hist) == 3 and tiny_model["EPOCHS_DONE"] == 3
    first = sum(hist[0]["train_mae"].values())
    last = sum(hist[-1]["train_mae"].values())
    assert last < first
    assert Path(tiny_model["OUTPUT_REPORT"]).with_suffix(".png").exists()
    assert np.isfinite(tiny_model["VAL_MAE_CNN_1"]) and np.isfinite(tiny_model["VAL_MAE_BICUBIC_1"])


def test_downscale_outputs_metrics_and_mean_preservation(run_alg, sim, tiny_model, tmp_path):
    folder, _ = sim
    low, high = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5", folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5"
    outs = {k: str(tmp_path / f"{k}.tif") for k in ("OUTPUT", "OUTPUT_BASELINE", "OUTPUT_DIFF_LOWRES",
                                                     "OUTPUT_DIFF_CNN", "OUTPUT_UNCERTAINTY")}
    res = run_alg("downscale", {"INPUT": str(low), "MODEL": tiny_model["OUTPUT_MODEL"], "REFERENCE": str(high),
                                "OUTPUT_REPORT": str(tmp_path / "rep.json"), **outs})
    assert res["DEVICE"] == "cpu"
    cnn, gt = bands(res["OUTPUT"])
    assert cnn.shape[0] == 2 and gt[1] == pytest.approx(9008.055210146)
    from smapdown.core.inputs import read_tb36

    scene = read_tb36(str(low))
    tb36 = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data])
    blocks = np.nanmean(cnn.reshape(2, tb36.shape[1], 4, tb36.shape[2], 4), axis=(2, 4))
    assert np.nanmax(np.abs(blocks - tb36)) <= 0.1
    assert res["MEAN_PRESERVATION_ERROR"] <= 0.1
    # nodata exactly where the 36 km input is nodata, never invented
    np.testing.assert_array_equal(np.isnan(cnn), np.isnan(np.repeat(np.repeat(tb36, 4, 1), 4, 2)))
    diff, _ = bands(res["OUTPUT_DIFF_CNN"])
    ref = cnn - diff
    assert np.nanmean(np.abs(diff)) == pytest.approx(res["MAE_CNN_TB_V"] / 2 + res["MAE_CNN_TB_H"] / 2, rel=0.05)
    assert 140 < np.nanmin(ref) and np.nanmax(ref) < 320
    unc, _ = bands(res["OUTPUT_UNCERTAINTY"])
    assert np.nanmin(unc) >= 0 and np.isfinite(unc).any()
    report = json.loads(Path(res["OUTPUT_REPORT"]).read_text())
    assert "SPL3SMAP" in report["reference"] and "simulated" in report["reference"]
    for band in ("tb_v", "tb_h"):
        for method in ("cnn", "bicubic"):
            assert set(report["bands"][band][method]) >= {"mae", "rmse", "bias", "ubrmse", "r", "psnr", "ssim"}
    assert Path(res["OUTPUT_REPORT"]).with_suffix(".html").exists()


def test_downscale_tiled_equals_untiled(run_alg, sim, tiny_model, tmp_path):
    folder, _ = sim
    low = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"
    a = run_alg("downscale", {"INPUT": str(low), "MODEL": tiny_model["OUTPUT_MODEL"], "TILE": 32,
                              "OUTPUT": str(tmp_path / "a.tif")})
    b = run_alg("downscale", {"INPUT": str(low), "MODEL": tiny_model["OUTPUT_MODEL"], "TILE": 4096,
                              "OUTPUT": str(tmp_path / "b.tif")})
    np.testing.assert_allclose(bands(a["OUTPUT"])[0], bands(b["OUTPUT"])[0], atol=1e-3)


def test_downscale_mean_preservation_measured_both_ways(run_alg, sim, tiny_model, tmp_path):
    folder, _ = sim
    low = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"
    off = run_alg("downscale", {"INPUT": str(low), "MODEL": tiny_model["OUTPUT_MODEL"], "MEAN_PRESERVE": False,
                                "OUTPUT": str(tmp_path / "off.tif")})
    on = run_alg("downscale", {"INPUT": str(low), "MODEL": tiny_model["OUTPUT_MODEL"], "MEAN_PRESERVE": True,
                               "OUTPUT": str(tmp_path / "on.tif")})
    assert on["MEAN_PRESERVATION_ERROR"] <= 0.1
    assert off["MEAN_PRESERVATION_ERROR"] > on["MEAN_PRESERVATION_ERROR"]


def test_bundled_models_exist_with_cards_saying_simulated():
    from smapdown.model.io import load_model

    for path in (DEFAULT_TB_MODEL, DEFAULT_SM_MODEL):
        _, card = load_model(path)
        assert card.training.data == card.training_data == "simulated"
        assert Path(path).with_suffix(".json").exists()
        assert Path(path).stat().st_size < 8_000_000


def test_downscale_with_bundled_model_and_soil_moisture(run_alg, sim, tmp_path):
    folder, _ = sim
    low = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"
    res = run_alg("downscale", {"INPUT": str(low), "OUTPUT": str(tmp_path / "tb9.tif")})
    assert np.isfinite(bands(res["OUTPUT"])[0]).any()
    sm = run_alg("soilmoisture", {"INPUT": str(folder / f"SMAP_L3_SM_P_{SM_DAY}_SIM.h5"),
                                  "LST": str(folder / f"LST_{SM_DAY}_SIM.tif"),
                                  "REFERENCE": str(folder / f"SMAP_L2_SM_SP_{SM_DAY}_SIM.h5"),
                                  "OUTPUT": str(tmp_path / "sm.tif"), "OUTPUT_DIFF": str(tmp_path / "smd.tif"),
                                  "OUTPUT_REPORT": str(tmp_path / "sm.json")})
    arr, gt = bands(sm["OUTPUT"])
    assert gt[1] == pytest.approx(3002.6850700487)
    assert np.nanmin(arr) >= 0 and np.nanmax(arr) <= 0.6
    assert 0 <= sm["UBRMSE_CNN_SOIL_MOISTURE"] < 0.2
    rep = json.loads(Path(sm["OUTPUT_REPORT"]).read_text())
    assert "SPL2SMAP_S" in rep["reference"]
    # the bundled model reads the product's own 36 km retrieval too: a bare TB raster is refused by name
    from smapdown.core.inputs import read_tb36
    from smapdown.core.raster import BandSpec, write_geotiff

    scene = read_tb36(str(low))
    tb36 = write_geotiff(str(tmp_path / "tb36.tif"), scene.grid,
                         [scene.by_role("tb_v").data, scene.by_role("tb_h").data],
                         [BandSpec("tb_v", "K", "TB V"), BandSpec("tb_h", "K", "TB H")], {})
    with pytest.raises(QgsProcessingException, match="tb36.tif.*soil_moisture"):
        run_alg("soilmoisture", {"INPUT": tb36, "LST": str(folder / f"LST_{DAY}_SIM.tif"),
                                 "OUTPUT": str(tmp_path / "sm2.tif")})
    assert not (tmp_path / "sm2.tif").exists()


def test_difference_resamples_reference_and_reports(run_alg, sim, tiny_model, tmp_path):
    folder, _ = sim
    low = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"
    tb9 = run_alg("downscale", {"INPUT": str(low), "MODEL": tiny_model["OUTPUT_MODEL"],
                                "OUTPUT": str(tmp_path / "tb9.tif")})["OUTPUT"]
    tb36 = run_alg("loadsmap", {"INPUT": str(low), "VARIABLES": "tb_v,tb_h", "OUTPUT": str(tmp_path / "tb36.tif")})
    same = run_alg("difference", {"INPUT": tb9, "REFERENCE": tb9, "OUTPUT": str(tmp_path / "d0.tif")})
    assert same["MAE"] == 0 and same["RESAMPLING"] == "same grid"
    res = run_alg("difference", {"INPUT": tb9, "REFERENCE": tb36["OUTPUT"], "OUTPUT": str(tmp_path / "d.tif"),
                                 "OUTPUT_REPORT": str(tmp_path / "d.json")})
    assert "replicated" in res["RESAMPLING"]
    assert res["MAE"] > 0  # sub-cell detail: the 9 km field differs from its replicated 36 km cells
    d, _ = bands(res["OUTPUT"])
    assert np.nanmax(np.abs(np.nanmean(d[0].reshape(d.shape[1] // 4, 4, -1, 4), axis=(1, 3)))) <= 0.1


class CancelAfter(QgsProcessingFeedback):
    def __init__(self, n):
        super().__init__()
        self.n = n
        self.progressChanged.connect(self._tick)

    def _tick(self, _):
        self.n -= 1
        if self.n <= 0:
            self.cancel()


def test_cancel_leaves_no_output(run_alg, sim, tiny_model, tmp_path):
    folder, _ = sim
    out = tmp_path / "c.tif"
    with pytest.raises(QgsProcessingException, match="cancel"):
        run_alg("downscale", {"INPUT": str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"), "TILE": 32,
                              "MODEL": tiny_model["OUTPUT_MODEL"], "OUTPUT": str(out)}, feedback=CancelAfter(1))
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".smapdown-")]


def test_downscale_bad_inputs(run_alg, sim, tiny_model, tmp_path):
    folder, _ = sim
    low = str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5")
    high = str(folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5")
    with pytest.raises(QgsProcessingException, match="36 km"):
        run_alg("downscale", {"INPUT": high, "OUTPUT": str(tmp_path / "x.tif")})
    evil = tmp_path / "evil.pt"
    import pickle

    class Boom:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    evil.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(QgsProcessingException, match="evil.pt"):
        run_alg("downscale", {"INPUT": low, "MODEL": str(evil), "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(QgsProcessingException, match="9 km reference"):
        run_alg("downscale", {"INPUT": low, "MODEL": tiny_model["OUTPUT_MODEL"], "OUTPUT": str(tmp_path / "x.tif"),
                              "OUTPUT_DIFF_CNN": str(tmp_path / "d.tif")})
    assert not (tmp_path / "x.tif").exists()


def test_location_model_refuses_another_region_but_takes_rasters(run_alg, tiny_model, tmp_path):
    from smapdown.core.grid import Grid
    from smapdown.core.raster import BandSpec, write_geotiff

    elsewhere = Grid("M36", 60, 500, 4, 4)  # Europe, far from the Oklahoma training region
    tb = [np.full(elsewhere.shape, 250.0, np.float32), np.full(elsewhere.shape, 220.0, np.float32)]
    src = write_geotiff(str(tmp_path / "tb36.tif"), elsewhere, tb, [BandSpec("tb_v", "K"), BandSpec("tb_h", "K")])
    with pytest.raises(QgsProcessingException, match="training region"):
        run_alg("downscale", {"INPUT": src, "MODEL": tiny_model["OUTPUT_MODEL"], "OUTPUT": str(tmp_path / "o.tif")})
    assert not (tmp_path / "o.tif").exists()


def test_train_soil_moisture_case_with_and_without_the_36km_retrieval(run_alg, sim, tmp_path):
    folder, _ = sim
    low = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"
    base = {"INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "INPUT_LST": [str(folder)], "CASE": 1,
            "GRID": 1, "VALIDATION_DAYS": 1, "EPOCHS": 2, "FEATURES": 4, "PATCHES_PER_EPOCH": 16, "PATCH": 8}
    # one validation day: the simulated 3 km targets exist only on Sentinel-1 days (every 6th day)
    res = run_alg("train", {**base, "OUTPUT_MODEL": str(tmp_path / "sm.pt")})
    card = json.loads((tmp_path / "sm.json").read_text())
    assert [i["name"] for i in card["inputs"]] == ["tb_v", "tb_h", "lst", "soil_moisture_36km",
                                                  "vegetation_water_content_36km", "surface_temperature_36km"]
    with_static = run_alg("train", {**base, "INPUT_STATIC": str(folder / "STATIC_M03_SIM.tif"),
                                    "OUTPUT_MODEL": str(tmp_path / "sms.pt")})
    names = [i["name"] for i in json.loads((tmp_path / "sms.json").read_text())["inputs"]]
    assert names[6:] == ["static_clay", "static_sand", "static_bare", "static_grassland", "static_cropland",
                         "static_forest", "static_urban", "static_water"]
    assert with_static["EPOCHS_DONE"] == 2
    # a model trained with the static maps needs them wherever it is applied, and says so
    args = {"INPUT": str(low), "LST": str(folder / f"LST_{DAY}_SIM.tif"), "MODEL": with_static["OUTPUT_MODEL"],
            "GRID": 1, "OUTPUT": str(tmp_path / "sms9.tif")}
    with pytest.raises(QgsProcessingException, match="static ancillary raster"):
        run_alg("soilmoisture", args)
    assert not (tmp_path / "sms9.tif").exists()
    assert np.isfinite(bands(run_alg("soilmoisture", {**args, "STATIC": str(folder / "STATIC_M03_SIM.tif")})
                             ["OUTPUT"])[0]).any()
    assert card["outputs"][0]["units"] == "m3/m3" and card["training"]["grid"] == "M09"
    assert res["EPOCHS_DONE"] == 2 and np.isfinite(res["VAL_MAE_CNN_1"])
    # the model it wrote runs, reading the same inputs from the product
    sm = run_alg("soilmoisture", {"INPUT": str(low), "LST": str(folder / f"LST_{DAY}_SIM.tif"),
                                  "MODEL": res["OUTPUT_MODEL"], "GRID": 1, "OUTPUT": str(tmp_path / "sm9.tif")})
    assert np.isfinite(bands(sm["OUTPUT"])[0]).any()
    run_alg("train", {**base, "SM_ANCILLARY": False, "OUTPUT_MODEL": str(tmp_path / "plain.pt")})
    plain = json.loads((tmp_path / "plain.json").read_text())
    assert [i["name"] for i in plain["inputs"]] == ["tb_v", "tb_h", "lst"]


def test_tb_model_with_static_inputs_needs_them_when_applied(run_alg, sim, tmp_path):
    folder, _ = sim
    static = str(folder / "STATIC_M03_SIM.tif")
    res = run_alg("train", {"INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "CASE": 0,
                            "LOCATION_SPECIFIC": False, "INPUT_STATIC": static, "VALIDATION_DAYS": 2, "EPOCHS": 1,
                            "FEATURES": 4, "PATCHES_PER_EPOCH": 16, "PATCH": 8,
                            "OUTPUT_MODEL": str(tmp_path / "tbs.pt")})
    card = json.loads((tmp_path / "tbs.json").read_text())
    names = [i["name"] for i in card["inputs"]]
    assert names[:2] == ["tb_v", "tb_h"] and names[2:] == ["static_clay", "static_sand", "static_bare",
                                                           "static_grassland", "static_cropland", "static_forest",
                                                           "static_urban", "static_water"]
    assert card["input_upsampling"] == "bicubic"  # a general model
    low = str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5")
    args = {"INPUT": low, "MODEL": res["OUTPUT_MODEL"], "OUTPUT": str(tmp_path / "tb9.tif")}
    with pytest.raises(QgsProcessingException, match="tbs.pt.*static ancillary raster"):
        run_alg("downscale", args)
    assert not (tmp_path / "tb9.tif").exists()
    out = run_alg("downscale", {**args, "STATIC": static})
    assert np.isfinite(bands(out["OUTPUT"])[0]).any()


def _sha(path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _overlap_cases(folder, model, tmp_path):
    """(algorithm, parameters, the input file that an output names) for every algorithm that reads files."""
    import shutil

    low = Path(shutil.copy(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5", tmp_path / "low.h5"))
    high = Path(shutil.copy(folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5", tmp_path / "high.h5"))
    lst = Path(shutil.copy(folder / f"LST_{DAY}_SIM.tif", tmp_path / "lst.tif"))
    static = Path(shutil.copy(folder / "STATIC_M03_SIM.tif", tmp_path / "static.tif"))
    pt = Path(shutil.copy(model, tmp_path / "m.pt"))
    shutil.copy(Path(model).with_suffix(".json"), tmp_path / "m.json")
    days = tmp_path / "days"
    days.mkdir()
    day_low = Path(shutil.copy(low, days / f"SMAP_L3_SM_P_{DAY}_SIM.h5"))
    out = str(tmp_path / "out.tif")
    return {
        "loadsmap": ("loadsmap", {"INPUT": str(low), "OUTPUT": str(low)}, low),
        "loadmodis": ("loadmodis", {"INPUT": str(lst), "OUTPUT": str(lst)}, lst),
        "downscale input": ("downscale", {"INPUT": str(low), "MODEL": str(pt), "OUTPUT": str(low)}, low),
        "downscale model": ("downscale", {"INPUT": str(low), "MODEL": str(pt), "OUTPUT": out,
                                          "OUTPUT_REPORT": str(pt)}, pt),
        "downscale model card": ("downscale", {"INPUT": str(low), "MODEL": str(pt), "OUTPUT": out,
                                               "OUTPUT_REPORT": str(tmp_path / "m.json")}, tmp_path / "m.json"),
        "downscale reference": ("downscale", {"INPUT": str(low), "MODEL": str(pt), "REFERENCE": str(high),
                                              "OUTPUT": out, "OUTPUT_BASELINE": str(high)}, high),
        "downscale static": ("downscale", {"INPUT": str(low), "MODEL": str(pt), "STATIC": str(static),
                                           "OUTPUT": out, "OUTPUT_UNCERTAINTY": str(static)}, static),
        "downscale bundled model": ("downscale", {"INPUT": str(low), "OUTPUT": out,
                                                  "OUTPUT_REPORT": DEFAULT_TB_MODEL}, Path(DEFAULT_TB_MODEL)),
        "soilmoisture lst": ("soilmoisture", {"INPUT": str(low), "LST": str(lst), "OUTPUT": str(lst)}, lst),
        "soilmoisture reference": ("soilmoisture", {"INPUT": str(low), "LST": str(lst), "REFERENCE": str(high),
                                                    "OUTPUT": out, "OUTPUT_DIFF": str(high)}, high),
        "difference": ("difference", {"INPUT": out, "REFERENCE": str(lst), "OUTPUT": str(lst)}, lst),
        "train folder": ("train", {"INPUT_LOW": [str(days)], "INPUT_HIGH": [str(high)], "CASE": 0, "EPOCHS": 1,
                                   "OUTPUT_MODEL": str(tmp_path / "new.pt"), "OUTPUT_REPORT": str(day_low)}, day_low),
        "train static": ("train", {"INPUT_LOW": [str(low)], "INPUT_HIGH": [str(high)], "INPUT_STATIC": str(static),
                                   "CASE": 0, "EPOCHS": 1, "OUTPUT_MODEL": str(static)}, static),
    }


@pytest.mark.parametrize("case", ["loadsmap", "loadmodis", "downscale input", "downscale model",
                                  "downscale model card", "downscale reference", "downscale static",
                                  "downscale bundled model", "soilmoisture lst", "soilmoisture reference",
                                  "difference", "train folder", "train static"])
def test_output_over_an_input_is_refused_before_anything_is_written(run_alg, sim, tiny_model, tmp_path, case):
    folder, _ = sim
    alg, params, victim = _overlap_cases(folder, tiny_model["OUTPUT_MODEL"], tmp_path)[case]
    if alg == "difference":  # INPUT must exist as a raster
        import shutil

        shutil.copy(folder / f"LST_{DAY}_SIM.tif", params["INPUT"])
    before = _sha(victim)
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(QgsProcessingException) as err:
        run_alg(alg, params)
    msg = str(err.value)
    assert "would be written over the input" in msg, msg
    assert str(victim) in msg or Path(victim).name in msg
    assert _sha(victim) == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing  # nothing written, not even a temporary


def test_two_outputs_naming_one_file_are_refused(run_alg, sim, tiny_model, tmp_path):
    folder, _ = sim
    out = str(tmp_path / "same.tif")
    with pytest.raises(QgsProcessingException, match="same file"):
        run_alg("downscale", {"INPUT": str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"), "MODEL": tiny_model["OUTPUT_MODEL"],
                              "OUTPUT": out, "OUTPUT_BASELINE": out})
    assert not Path(out).exists()


def test_metrics_only_with_a_reference_and_an_html_report_always(run_alg, sim, tiny_model, tmp_path):
    folder, _ = sim
    low, high = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5", folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5"
    plain = run_alg("downscale", {"INPUT": str(low), "MODEL": tiny_model["OUTPUT_MODEL"],
                                  "OUTPUT": str(tmp_path / "a.tif")})
    assert not [k for k in plain if k.startswith(("MAE_", "RMSE_", "BIAS_", "UBRMSE_", "R_"))], plain
    assert all(v == v for v in plain.values() if isinstance(v, float))  # no NaN output
    page = Path(plain["OUTPUT_HTML"]).read_text()
    assert "No reference was given" in page and "<h2>" not in page
    ref = run_alg("downscale", {"INPUT": str(low), "MODEL": tiny_model["OUTPUT_MODEL"], "REFERENCE": str(high),
                                "OUTPUT": str(tmp_path / "b.tif"), "OUTPUT_REPORT": str(tmp_path / "b.json")})
    assert ref["MAE_CNN_TB_V"] > 0 and Path(ref["OUTPUT_HTML"]) == tmp_path / "b.html"
    assert "Agreement with the reference" in Path(ref["OUTPUT_HTML"]).read_text()


def test_train_refuses_a_temporary_model_file(run_alg, sim, tmp_path):
    folder, _ = sim
    with pytest.raises(QgsProcessingException, match="Model file: choose where to save"):
        run_alg("train", {"INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "EPOCHS": 1,
                          "OUTPUT_MODEL": "TEMPORARY_OUTPUT"})


def test_product_inputs_accept_project_layers_and_loaded_bands(run_alg, provider, sim, tiny_model, tmp_path):
    from qgis.core import QgsProject, QgsRasterLayer

    folder, _ = sim
    low = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"
    tb36 = run_alg("loadsmap", {"INPUT": str(low), "VARIABLES": "tb_v,tb_h", "OUTPUT": str(tmp_path / "tb36.tif")})
    layer = QgsRasterLayer(tb36["OUTPUT"], "TB 36 km", "gdal")
    QgsProject.instance().addMapLayer(layer)
    try:
        by_layer = run_alg("downscale", {"INPUT": layer.id(), "MODEL": tiny_model["OUTPUT_MODEL"],
                                         "OUTPUT": str(tmp_path / "l.tif")})
        by_file = run_alg("downscale", {"INPUT": str(low), "MODEL": tiny_model["OUTPUT_MODEL"],
                                        "OUTPUT": str(tmp_path / "f.tif")})
        np.testing.assert_allclose(bands(by_layer["OUTPUT"])[0], bands(by_file["OUTPUT"])[0], atol=1e-3)
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
    from smapdown.algorithms.base import source_file

    assert source_file(f'HDF5:"{low}"://Soil_Moisture_Retrieval_Data_AM/tb_v_corrected') == str(low)
    assert source_file('HDF4_EOS:EOS_GRID:"/d/MOD11A1.hdf":MODIS_Grid_Daily_1km_LST:LST_Day_1km') == "/d/MOD11A1.hdf"
    assert source_file("vrt:///d/x.tif?bands=2") == "/d/x.tif"
    assert source_file("/d/x.tif|option:X=1") == "/d/x.tif"


def test_checks_before_run_name_the_allowed_range(provider, sim, tiny_model, tmp_path):
    from qgis.core import QgsApplication, QgsProcessingContext

    folder, _ = sim
    low = str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5")
    ctx = QgsProcessingContext()
    reg = QgsApplication.processingRegistry()
    ok, msg = reg.algorithmById("smapdown:downscale").checkParameterValues(
        {"INPUT": low, "EXTENT": "10,11,89.0,89.5 [EPSG:4326]", "OUTPUT": str(tmp_path / "o.tif")}, ctx)
    assert not ok and "latitude -85.04..85.04" in msg
    sm_model = str(Path(DEFAULT_SM_MODEL))
    ok, msg = reg.algorithmById("smapdown:downscale").checkParameterValues(
        {"INPUT": low, "MODEL": sm_model, "OUTPUT": str(tmp_path / "o.tif")}, ctx)
    assert not ok and "soil moisture model" in msg and "brightness-temperature model" in msg
    ok, msg = reg.algorithmById("smapdown:soilmoisture").checkParameterValues(
        {"INPUT": low, "LST": str(folder / f"LST_{DAY}_SIM.tif"), "MODEL": tiny_model["OUTPUT_MODEL"],
         "OUTPUT": str(tmp_path / "o.tif")}, ctx)
    assert not ok and "tb model" in msg
    ok, msg = reg.algorithmById("smapdown:train").checkParameterValues(
        {"INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "START": "2015-05-01", "END": "2015-04-01",
         "OUTPUT_MODEL": str(tmp_path / "m.pt")}, ctx)
    assert not ok and "after Last date" in msg
    ok, msg = reg.algorithmById("smapdown:soilmoisture").checkParameterValues(
        {"INPUT": low, "LST": str(folder / f"LST_{DAY}_SIM.tif"), "OUTPUT": str(tmp_path / "o.tif"),
         "OUTPUT_DIFF": str(tmp_path / "d.tif")}, ctx)
    assert not ok and "Soil-moisture reference" in msg


def test_train_html_report_for_the_results_viewer(tiny_model):
    page = Path(tiny_model["OUTPUT_HTML"])
    assert page.suffix == ".html" and page.with_suffix(".png").exists()
    text = page.read_text()
    assert "Validation on the held-out days" in text and "<img src='train.png'" in text


class CancelAfterEpoch(QgsProcessingFeedback):
    """Asks to stop once the log says epoch ``n`` finished (the training then stops in the next epoch)."""

    def __init__(self, n: int = 1) -> None:
        super().__init__()
        self.n = n

    def pushInfo(self, info: str) -> None:  # noqa: N802 - QGIS's name
        super().pushInfo(info)
        if info.startswith(f"epoch {self.n}/"):
            self.cancel()


TRAIN_TINY = {"CASE": 0, "VALIDATION_DAYS": 2, "EPOCHS": 3, "FEATURES": 8, "PATCHES_PER_EPOCH": 64, "PATCH": 16,
              "SEED": 2}


def _previous_model(folder, tmp_path, run_alg) -> tuple[Path, str]:
    model = tmp_path / "m.pt"
    run_alg("train", {**TRAIN_TINY, "INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "EPOCHS": 1,
                      "OUTPUT_MODEL": str(model)})
    return model, _sha(model)


def test_train_cancel_keeps_the_previous_model_and_says_where_the_epochs_are(run_alg, sim, tmp_path):
    folder, _ = sim
    model, before = _previous_model(folder, tmp_path, run_alg)
    card_before = model.with_suffix(".json").read_text()
    with pytest.raises(QgsProcessingException) as err:
        run_alg("train", {**TRAIN_TINY, "INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)],
                          "OUTPUT_MODEL": str(model)}, feedback=CancelAfterEpoch(1))
    msg = str(err.value)
    # the core's own sentence, not a fixed 'no output file was written': it names the checkpoint kept
    assert "cancelled after 1 of 3 epochs" in msg and "previous model file is unchanged" in msg, msg
    assert f"{model}.ckpt holds epoch 1" in msg, msg
    assert _sha(model) == before and model.with_suffix(".json").read_text() == card_before
    assert Path(f"{model}.ckpt").exists()


def test_train_keep_partial_saves_the_last_finished_epoch(run_alg, sim, tmp_path):
    folder, _ = sim
    model, before = _previous_model(folder, tmp_path, run_alg)
    fb = CancelAfterEpoch(1)
    log: list[str] = []
    fb.reportError = lambda text, fatal=False: log.append(text)  # noqa: ARG005
    res = run_alg("train", {**TRAIN_TINY, "INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)],
                            "KEEP_PARTIAL": True, "OUTPUT_MODEL": str(model)}, feedback=fb)
    assert res["EPOCHS_DONE"] == 1 and _sha(model) != before
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["training"]["canceled"] is True and card["training"]["epochs_done"] == 1
    assert any("cancelled after 1 of 3 epochs" in t and "model of epoch 1" in t for t in log), log


def test_train_that_diverges_says_so_and_leaves_the_previous_model(run_alg, sim, tmp_path):
    folder, _ = sim
    model, before = _previous_model(folder, tmp_path, run_alg)
    with pytest.raises(QgsProcessingException, match=r"(?i)diverged.*no model was written.*lower learning rate"):
        run_alg("train", {**TRAIN_TINY, "INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "EPOCHS": 2,
                          "LEARNING_RATE": 1e30, "OUTPUT_MODEL": str(model)})
    assert _sha(model) == before


def test_a_bare_cancel_keeps_the_generic_sentence(provider):
    from qgis.core import QgsApplication

    from smapdown.core.errors import Canceled

    alg = QgsApplication.processingRegistry().algorithmById("smapdown:train")
    assert alg.canceled_message(Canceled("cancelled by the user")).endswith(
        "cancelled by the user; no output file was written.")
    assert alg.canceled_message(Canceled("")).endswith("no output file was written.")
    assert alg.canceled_message(Canceled("archive run cancelled; finished products are kept")) == \
        "Train downscaling network: archive run cancelled; finished products are kept"


def test_train_writes_nothing_outside_the_main_process(run_alg, sim, tmp_path, monkeypatch):
    """Under torchrun every process returns the same model; only rank 0 writes the model, card and reports."""
    folder, _ = sim
    monkeypatch.setenv("RANK", "1")  # world size 1: trains alone, but is not the main process
    model = tmp_path / "r1.pt"
    res = run_alg("train", {**TRAIN_TINY, "INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "EPOCHS": 1,
                            "OUTPUT_MODEL": str(model), "OUTPUT_REPORT": str(tmp_path / "r1.json")})
    assert res["EPOCHS_DONE"] == 1
    assert not model.exists() and not model.with_suffix(".json").exists() and not (tmp_path / "r1.json").exists()


# ------------------------------------------------ issue 11: dates, resampling and all-or-nothing at the algorithm layer
def test_downscale_reference_of_another_day_needs_a_date_tolerance(run_alg, sim, tiny_model, tmp_path):
    folder, _ = sim
    low = str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5")
    ref = str(folder / "SMAP_L3_SM_AP_20150407_SIM.h5")  # the next day's 9 km TB
    with pytest.raises(QgsProcessingException, match=r"1 day\(s\) after.*within 0 day\(s\).*'Date tolerance \(days\)'"):
        run_alg("downscale", {"INPUT": low, "MODEL": tiny_model["OUTPUT_MODEL"], "REFERENCE": ref,
                              "OUTPUT": str(tmp_path / "a.tif")})
    assert not (tmp_path / "a.tif").exists()
    res = run_alg("downscale", {"INPUT": low, "MODEL": tiny_model["OUTPUT_MODEL"], "REFERENCE": ref,
                                "MAX_DAYS_APART": 1, "OUTPUT": str(tmp_path / "b.tif"),
                                "OUTPUT_REPORT": str(tmp_path / "b.json")})
    rep = json.loads(Path(res["OUTPUT_REPORT"]).read_text())
    assert rep["dates"] == {"input_date": "2015-04-06", "reference_date": "2015-04-07", "reference_gap_days": 1}
    assert rep["reference_resampling"] == "same grid" and "input_pixels_out_of_physical_range" in rep
    page = Path(res["OUTPUT_HTML"]).read_text()
    assert "Observation dates" in page and "reference 2015-04-07 (+1 days)" in page


def test_soil_moisture_reference_on_another_grid_only_when_resampling_is_ticked(run_alg, sim, tmp_path):
    folder, _ = sim
    params = {"INPUT": str(folder / f"SMAP_L3_SM_P_{SM_DAY}_SIM.h5"), "LST": str(folder / f"LST_{SM_DAY}_SIM.tif"),
              "GRID": 1, "REFERENCE": str(folder / f"SMAP_L2_SM_SP_{SM_DAY}_SIM.h5")}  # 9 km output, 3 km reference
    with pytest.raises(QgsProcessingException, match="M03 grid.*M09.*'Resample a reference on another grid' is ticked"):
        run_alg("soilmoisture", {**params, "OUTPUT": str(tmp_path / "a.tif")})
    assert not (tmp_path / "a.tif").exists()
    res = run_alg("soilmoisture", {**params, "REFERENCE_REGRID": True, "OUTPUT": str(tmp_path / "b.tif"),
                                   "OUTPUT_REPORT": str(tmp_path / "b.json")})
    rep = json.loads(Path(res["OUTPUT_REPORT"]).read_text())
    assert rep["reference_resampling"].startswith("block mean of the valid M03 cells")
    assert rep["dates"]["lst_gap_days"] == 0 and rep["dates"]["reference_gap_days"] == 0
    assert "Reference onto the output grid" in Path(res["OUTPUT_HTML"]).read_text()


def test_difference_can_refuse_a_reference_on_another_grid(run_alg, sim, tmp_path):
    folder, _ = sim
    low = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"
    tb9 = run_alg("loadsmap", {"INPUT": str(folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5"), "VARIABLES": "tb_v,tb_h",
                               "OUTPUT": str(tmp_path / "tb9.tif")})["OUTPUT"]
    tb36 = run_alg("loadsmap", {"INPUT": str(low), "VARIABLES": "tb_v,tb_h", "OUTPUT": str(tmp_path / "tb36.tif")})
    with pytest.raises(QgsProcessingException, match="M36 grid.*'Resample a reference on another grid' is ticked"):
        run_alg("difference", {"INPUT": tb9, "REFERENCE": tb36["OUTPUT"], "REFERENCE_REGRID": False,
                               "OUTPUT": str(tmp_path / "d.tif")})
    assert not (tmp_path / "d.tif").exists()


def test_simulate_publishes_the_day_set_at_once_and_replaces_only_when_asked(run_alg, tmp_path):
    params = {"EXTENT": "-98,-97.5,36,36.5 [EPSG:4326]", "START": "2015-04-01", "DAYS": 2, "SEED": 5,
              "OUTPUT_FOLDER": str(tmp_path / "series")}
    first = run_alg("simulate", params)
    manifest = json.loads((tmp_path / "series" / "smapdown-manifest.json").read_text())
    assert manifest["complete"] and manifest["seed"] == 5 and manifest["days"] == 2
    low = first["LOW_FILES"].split(";")
    assert low and all(Path(p).exists() and Path(p).parent == tmp_path / "series" for p in low)
    before = {p: _sha(p) for p in low}
    with pytest.raises(QgsProcessingException, match="earlier run"):
        run_alg("simulate", {**params, "SEED": 6})
    assert {p: _sha(p) for p in low} == before  # refused: the earlier run's files untouched
    again = run_alg("simulate", {**params, "SEED": 6, "REPLACE": True})
    assert again["LOW_FILES"] == first["LOW_FILES"] and {p: _sha(p) for p in low} != before
    assert json.loads((tmp_path / "series" / "smapdown-manifest.json").read_text())["seed"] == 6


def test_train_writes_model_card_and_reports_together_or_not_at_all(run_alg, sim, tmp_path):
    folder, _ = sim
    model, before = _previous_model(folder, tmp_path, run_alg)
    card_before = model.with_suffix(".json").read_text()
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(QgsProcessingException, match="a_file"):
        run_alg("train", {**TRAIN_TINY, "INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "EPOCHS": 1,
                          "OUTPUT_MODEL": str(model), "OUTPUT_REPORT": str(tmp_path / "a_file" / "r.json")})
    # the report could not be written: the new model was not published either
    assert _sha(model) == before and model.with_suffix(".json").read_text() == card_before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".smapdown-")]
