"""A table-driven bad-input suite: every case runs one of the seven algorithms through processing.run as a
careless or hostile user would, and asserts the outcome the project promises (issue 11):

* a QgsProcessingException whose message names the parameter or the file at fault (and says what is wrong),
* every input file unchanged (hashes of the simulated scenes and of the crafted inputs before and after),
* no file left at any output path, and no hidden ``.smapdown-*`` temporary anywhere.

Inputs are built from the session's simulated scenes (conftest ``sim``) and crafted beside them. Cases whose
refusal needs the algorithm layer (which this suite does not own) and that really fail today are marked
``xfail(strict=True)`` with the reason, so they turn into failures the moment they are fixed and left marked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pytest
from osgeo import gdal, osr
from qgis.core import QgsProcessingException, QgsProcessingFeedback

gdal.UseExceptions()
DAY = "20150406"
OTHER_DAY = "20150404"  # two days earlier: same region, another date
SM_DAY, SM_OTHER_DAY = "20150407", "20150401"  # Sentinel-1 days of the fixture (the 3 km product every 6 days)


# ---------------------------------------------------------------- inputs
@dataclass
class Inputs:
    sim: Path
    bad: Path
    low: str  # SPL3SMP, DAY
    high: str  # SPL3SMAP, DAY
    sm3: str  # SPL2SMAP_S, SM_DAY
    lst: str  # LST GeoTIFF, DAY
    static: str
    files: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.files[key]


def _ease_tif(path, grid, arrays, names, units, md=None):
    from smapdown.core.raster import BandSpec, write_geotiff

    return write_geotiff(str(path), grid, [np.asarray(a, np.float32) for a in arrays],
                         [BandSpec(n, u, n) for n, u in zip(names, units, strict=True)], md or {})


def _plain_tif(path, arrays, gt, epsg=4326, nodata=None):
    ds = gdal.GetDriverByName("GTiff").Create(str(path), arrays[0].shape[1], arrays[0].shape[0], len(arrays),
                                              gdal.GDT_Float32)
    ds.SetGeoTransform(gt)
    if epsg:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
    for i, a in enumerate(arrays, start=1):
        b = ds.GetRasterBand(i)
        if nodata is not None:
            b.SetNoDataValue(nodata)
        b.WriteArray(a)
    ds = None
    return str(path)


def _copy_h5(src, dst, edit):
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        edit(f)
    return str(dst)


def _scale_tb(f, factor, drop_range=True):
    g = f["Soil_Moisture_Retrieval_Data_AM"]
    for n in ("tb_v_corrected", "tb_h_corrected"):
        d = g[n]
        a = d[()]
        ok = a != -9999
        a[ok] = a[ok] * factor
        d[...] = a
        if drop_range:
            for k in ("valid_min", "valid_max"):
                if k in d.attrs:
                    del d.attrs[k]


@pytest.fixture(scope="module")
def inputs(sim, tmp_path_factory) -> Inputs:
    import torch

    from smapdown.core.files import DEFAULT_SM_MODEL, DEFAULT_TB_MODEL
    from smapdown.core.grid import Grid
    from smapdown.core.inputs import read_tb36

    folder, _ = sim
    bad = tmp_path_factory.mktemp("bad_inputs")
    inp = Inputs(folder, bad, str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"), str(folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5"),
                 str(folder / f"SMAP_L2_SM_SP_{SM_DAY}_SIM.h5"), str(folder / f"LST_{DAY}_SIM.tif"),
                 str(folder / "STATIC_M03_SIM.tif"))
    F = inp.files
    scene = read_tb36(inp.low)
    g36, g9 = scene.grid, scene.grid.refine("M09")
    tbv, tbh = scene.by_role("tb_v").data, scene.by_role("tb_h").data
    md = {"date": "2015-04-06", "product": "test raster"}
    F["tb36"] = _ease_tif(bad / "tb36.tif", g36, [tbv, tbh], ["tb_v", "tb_h"], ["K", "K"], md)
    # physically impossible TB rasters (values the HDF5 readers would never pass)
    for key, val in (("tb36_minus50", lambda a: np.full_like(a, -50.0)), ("tb36_1e6", lambda a: np.full_like(a, 1e6)),
                     ("tb36_celsius", lambda a: a - 273.15), ("tb36_zero", lambda a: np.zeros_like(a)),
                     ("tb36_400", lambda a: np.full_like(a, 400.0)), ("tb36_millikelvin", lambda a: a * 1000.0),
                     ("tb36_1e30", lambda a: np.full_like(a, 1e30))):
        F[key] = _ease_tif(bad / f"{key}.tif", g36, [val(tbv), val(tbh)], ["tb_v", "tb_h"], ["K", "K"], md)
    F["tb36_one_band"] = _ease_tif(bad / "tb36_one_band.tif", g36, [tbv], ["tb_v"], ["K"], md)
    F["tb36_named_sm"] = _ease_tif(bad / "tb36_named_sm.tif", g36, [np.full_like(tbv, 0.25)] * 2,
                                   ["soil_moisture", "soil_moisture_2"], ["m3/m3", "m3/m3"], md)
    F["tb36_units_sm"] = _ease_tif(bad / "tb36_units_sm.tif", g36, [tbv, tbh], ["band_a", "band_b"],
                                   ["m3/m3", "m3/m3"], md)
    F["tb36_wgs84"] = _plain_tif(bad / "tb36_wgs84.tif", [tbv, tbh], (-98.3, 0.36, 0, 37.2, 0, -0.36))
    gt = list(g36.geotransform())
    gt[0] += 1234.5  # half-way between EASE2 cells
    F["tb36_shifted"] = _plain_tif(bad / "tb36_shifted.tif", [tbv, tbh], tuple(gt), epsg=6933)
    F["tb36_no_crs"] = _plain_tif(bad / "tb36_no_crs.tif", [tbv, tbh], g36.geotransform(), epsg=0)
    F["tb36_all_nodata"] = _ease_tif(bad / "tb36_all_nodata.tif", g36, [np.full_like(tbv, np.nan)] * 2,
                                     ["tb_v", "tb_h"], ["K", "K"], md)
    far = Grid("M36", 60, 500, 4, 4)  # Europe
    F["tb36_europe"] = _ease_tif(bad / "tb36_europe.tif", far, [np.full(far.shape, 250.0)] * 2,
                                 ["tb_v", "tb_h"], ["K", "K"], md)
    bigger = Grid("M36", g36.row_off - 2, g36.col_off - 2, g36.rows + 4, g36.cols + 4)  # overlaps, spills over
    F["tb36_bigger"] = _ease_tif(bad / "tb36_bigger.tif", bigger, [np.full(bigger.shape, 250.0),
                                                                  np.full(bigger.shape, 200.0)],
                                 ["tb_v", "tb_h"], ["K", "K"], md)
    # references
    sm9 = np.full(g9.shape, 0.25, np.float32)
    F["ref_sm9"] = _ease_tif(bad / "ref_sm9.tif", g9, [sm9, sm9], ["soil_moisture", "soil_moisture_b"],
                             ["m3/m3", "m3/m3"], md)
    F["ref_sm9_unnamed"] = _ease_tif(bad / "ref_sm9_unnamed.tif", g9, [sm9, sm9], ["band1", "band2"], ["", ""], md)
    F["ref_tb36"] = F["tb36"]
    tb9 = np.repeat(np.repeat(np.stack([tbv, tbh]), 4, 1), 4, 2)
    F["ref_tb9_celsius"] = _ease_tif(bad / "ref_tb9_celsius.tif", g9, list(tb9 - 273.15), ["tb_v", "tb_h"],
                                     ["K", "K"], md)
    F["ref_tb9_other_day"] = _ease_tif(bad / "ref_tb9_other_day.tif", g9, list(tb9), ["tb_v", "tb_h"], ["K", "K"],
                                       {"date": "2015-02-13"})
    F["ref_high_other_day"] = str(folder / f"SMAP_L3_SM_AP_{OTHER_DAY}_SIM.h5")
    g3 = g36.refine("M03")
    F["ref_tb3"] = _ease_tif(bad / "ref_tb3.tif", g3, [np.full(g3.shape, 250.0)] * 2, ["tb_v", "tb_h"],
                             ["K", "K"], md)
    F["ref_sm3_tb"] = _ease_tif(bad / "ref_sm3_tb.tif", g3, [np.full(g3.shape, 250.0)], ["tb_v"], ["K"], md)
    F["ref_sm3_other_day"] = str(folder / f"SMAP_L2_SM_SP_{SM_OTHER_DAY}_SIM.h5")
    F["ref_sm9_grid"] = _ease_tif(bad / "ref_sm9_grid.tif", g9, [sm9], ["soil_moisture"], ["m3/m3"], md)
    F["ref_sm3_percent"] = _ease_tif(bad / "ref_sm3_percent.tif", g3, [np.full(g3.shape, 25.0)], ["soil_moisture"],
                                     ["m3/m3"], md)
    # LST
    lst = gdal.Open(inp.lst)
    lgt, la = lst.GetGeoTransform(), lst.GetRasterBand(1).ReadAsArray().astype(np.float32)
    lst = None
    from smapdown.core.raster import grid_from_geotransform

    g1 = grid_from_geotransform(lgt, *la.shape)
    la = np.where(la == -9999, np.nan, la)
    F["lst_celsius"] = _ease_tif(bad / "lst_celsius.tif", g1, [la - 273.15], ["lst"], ["K"], {"date": "2015-04-06"})
    F["lst_2days"] = _ease_tif(bad / "lst_2days.tif", g1, [la], ["lst"], ["K"], {"date": "2015-04-04"})
    F["lst_71days"] = _ease_tif(bad / "lst_71days.tif", g1, [la], ["lst"], ["K"], {"date": "2015-06-16"})
    F["lst_hot"] = _ease_tif(bad / "lst_hot.tif", g1, [la + 90.0], ["lst"], ["K"], {"date": "2015-04-06"})
    F["lst_europe"] = _ease_tif(bad / "lst_europe.tif", far.refine("M01"), [np.full(far.refine("M01").shape, 290.0)],
                                ["lst"], ["K"], {"date": "2015-04-06"})
    F["lst_nodata"] = _ease_tif(bad / "lst_nodata.tif", g1, [np.full_like(la, np.nan)], ["lst"], ["K"],
                                {"date": "2015-04-06"})
    F["lst_no_crs"] = _plain_tif(bad / "lst_no_crs.tif", [np.nan_to_num(la, nan=-9999)], lgt, epsg=0, nodata=-9999)
    # static
    F["static_tb"] = F["tb36"]
    F["static_percent"] = _ease_tif(bad / "static_percent.tif", g3, [np.full(g3.shape, 40.0)] * 2,
                                    ["static_clay", "static_sand"], ["1", "1"], md)
    # HDF5 files
    F["h5_truncated"] = str(bad / "truncated.h5")
    Path(F["h5_truncated"]).write_bytes(Path(inp.low).read_bytes()[:4000])
    F["h5_unknown"] = str(bad / "unknown.h5")
    with h5py.File(F["h5_unknown"], "w") as f:
        f.create_dataset("stuff/values", data=np.arange(10.0))
    F["h5_tb_centik"] = _copy_h5(inp.low, bad / "tb_centik.h5", lambda f: _scale_tb(f, 100.0))
    F["h5_tb_celsius"] = _copy_h5(inp.low, bad / "tb_celsius.h5", lambda f: _scale_tb(f, 0.001))
    F["h5_no_index"] = _copy_h5(inp.low, bad / "no_index.h5", _drop_tb)
    # plain junk
    F["empty"] = str(bad / "empty.h5")
    Path(F["empty"]).write_bytes(b"")
    F["text_h5"] = str(bad / "notes.h5")
    Path(F["text_h5"]).write_text("this is not a SMAP product\n")
    F["text_tif"] = str(bad / "notes.tif")
    Path(F["text_tif"]).write_text("this is not a raster\n")
    F["text_hdf"] = str(bad / "notes.hdf")
    Path(F["text_hdf"]).write_text("this is not MODIS\n")
    F["folder"] = str(bad / "a_folder.h5")
    os.makedirs(F["folder"], exist_ok=True)
    F["missing"] = str(bad / "does_not_exist.h5")
    F["missing_tif"] = str(bad / "does_not_exist.tif")
    # model files
    payload = torch.load(DEFAULT_TB_MODEL, weights_only=True)
    card = json.loads(payload["card"])

    def model(name, card_edit=None, state_edit=None, base=payload):
        c = json.loads(base["card"])
        if card_edit:
            card_edit(c)
        st = {k: v.clone() for k, v in base["state_dict"].items()}
        if state_edit:
            state_edit(st)
        torch.save({**base, "card": json.dumps(c), "state_dict": st}, bad / name)
        return str(bad / name)

    F["model_nan"] = model("nan_weights.pt", state_edit=lambda s: s[next(iter(s))].fill_(float("nan")))
    F["model_inf"] = model("inf_weights.pt", state_edit=lambda s: s[list(s)[-1]].fill_(float("inf")))
    F["model_mean1e6"] = model("mean_1e6.pt", lambda c: c["normalisation"]["outputs"].__setitem__("mean", [1e6, 1e6]))
    F["model_std1e30"] = model("std_1e30.pt", lambda c: c["normalisation"]["outputs"].__setitem__("std", [1e30, 1e30]))
    F["model_std0"] = model("std_0.pt", lambda c: c["normalisation"]["inputs"].__setitem__("std", [0.0, 1.0]))
    F["model_in_mean1e9"] = model("in_mean_1e9.pt",
                                  lambda c: c["normalisation"]["inputs"].__setitem__("mean", [1e9, 200.0]))
    F["model_features_huge"] = model("features_huge.pt",
                                     lambda c: c["architecture"]["kwargs"].__setitem__("features", 10**6))
    F["model_nocard"] = model("no_outputs.pt", lambda c: c.pop("outputs"))
    F["model_sm"] = DEFAULT_SM_MODEL
    F["model_tb"] = DEFAULT_TB_MODEL
    F["model_truncated"] = str(bad / "truncated.pt")
    Path(F["model_truncated"]).write_bytes(Path(DEFAULT_TB_MODEL).read_bytes()[:5000])
    F["model_text"] = str(bad / "text.pt")
    Path(F["model_text"]).write_text("weights: none\n")
    F["model_json"] = str(bad / "card_only.pt")
    Path(F["model_json"]).write_text(json.dumps(card))

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {bad / 'pwned'}",))

    F["model_pickle"] = str(bad / "os_system.pt")
    Path(F["model_pickle"]).write_bytes(pickle.dumps(Boom()))
    F["model_torch_pickle"] = str(bad / "torch_pickle.pt")
    torch.save({**payload, "x": Boom()}, F["model_torch_pickle"])
    F["model_other_format"] = str(bad / "other_format.pt")
    torch.save({**payload, "format": "not-smapdown"}, F["model_other_format"])
    # training folders
    F["only_high"] = str(bad / "only_high")
    os.makedirs(F["only_high"], exist_ok=True)
    for name in os.listdir(folder):
        if name.startswith("SMAP_L3_SM_AP_"):
            shutil.copy(folder / name, Path(F["only_high"]) / name)
    F["empty_folder"] = str(bad / "empty_folder")
    os.makedirs(F["empty_folder"], exist_ok=True)
    F["low_as_high"] = [str(folder / n) for n in sorted(os.listdir(folder)) if n.startswith("SMAP_L3_SM_P_")]
    F["sm_as_high_tb"] = [str(folder / n) for n in sorted(os.listdir(folder)) if n.startswith("SMAP_L2_SM_SP_")]
    F["file_as_folder"] = str(bad / "a_file")
    Path(F["file_as_folder"]).write_text("x")
    return inp


def _drop_tb(f):
    g = f["Soil_Moisture_Retrieval_Data_AM"]
    del g["tb_v_corrected"]
    del g["tb_h_corrected"]


@pytest.fixture(scope="module")
def location_model(inputs, tmp_path_factory):
    """A tiny location-specific TB model trained on the simulated region (seconds)."""
    import processing

    out = tmp_path_factory.mktemp("bad_model")
    res = processing.run("smapdown:train", {
        "INPUT_LOW": [str(inputs.sim)], "INPUT_HIGH": [str(inputs.sim)], "CASE": 0, "VALIDATION_DAYS": 1,
        "EPOCHS": 1, "FEATURES": 4, "PATCHES_PER_EPOCH": 16, "PATCH": 8, "SEED": 1,
        "OUTPUT_MODEL": str(out / "loc.pt")})
    return res["OUTPUT_MODEL"]


# ---------------------------------------------------------------- cases
@dataclass
class Case:
    id: str
    alg: str
    params: dict
    names: tuple[str, ...]  # the message must contain one of these (parameter names, file names: {keys})
    match: str = ""  # and match this (what is wrong), case-insensitive
    outputs: tuple[str, ...] = ("OUTPUT",)
    xfail: str = ""


def C(id, alg, params, names, match="", outputs=("OUTPUT",), xfail=""):  # noqa: N802 - a table row
    return Case(id, alg, params, tuple([names] if isinstance(names, str) else names), match, outputs, xfail)


LS = {"INPUT": "{low}"}
DS = {"INPUT": "{low}"}
SM = {"INPUT": "{low}", "LST": "{lst}"}
TR = {"INPUT_LOW": ["{sim}"], "INPUT_HIGH": ["{sim}"], "CASE": 0, "VALIDATION_DAYS": 1, "EPOCHS": 1, "FEATURES": 4,
      "PATCHES_PER_EPOCH": 16, "PATCH": 8}
TR_SM = {**TR, "INPUT_LST": ["{sim}"], "CASE": 1, "GRID": 1}
SIM = {"START": "2015-04-01", "DAYS": 2, "SEED": 1}

CASES: list[Case] = []

# the same broken files wherever a file is read
_FILE_SLOTS = [
    ("loadsmap", "INPUT", {}),
    ("loadmodis", "INPUT", {}),
    ("downscale", "INPUT", {}),
    ("downscale", "REFERENCE", DS),
    ("downscale", "MODEL", DS),
    ("downscale", "STATIC", {**DS, "MODEL": "{model_static}"}),
    ("soilmoisture", "INPUT", {"LST": "{lst}"}),
    ("soilmoisture", "LST", {"INPUT": "{low}"}),
    ("soilmoisture", "MODEL", SM),
    ("soilmoisture", "REFERENCE", SM),
]
for key in ("missing", "folder", "empty", "text_h5", "h5_truncated"):
    for alg, slot, base in _FILE_SLOTS:
        if slot == "STATIC":
            continue  # covered below with a model that reads static inputs
        params = {**base, slot: "{" + key + "}"}
        # QGIS's own file-parameter check runs first for a missing file, and names the parameter
        names = (os.path.basename({"missing": "does_not_exist.h5", "folder": "a_folder.h5", "empty": "empty.h5",
                                   "text_h5": "notes.h5", "h5_truncated": "truncated.h5"}[key]), slot)
        CASES.append(C(f"{alg}-{slot}-{key}", alg, params, names))

CASES += [
    # --- loadsmap
    C("loadsmap-unknown-product", "loadsmap", {"INPUT": "{h5_unknown}"}, "unknown.h5", "unknown product"),
    C("loadsmap-unknown-variable", "loadsmap", {**LS, "VARIABLES": "tb_x"}, "SMAP_L3_SM_P", "tb_x"),
    C("loadsmap-pass-on-subset", "loadsmap", {"INPUT": "{sm3}", "PASS": 2}, "SMAP_L2_SM_SP", "pass"),
    C("loadsmap-extent-elsewhere", "loadsmap", {**LS, "EXTENT": "10,11,50,51 [EPSG:4326]"}, "SMAP_L3_SM_P",
      "no valid data|does not intersect"),
    C("loadsmap-extent-beyond-ease", "loadsmap", {**LS, "EXTENT": "10,11,87,89 [EPSG:4326]"}, "SMAP_L3_SM_P",
      "latitude|outside"),
    C("loadsmap-tb-centikelvin", "loadsmap", {"INPUT": "{h5_tb_centik}", "VARIABLES": "tb_v,tb_h"}, "tb_centik.h5",
      "physical range"),
    C("loadsmap-tb-scaled-down", "loadsmap", {"INPUT": "{h5_tb_celsius}", "VARIABLES": "tb_v"}, "tb_celsius.h5",
      "physical range"),
    C("loadsmap-tb-dataset-missing", "loadsmap", {"INPUT": "{h5_no_index}", "VARIABLES": "tb_v"}, "no_index.h5",
      "no variable"),
    C("loadsmap-output-is-input", "loadsmap", {"INPUT": "{low_copy}", "OUTPUT": "{low_copy}"},
      ("OUTPUT", "SMAP_L3_SM_P"), "input", outputs=()),
    C("loadsmap-output-unwritable", "loadsmap", {**LS, "OUTPUT": "/proc/smapdown_x.tif"}, ("smapdown_x.tif", "OUTPUT"),
      "", outputs=()),
    # --- loadmodis
    C("loadmodis-text-hdf", "loadmodis", {"INPUT": "{text_hdf}"}, "notes.hdf", "not an HDF4|cannot read"),
    C("loadmodis-text-tif", "loadmodis", {"INPUT": "{text_tif}"}, "notes.tif", "not an HDF4|cannot read"),
    C("loadmodis-smap-file", "loadmodis", {"INPUT": "{low}"}, "SMAP_L3_SM_P", "not MODIS"),
    C("loadmodis-celsius", "loadmodis", {"INPUT": "{lst_celsius}"}, "lst_celsius.tif", "Kelvin"),
    C("loadmodis-too-hot", "loadmodis", {"INPUT": "{lst_hot}"}, "lst_hot.tif", "physical range"),
    C("loadmodis-no-crs", "loadmodis", {"INPUT": "{lst_no_crs}"}, "lst_no_crs.tif", "coordinate reference"),
    C("loadmodis-all-nodata", "loadmodis", {"INPUT": "{lst_nodata}"}, "lst_nodata.tif", "no valid"),
    C("loadmodis-extent-elsewhere", "loadmodis", {"INPUT": "{lst}", "EXTENT": "10,11,50,51 [EPSG:4326]"},
      "LST_2015", "intersect|no valid|outside"),
    C("loadmodis-output-is-input", "loadmodis", {"INPUT": "{lst_copy}", "OUTPUT": "{lst_copy}"}, ("OUTPUT", "LST_2015"),
      "input", outputs=()),
    # --- downscale: impossible TB
    *[C(f"downscale-{k}", "downscale", {"INPUT": "{" + k + "}"}, f"{k}.tif", "physical range")
      for k in ("tb36_minus50", "tb36_1e6", "tb36_celsius", "tb36_zero", "tb36_400", "tb36_millikelvin",
                "tb36_1e30")],
    C("downscale-h5-centikelvin", "downscale", {"INPUT": "{h5_tb_centik}"}, "tb_centik.h5", "physical range"),
    C("downscale-one-band", "downscale", {"INPUT": "{tb36_one_band}"}, "tb36_one_band.tif", "band"),
    C("downscale-sm-raster-as-tb", "downscale", {"INPUT": "{tb36_named_sm}"}, "tb36_named_sm.tif", "not tb_v"),
    C("downscale-sm-units-as-tb", "downscale", {"INPUT": "{tb36_units_sm}"}, "tb36_units_sm.tif", "not tb_v"),
    C("downscale-not-ease", "downscale", {"INPUT": "{tb36_wgs84}"}, "tb36_wgs84.tif", "EASE-Grid"),
    C("downscale-misaligned", "downscale", {"INPUT": "{tb36_shifted}"}, "tb36_shifted.tif", "aligned"),
    C("downscale-no-crs", "downscale", {"INPUT": "{tb36_no_crs}"}, "tb36_no_crs.tif", "EASE-Grid"),
    C("downscale-all-nodata", "downscale", {"INPUT": "{tb36_all_nodata}"}, "tb36_all_nodata.tif", "no valid"),
    C("downscale-9km-input", "downscale", {"INPUT": "{high}"}, "SMAP_L3_SM_AP", "36 km"),
    C("downscale-sm-product", "downscale", {"INPUT": "{sm3}"}, "SMAP_L2_SM_SP", "no variable|36 km|M03"),
    C("downscale-unknown-h5", "downscale", {"INPUT": "{h5_unknown}"}, "unknown.h5", "unknown product"),
    C("downscale-tb-dataset-missing", "downscale", {"INPUT": "{h5_no_index}"}, "no_index.h5", "no variable"),
    C("downscale-text-tif", "downscale", {"INPUT": "{text_tif}"}, "notes.tif", "GDAL"),
    C("downscale-extent-elsewhere", "downscale", {**DS, "EXTENT": "10,11,50,51 [EPSG:4326]"}, "SMAP_L3_SM_P",
      "no valid|intersect"),
    # --- downscale: models
    *[C(f"downscale-model-{k}", "downscale", {**DS, "MODEL": "{model_" + k + "}"}, f, m) for k, f, m in (
        ("nan", "nan_weights.pt", "NaN"), ("inf", "inf_weights.pt", "NaN or infinite"),
        ("mean1e6", "mean_1e6.pt", "implausible normalisation"), ("std1e30", "std_1e30.pt", "implausible"),
        ("std0", "std_0.pt", "positive"), ("in_mean1e9", "in_mean_1e9.pt", "implausible"),
        ("features_huge", "features_huge.pt", "features"), ("nocard", "no_outputs.pt", "outputs"),
        ("truncated", "truncated.pt", "could not be read"), ("text", "text.pt", "could not be read"),
        ("json", "card_only.pt", "could not be read"),
        ("pickle", "os_system.pt", "refused.*nothing in it was executed"),
        ("torch_pickle", "torch_pickle.pt", "refused.*nothing in it was executed"),
        ("other_format", "other_format.pt", "not a smapdown-model"),
        ("sm", "sm_general.pt", "not TB V and H|soil moisture model"))],
    C("downscale-location-elsewhere", "downscale", {"INPUT": "{tb36_europe}", "MODEL": "{model_location}"},
      "loc.pt", "training region"),
    C("downscale-location-spills-over", "downscale", {"INPUT": "{tb36_bigger}", "MODEL": "{model_location}"},
      "loc.pt", "training region.*partly outside"),
    # --- downscale: references
    C("downscale-ref-soil-moisture", "downscale", {**DS, "REFERENCE": "{ref_sm9}"}, "ref_sm9.tif", "not tb_v"),
    C("downscale-ref-sm-values", "downscale", {**DS, "REFERENCE": "{ref_sm9_unnamed}"}, "ref_sm9_unnamed.tif",
      "physical range"),
    C("downscale-ref-36km-grid", "downscale", {**DS, "REFERENCE": "{ref_tb36}"}, "tb36.tif", "M36 grid"),
    C("downscale-ref-3km-grid", "downscale", {**DS, "REFERENCE": "{ref_tb3}"}, "ref_tb3.tif", "M03 grid"),
    C("downscale-ref-celsius", "downscale", {**DS, "REFERENCE": "{ref_tb9_celsius}"}, "ref_tb9_celsius.tif",
      "physical range"),
    C("downscale-ref-other-day", "downscale", {**DS, "REFERENCE": "{ref_high_other_day}"},
      "SMAP_L3_SM_AP_20150404", "2 day"),
    C("downscale-ref-52-days", "downscale", {**DS, "REFERENCE": "{ref_tb9_other_day}"}, "ref_tb9_other_day.tif",
      "52 day"),
    C("downscale-ref-sm-product", "downscale", {**DS, "REFERENCE": "{sm3}"}, "SMAP_L2_SM_SP", "M03 grid|no variable"),
    C("downscale-ref-unknown-h5", "downscale", {**DS, "REFERENCE": "{h5_unknown}"}, "unknown.h5", "unknown product"),
    C("downscale-diff-without-reference", "downscale", {**DS, "OUTPUT_DIFF_CNN": "{out:d.tif}"}, "REFERENCE", "",
      outputs=("OUTPUT", "OUTPUT_DIFF_CNN")),
    # --- downscale: static
    C("downscale-static-tb-raster", "downscale", {**DS, "MODEL": "{model_static}", "STATIC": "{static_tb}"},
      "tb36.tif", "static"),
    C("downscale-static-percent", "downscale", {**DS, "MODEL": "{model_static}", "STATIC": "{static_percent}"},
      "static_percent.tif", "physical range"),
    C("downscale-static-missing-param", "downscale", {**DS, "MODEL": "{model_static}"}, ("STATIC", "static.pt"),
      "static ancillary raster"),
    # --- downscale: outputs
    C("downscale-output-is-input", "downscale", {"INPUT": "{low_copy}", "OUTPUT": "{low_copy}"},
      ("OUTPUT", "INPUT"), "input", outputs=()),
    C("downscale-output-is-model", "downscale", {**DS, "MODEL": "{model_location}", "OUTPUT": "{model_location}"},
      ("OUTPUT", "MODEL"), "input", outputs=()),
    C("downscale-output-is-reference", "downscale", {**DS, "REFERENCE": "{ref_copy_high}", "OUTPUT": "{ref_copy_high}"},
      ("OUTPUT", "REFERENCE"), "input", outputs=()),
    C("downscale-baseline-unwritable", "downscale", {**DS, "OUTPUT_BASELINE": "/proc/smapdown_b.tif"},
      ("smapdown_b.tif", "OUTPUT_BASELINE", "Bicubic"), "", outputs=("OUTPUT",)),
    C("downscale-tile-too-small", "downscale", {**DS, "TILE": 1}, "TILE", ""),
    C("downscale-tile-too-large", "downscale", {**DS, "TILE": 100000}, "TILE", ""),
    # --- soil moisture
    C("sm-lst-celsius", "soilmoisture", {**SM, "LST": "{lst_celsius}"}, "lst_celsius.tif", "Kelvin"),
    C("sm-lst-hot", "soilmoisture", {**SM, "LST": "{lst_hot}"}, "lst_hot.tif", "physical range"),
    C("sm-lst-2-days", "soilmoisture", {**SM, "LST": "{lst_2days}"}, "lst_2days.tif", "2 day"),
    C("sm-lst-71-days", "soilmoisture", {**SM, "LST": "{lst_71days}"}, "lst_71days.tif", "71 day"),
    C("sm-lst-elsewhere", "soilmoisture", {**SM, "LST": "{lst_europe}"}, "lst_europe.tif", "overlap|no valid"),
    C("sm-lst-all-nodata", "soilmoisture", {**SM, "LST": "{lst_nodata}"}, "lst_nodata.tif", "no valid"),
    C("sm-lst-no-crs", "soilmoisture", {**SM, "LST": "{lst_no_crs}"}, "lst_no_crs.tif", "coordinate reference"),
    C("sm-lst-is-smap", "soilmoisture", {**SM, "LST": "{high}"}, "SMAP_L3_SM_AP", "not MODIS"),
    C("sm-input-tb-raster-no-ancillary", "soilmoisture", {**SM, "INPUT": "{tb36}"}, "tb36.tif", "soil_moisture"),
    C("sm-input-celsius", "soilmoisture", {**SM, "INPUT": "{tb36_celsius}"}, "tb36_celsius.tif",
      "physical range|soil_moisture"),
    C("sm-input-9km", "soilmoisture", {**SM, "INPUT": "{high}"}, "SMAP_L3_SM_AP", "36 km"),
    C("sm-ref-tb", "soilmoisture", {**SM, "REFERENCE": "{ref_sm3_tb}"}, "ref_sm3_tb.tif", "not soil_moisture"),
    C("sm-ref-tb-product", "soilmoisture", {**SM, "REFERENCE": "{high}"}, "SMAP_L3_SM_AP", "M09"),
    C("sm-ref-9km-grid", "soilmoisture", {**SM, "REFERENCE": "{ref_sm9_grid}"}, "ref_sm9_grid.tif", "M09 grid"),
    C("sm-ref-percent", "soilmoisture", {**SM, "REFERENCE": "{ref_sm3_percent}"}, "ref_sm3_percent.tif",
      "physical range"),
    C("sm-ref-other-day", "soilmoisture", {**SM, "REFERENCE": "{ref_sm3_other_day}"}, "SMAP_L2_SM_SP_20150401",
      "5 day"),
    C("sm-model-tb", "soilmoisture", {**SM, "MODEL": "{model_tb}"}, "tb_general.pt", "not soil moisture|tb model"),
    C("sm-model-nan", "soilmoisture", {**SM, "MODEL": "{model_nan}"}, "nan_weights.pt", "NaN"),
    C("sm-model-pickle", "soilmoisture", {**SM, "MODEL": "{model_pickle}"}, "os_system.pt", "refused"),
    C("sm-diff-without-reference", "soilmoisture", {**SM, "OUTPUT_DIFF": "{out:d.tif}"}, "REFERENCE", "",
      outputs=("OUTPUT", "OUTPUT_DIFF")),
    C("sm-static-percent", "soilmoisture", {**SM, "MODEL": "{model_sm_static}", "STATIC": "{static_percent}"},
      "static_percent.tif", "physical range|lacks"),
    C("sm-output-is-lst", "soilmoisture", {**SM, "LST": "{lst_copy}", "OUTPUT": "{lst_copy}"}, ("OUTPUT", "LST"),
      "input", outputs=()),
    C("sm-output-is-input", "soilmoisture", {**SM, "INPUT": "{low_copy}", "OUTPUT": "{low_copy}"}, ("OUTPUT", "INPUT"),
      "input", outputs=()),
    C("sm-extent-elsewhere", "soilmoisture", {**SM, "EXTENT": "10,11,50,51 [EPSG:4326]"}, "SMAP_L3_SM_P",
      "no valid|intersect"),
    # --- difference
    C("difference-sm-vs-tb", "difference", {"INPUT": "{ref_sm9_grid}", "REFERENCE": "{tb36}"}, "tb36.tif",
      "quantity"),
    C("difference-tb-vs-sm", "difference", {"INPUT": "{tb36}", "REFERENCE": "{ref_sm9}"}, "ref_sm9.tif", "quantity"),
    C("difference-not-ease", "difference", {"INPUT": "{tb36_wgs84}", "REFERENCE": "{tb36}"}, "tb36_wgs84.tif",
      "EASE-Grid"),
    C("difference-misaligned", "difference", {"INPUT": "{tb36}", "REFERENCE": "{tb36_shifted}"}, "tb36_shifted.tif",
      "aligned"),
    C("difference-no-overlap", "difference", {"INPUT": "{tb36}", "REFERENCE": "{tb36_europe}"}, "tb36_europe.tif",
      "no valid cell in common"),
    C("difference-missing", "difference", {"INPUT": "{missing_tif}", "REFERENCE": "{tb36}"}, "INPUT", ""),
    C("difference-text", "difference", {"INPUT": "{text_tif}", "REFERENCE": "{tb36}"}, ("INPUT", "notes.tif"), ""),
    C("difference-output-is-input", "difference", {"INPUT": "{tb36_copy}", "REFERENCE": "{tb36}",
                                                   "OUTPUT": "{tb36_copy}"}, ("OUTPUT", "INPUT"), "input",
      outputs=()),
    C("difference-output-is-reference", "difference", {"INPUT": "{tb36}", "REFERENCE": "{tb36_copy}",
                                                       "OUTPUT": "{tb36_copy}"}, ("OUTPUT", "REFERENCE"), "input",
      outputs=()),
    # --- train
    C("train-end-before-start", "train", {**TR, "START": "2015-04-06", "END": "2015-04-02"}, ("END", "Last date"),
      "before START|after Last date",
      outputs=("OUTPUT_MODEL",)),
    C("train-no-day-in-range", "train", {**TR, "START": "2016-01-01", "END": "2016-02-01"}, "START",
      "", outputs=("OUTPUT_MODEL",)),
    C("train-36km-as-9km", "train", {**TR, "INPUT_HIGH": "{low_as_high}"}, "SMAP_L3_SM_P", "INPUT_HIGH",
      outputs=("OUTPUT_MODEL",)),
    C("train-sm-as-tb-target", "train", {**TR, "INPUT_HIGH": "{sm_as_high_tb}"}, "SMAP_L2_SM_SP",
      "M03|no variable|tb", outputs=("OUTPUT_MODEL",)),
    C("train-no-low", "train", {**TR, "INPUT_LOW": ["{only_high}"]}, "INPUT_LOW", "", outputs=("OUTPUT_MODEL",)),
    C("train-empty-high", "train", {**TR, "INPUT_HIGH": ["{empty_folder}"]}, "INPUT_HIGH", "",
      outputs=("OUTPUT_MODEL",)),
    C("train-missing-low", "train", {**TR, "INPUT_LOW": ["{missing}"]}, ("does_not_exist.h5", "INPUT_LOW"), "",
      outputs=("OUTPUT_MODEL",)),
    C("train-validation-days", "train", {**TR, "VALIDATION_DAYS": 50}, "VALIDATION_DAYS", "",
      outputs=("OUTPUT_MODEL",)),
    C("train-sm-without-lst", "train", {**TR, "CASE": 1, "INPUT_HIGH": ["{sim}"]}, ("INPUT_LST", "LST files"), "",
      outputs=("OUTPUT_MODEL",)),
    C("train-sm-lst-celsius", "train", {**TR_SM, "INPUT_LST": ["{lst_celsius}"]}, "lst_celsius.tif", "Kelvin",
      outputs=("OUTPUT_MODEL",)),
    C("train-static-percent", "train", {**TR, "INPUT_STATIC": "{static_percent}"}, "static_percent.tif",
      "physical range", outputs=("OUTPUT_MODEL",)),
    C("train-static-tb-raster", "train", {**TR, "INPUT_STATIC": "{static_tb}"}, "tb36.tif", "static",
      outputs=("OUTPUT_MODEL",)),
    C("train-epochs-zero", "train", {**TR, "EPOCHS": 0}, "EPOCHS", "", outputs=("OUTPUT_MODEL",)),
    C("train-patch-too-small", "train", {**TR, "PATCH": 2}, "PATCH", "", outputs=("OUTPUT_MODEL",)),
    C("train-features-huge", "train", {**TR, "FEATURES": 100000}, "FEATURES", "memory", outputs=("OUTPUT_MODEL",)),
    C("train-output-is-input", "train", {**TR, "INPUT_LOW": "{low_copy}", "OUTPUT_MODEL": "{low_copy}"},
      ("OUTPUT_MODEL", "Model file", "SMAP_L3_SM_P"), "input", outputs=()),
    # --- simulate
    C("simulate-days-zero", "simulate", {**SIM, "DAYS": 0}, "DAYS", "", outputs=("OUTPUT_FOLDER",)),
    C("simulate-days-too-many", "simulate", {**SIM, "DAYS": 400}, "DAYS", "", outputs=("OUTPUT_FOLDER",)),
    C("simulate-seed-negative", "simulate", {**SIM, "SEED": -1}, "SEED", "", outputs=("OUTPUT_FOLDER",)),
    C("simulate-folder-is-file", "simulate", {**SIM, "EXTENT": "-98,-97.5,36,36.5 [EPSG:4326]",
                                              "OUTPUT_FOLDER": "{file_as_folder}"}, "a_file", "", outputs=()),
    C("simulate-folder-unwritable", "simulate", {**SIM, "EXTENT": "-98,-97.5,36,36.5 [EPSG:4326]",
                                                 "OUTPUT_FOLDER": "/proc/smapdown_sim"}, "smapdown_sim", "",
      outputs=()),
    C("simulate-extent-beyond-ease", "simulate", {**SIM, "EXTENT": "10,11,87,89 [EPSG:4326]"}, ("EXTENT", "extent"),
      "latitude|outside", outputs=("OUTPUT_FOLDER",)),
    C("simulate-whole-globe", "simulate", {**SIM, "DAYS": 30, "EXTENT": "-180,180,-85,85 [EPSG:4326]"}, "EXTENT",
      "memory", outputs=("OUTPUT_FOLDER",)),
]


# ---------------------------------------------------------------- running
def _simulate_checks_memory() -> bool:
    """Whether the LOADED simulate algorithm calls core.limits.check_simulate before simulating (read from its
    code object, not its file: a file edited after QGIS loaded the module would say yes and run out of memory)."""
    from smapdown.algorithms.simulate import SimulateAlgorithm

    return "check_simulate" in SimulateAlgorithm.execute.__code__.co_names

def _hashes(*folders: Path) -> dict[str, str]:
    out = {}
    for folder in folders:
        for root, _, names in os.walk(folder):
            for n in names:
                p = os.path.join(root, n)
                with open(p, "rb") as f:
                    out[p] = hashlib.sha256(f.read()).hexdigest()
    return out


def _temps(*folders: Path) -> list[str]:
    found = []
    for folder in folders:
        for root, dirs, names in os.walk(folder):
            found += [os.path.join(root, n) for n in names + dirs if n.startswith(".smapdown-")]
    return found


@pytest.fixture(scope="module")
def static_models(inputs, tmp_path_factory):
    """Copies of the bundled models whose cards say they read static inputs (weights of the right shape)."""
    import torch

    from smapdown.core.scene import STATIC_BANDS
    from smapdown.model.io import load_model, save_model

    out = tmp_path_factory.mktemp("static_models")
    paths = {}
    for key, src in (("model_static", inputs["model_tb"]), ("model_sm_static", inputs["model_sm"])):
        model, card = load_model(src)
        from smapdown.model.network import DownscaleCNN

        kw = dict(card.architecture["kwargs"])
        kw["in_channels"] += len(STATIC_BANDS)
        net = DownscaleCNN(**kw)
        with torch.no_grad():
            net.load_state_dict({k: v if v.shape == net.state_dict()[k].shape else
                                 torch.zeros_like(net.state_dict()[k]) for k, v in model.state_dict().items()})
        card = card.to_dict()
        card.pop("architecture")
        card["inputs"] += [{"name": n, "units": "1"} for n in STATIC_BANDS]
        for stat, v in (("mean", 0.3), ("std", 0.2)):
            card["normalisation"]["inputs"][stat] += [v] * len(STATIC_BANDS)
        save_model(out / f"{key[6:]}.pt", net, card)
        paths[key] = str(out / f"{key[6:]}.pt")
    return paths


def _fill(value, files: dict[str, str], tmp: Path):
    if isinstance(value, list):
        return [_fill(v, files, tmp) for v in value]
    if not isinstance(value, str) or "{" not in value:
        return value
    if value.startswith("{out:"):
        return str(tmp / value[5:-1])
    if value.startswith("{") and value.endswith("}") and isinstance(files.get(value[1:-1]), list):
        return files[value[1:-1]]
    return value.format(**files)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                                               if c.xfail else []) for c in CASES])
def test_bad_input(case: Case, inputs, location_model, static_models, run_alg, tmp_path):
    work = tmp_path / "work"  # per-case copies of inputs that a case names as an output too
    work.mkdir()
    files = {**inputs.files, "low": inputs.low, "high": inputs.high, "sm3": inputs.sm3, "lst": inputs.lst,
             "static": inputs.static, "sim": str(inputs.sim), "model_location": location_model, **static_models}
    for key, src in (("ref_copy_high", inputs.high), ("lst_copy", inputs.lst), ("tb36_copy", inputs["tb36"]),
                     ("low_copy", inputs.low)):
        files[key] = str(work / os.path.basename(src))
        if f"{{{key}}}" in json.dumps(case.params):
            shutil.copy(src, files[key])
    if "{model_location}" in json.dumps(case.params) and "OUTPUT" in case.params:
        files["model_location"] = str(work / "loc.pt")  # the model named as output: a copy, so others keep theirs
        shutil.copy(location_model, files["model_location"])
    if case.id == "simulate-whole-globe" and not _simulate_checks_memory():
        pytest.skip("simulate does not estimate its memory yet (core.limits.check_simulate is not called): running "
                    "it would grow until the machine runs out of memory")
    params = {k: _fill(v, files, tmp_path) for k, v in case.params.items()}
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name in case.outputs:
        params.setdefault(name, str(out_dir / (name.lower() + (".pt" if name == "OUTPUT_MODEL" else
                                                               "" if name == "OUTPUT_FOLDER" else ".tif"))))
    watched = [inputs.sim, inputs.bad, work, Path(location_model).parent]
    before = _hashes(*watched)
    with pytest.raises(QgsProcessingException) as err:
        run_alg(case.alg, params, feedback=QgsProcessingFeedback())
    msg = str(err.value)
    names = [n.format(**files) if "{" in n else n for n in case.names]
    assert any(n.lower() in msg.lower() for n in names), f"message names none of {names}: {msg}"
    if case.match:
        import re

        assert re.search(case.match, msg, re.I | re.S), f"message does not say {case.match!r}: {msg}"
    assert "Traceback" not in msg
    after = _hashes(*watched)
    changed = [p for p in before if after.get(p) != before[p]]
    assert not changed, f"inputs changed: {changed}"
    assert not [p for p in after if p not in before], f"files appeared: {[p for p in after if p not in before]}"
    assert not os.listdir(out_dir), f"left in the output folder: {os.listdir(out_dir)}"
    assert not _temps(tmp_path, *watched), "hidden temporaries left"
    assert not (inputs.bad / "pwned").exists()


def test_the_suite_is_large_enough():
    assert len(CASES) >= 120
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.alg for c in CASES} == {"loadsmap", "loadmodis", "downscale", "soilmoisture", "difference", "train",
                                      "simulate"}


# ---------------------------------------------------------------- qgis_process
QP_CASES = [
    ("downscale", {"INPUT": "{tb36_minus50}", "OUTPUT": "{out:o.tif}"}, "tb36_minus50.tif"),
    ("downscale", {"INPUT": "{low}", "MODEL": "{model_pickle}", "OUTPUT": "{out:o.tif}"}, "os_system.pt"),
    ("soilmoisture", {"INPUT": "{low}", "LST": "{lst_71days}", "OUTPUT": "{out:o.tif}"}, "lst_71days.tif"),
    ("train", {"INPUT_LOW": "{sim}", "INPUT_HIGH": "{sim}", "START": "2015-04-06", "END": "2015-04-02",
               "OUTPUT_MODEL": "{out:m.pt}"}, "Last date"),
]


@pytest.mark.parametrize("alg,params,name", QP_CASES, ids=[f"{a}-{n}" for a, _, n in QP_CASES])
def test_bad_input_through_qgis_process(alg, params, name, inputs, qgis_process_run, tmp_path):
    files = {**inputs.files, "low": inputs.low, "lst": inputs.lst, "sim": str(inputs.sim)}
    args = {k: _fill(v, files, tmp_path) for k, v in params.items()}
    before = _hashes(inputs.sim, inputs.bad)
    rc, _, text = qgis_process_run(f"smapdown:{alg}", args)
    assert rc != 0
    assert name in text
    assert "Traceback" not in text
    after = _hashes(inputs.sim, inputs.bad)
    assert {p: after.get(p) for p in before} == before  # every input byte for byte
    # QGIS's GDAL in qgis_process writes a PAM side file (.aux.xml) beside a raster input it opened; the input
    # itself is untouched. Nothing else may appear. (Reported: set GDAL_PAM_ENABLED=NO around input checks.)
    new = [p for p in after if p not in before]
    assert all(p.endswith(".aux.xml") for p in new), new
    for p in new:
        os.remove(p)
    assert not [p for p in tmp_path.iterdir()], "outputs or temporaries left"
    assert not (inputs.bad / "pwned").exists()


def test_date_gap_within_tolerance_is_reported(inputs):
    """The core's date tolerance: 2 days apart passes with max_days_apart=2 and the gap is in the result."""
    from smapdown.core.inputs import read_tb36
    from smapdown.workflows.soil_moisture import SM_ANCILLARY, estimate_soil_moisture

    scene = read_tb36(inputs.low, ancillary=SM_ANCILLARY)
    res = estimate_soil_moisture(scene, inputs["lst_2days"], grid_name="M09", max_days_apart=2)
    assert res.metrics["dates"]["lst_gap_days"] == -2
    assert res.metrics["dates"]["input_date"] == "2015-04-06"
    dt.date.fromisoformat(res.metrics["dates"]["lst_date"])


def test_regrid_reference_only_when_asked_and_reported(inputs):
    from smapdown.core.inputs import read_tb36
    from smapdown.workflows.downscale import downscale

    scene = read_tb36(inputs.low)
    res = downscale(scene, reference=inputs["tb36"], regrid_reference=True)
    assert "replicated" in res.metrics["reference_resampling"]
    same = downscale(scene, reference=inputs.high)
    assert same.metrics["reference_resampling"] == "same grid"
    assert same.metrics["dates"]["reference_gap_days"] == 0


def test_partly_out_of_range_raster_is_masked_and_counted(inputs, tmp_path):
    from smapdown.core.inputs import read_tb36
    from smapdown.core.raster import read_ease_raster
    from smapdown.workflows.downscale import downscale

    rd = read_ease_raster(inputs["tb36"])
    a = [x.copy() for x in rd.arrays]
    ok = np.argwhere(np.isfinite(a[0]))
    r, c = ok[0]
    a[0][r, c] = -50.0
    path = _ease_tif(tmp_path / "one_bad.tif", rd.grid, a, ["tb_v", "tb_h"], ["K", "K"], {"date": "2015-04-06"})
    scene = read_tb36(path)
    assert scene.out_of_range() == {"tb_v": 1}
    assert np.isnan(scene.by_role("tb_v").data).sum() == np.isnan(rd.arrays[0]).sum() + 1
    res = downscale(scene)
    assert res.metrics["input_pixels_out_of_physical_range"] == {"tb_v": 1}


# ---------------------------------------------------------------- core checks, without QGIS
def test_physical_table_and_check_field():
    from smapdown.core.errors import InputError
    from smapdown.core.physical import check_field, quantity_of, range_of

    assert range_of("tb_v").text() == "50–350 K" and range_of("soil_moisture_36km").hi == 0.6
    assert range_of("lst").lo == 200 and range_of("static_clay").hi == 1 and range_of("sigma0_vv").units == "dB"
    assert quantity_of("tb_h_disaggregated_3km") == "tb" and quantity_of("water_body_fraction") == "fraction"
    assert quantity_of("tb_v_disaggregated_std") is None and quantity_of("band1") is None
    a = np.array([250.0, np.nan, 40.0, 360.0, 300.0], np.float32)
    out, chk = check_field(a, "tb_v", "x.tif")
    assert chk.out_of_range == 2 and chk.valid == 4 and np.isnan(out[[1, 2, 3]]).all() and a[2] == 40.0
    with pytest.raises(InputError, match=r"x\.tif: 75 % of its 4 valid tb_v values.*50–350 K"):
        check_field(np.array([10.0, 20.0, 30.0, 250.0]), "tb_v", "x.tif")
    same, chk = check_field(a, "unknown_band", "x.tif")
    assert same is a and chk.out_of_range == 0


def test_model_normalisation_plausibility():
    from smapdown.core.physical import plausible_normalisation as p

    assert p("tb_v", 250.0, 20.0) is None and p("tb_v", 0.0, 3.0) is None  # a residual's statistics
    assert p("soil_moisture", 0.25, 0.08) is None and p("static_urban", 0.01, 0.002) is None
    assert "far outside" in p("tb_v", 1e6, 20.0)
    assert "implausible" in p("tb_h", 250.0, 1e30)
    assert p("band_x", 1e6, 1.0) and p("tb_v", float("nan"), 1.0) and p("tb_v", 250.0, 0.0)


def test_memory_estimates_refuse_with_the_estimate():
    from smapdown.core import limits
    from smapdown.core.errors import InputError

    with pytest.raises(InputError, match=r"406 x 964 cells.*30 days.*about 2\d\d\.\d GB.*EXTENT"):
        limits.check_simulate(406, 964, 30, available=24 << 30)
    assert limits.check_simulate(4, 4, 30, available=24 << 30) < 50 << 20
    with pytest.raises(InputError, match=r"FEATURES=100000.*about \d+\.\d GB.*lower FEATURES"):
        limits.check_train(100000, 32, available=24 << 30)
    assert limits.check_train(64, 32, available=24 << 30) < 1 << 30


def test_dates_cross_check_names_both_files():
    from smapdown.core.errors import InputError
    from smapdown.core.inputs import check_date_range, check_dates

    d = dt.date(2019, 8, 22)
    out = check_dates({"input": ("tb.h5", d), "lst": ("lst.hdf", d), "reference": ("ref.tif", None)})
    assert out == {"input_date": "2019-08-22", "lst_date": "2019-08-22", "lst_gap_days": 0,
                   "reference_date": None, "reference_gap_days": None}
    with pytest.raises(InputError, match=r"lst\.hdf \(lst, 2019-11-01\) is 71 day\(s\) after tb\.h5 "
                                         r"\(input, 2019-08-22\)"):
        check_dates({"input": ("tb.h5", d), "lst": ("lst.hdf", dt.date(2019, 11, 1))})
    assert check_dates({"input": ("a", d), "lst": ("b", d + dt.timedelta(days=2))}, 2)["lst_gap_days"] == 2
    with pytest.raises(InputError, match=r"END \(2015-04-02\) is before START \(2015-04-06\)"):
        check_date_range(dt.date(2015, 4, 6), dt.date(2015, 4, 2))


def test_training_refuses_36km_targets_and_reports_start_end(inputs):
    from smapdown.core.errors import InputError
    from smapdown.workflows.training_data import tb_training_data

    lows = [str(inputs.sim / n) for n in sorted(os.listdir(inputs.sim)) if n.startswith("SMAP_L3_SM_P_")]
    with pytest.raises(InputError, match=r"SMAP_L3_SM_P_.*M36 grid.*INPUT_HIGH.*M09"):
        tb_training_data(lows, lows)
    highs = [str(inputs.sim / n) for n in sorted(os.listdir(inputs.sim)) if n.startswith("SMAP_L3_SM_AP_")]
    with pytest.raises(InputError, match=r"between START 2016-01-01 and END any"):
        tb_training_data(lows, highs, start=dt.date(2016, 1, 1))


def test_location_model_window_containment():
    from smapdown.core.errors import InputError
    from smapdown.core.grid import Grid
    from smapdown.core.provenance import model_origin
    from smapdown.model.io import Location

    class M:
        location = object()

    window = Location("M09", 100, 200, 16, 16)  # the card's location
    assert model_origin(M(), window, Grid("M09", 104, 204, 8, 8), "m.pt") == (4, 4)
    with pytest.raises(InputError, match=r"m\.pt.*M09 rows 100\.\.115, cols 200\.\.215.*partly outside"):
        model_origin(M(), window, Grid("M09", 96, 196, 40, 40), "m.pt")
    valid = np.zeros((40, 40), bool)
    valid[6:18, 6:18] = True  # only pixels inside the region are to be processed: accepted
    assert model_origin(M(), window, Grid("M09", 96, 196, 40, 40), "m.pt", valid) == (-4, -4)
    with pytest.raises(InputError, match="entirely outside"):
        model_origin(M(), window, Grid("M09", 500, 500, 8, 8), "m.pt")
    with pytest.raises(InputError, match=r"m\.pt: location-specific model without a valid 'location'"):
        model_origin(M(), None, Grid("M09", 104, 204, 8, 8), "m.pt")
