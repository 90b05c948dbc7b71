"""Golden outputs: the bundled models' results through the public entry points must not change by accident.

Written before the pipeline was split into workflows (issue 10) to prove that the move changed no number. It runs
the Processing algorithms (the entry points every user reaches: ``smapdown:downscale``, ``smapdown:soilmoisture``,
``smapdown:difference``) and the training-set builders on

(a) a small SIMULATED demo-like scene stored in tests/data/golden/ (8 x 8 cells of 36 km in Oklahoma, 2015-05-05,
    seed 7: the 36 km SPL3SMP file, the 9 km SPL3SMAP reference, the 3 km SPL2SMAP_S reference and the LST raster
    written by the simulator; stored rather than simulated here so that a change of the simulator is not taken
    for a change of the pipeline), and
(b) the real SMAP half-orbit in ../shared/data/real/ (skipped with a reason where ../shared is absent, as in CI),

and compares with the outputs recorded in tests/data/golden/expected*.{npz,json}.

Tolerances: TB and its spread 2e-3 K per pixel, soil moisture 1e-5 m3/m3 per pixel, report numbers 1e-4 (K,
m3/m3 or unitless), counts exactly. Float32 CNN outputs differ by ~1e-5 K between thread counts; a real change
(another block-mean rule, a moved clip, an upsampling off by one cell) moves pixels by 0.01-10 K.

The bundled models are fingerprinted (SHA-256) with the expected outputs: when one is retrained the test fails
saying so. Regenerate, then commit the new files saying why the outputs changed:

    SMAPDOWN_REGENERATE_GOLDEN=1 nice -n 19 .venv/bin/python -m pytest -q tests/test_golden.py

(with ../shared present, so that the real half-orbit's outputs are recorded too).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

gdal.UseExceptions()

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
ROOT = Path(__file__).resolve().parents[1]
DAY = "20150505"
LOW = GOLDEN / f"SMAP_L3_SM_P_{DAY}_SIM.h5"
HIGH = GOLDEN / f"SMAP_L3_SM_AP_{DAY}_SIM.h5"
SM3 = GOLDEN / f"SMAP_L2_SM_SP_{DAY}_SIM.h5"
LST = GOLDEN / f"LST_{DAY}_SIM.tif"
REGENERATE = os.environ.get("SMAPDOWN_REGENERATE_GOLDEN") == "1"
REGENERATE_CMD = "SMAPDOWN_REGENERATE_GOLDEN=1 nice -n 19 .venv/bin/python -m pytest -q tests/test_golden.py"

TB_ATOL = 2e-3  # K per pixel
SM_ATOL = 1e-5  # m3/m3 per pixel
NUMBER_ATOL = 1e-4  # report numbers (K, m3/m3, unitless)
CROP = 24  # 9 km pixels per side of each stored crop of the real half-orbit


def _read(path: str) -> np.ndarray:
    """All bands of a GeoTIFF as float32 with nodata as NaN."""
    ds = gdal.Open(str(path))
    out = []
    for i in range(ds.RasterCount):
        band = ds.GetRasterBand(i + 1)
        a = band.ReadAsArray().astype(np.float32)
        nd = band.GetNoDataValue()
        if nd is not None:
            a[a == nd] = np.nan
        out.append(a)
    return np.stack(out)


def _numbers(result: dict, keys: tuple[str, ...]) -> dict[str, float]:
    return {k: float(result[k]) for k in keys if k in result}


def model_fingerprints() -> dict[str, str]:
    """SHA-256 of each bundled model file: the expected outputs hold only for these weights."""
    out = {}
    for name in ("tb_general.pt", "sm_general.pt"):
        with open(ROOT / "model" / name, "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


# --- (a) the simulated scene ------------------------------------------------------------------------------
def simulated_outputs(run_alg, tmp: Path) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Every array and report number of the bundled models on the stored simulated scene."""
    arrays: dict[str, np.ndarray] = {}
    numbers: dict[str, float] = {}
    res = run_alg("downscale", {
        "INPUT": str(LOW), "REFERENCE": str(HIGH), "DEVICE": 1, "OUTPUT": str(tmp / "cnn.tif"),
        "OUTPUT_BASELINE": str(tmp / "bicubic.tif"), "OUTPUT_UNCERTAINTY": str(tmp / "spread.tif"),
        "OUTPUT_DIFF_CNN": str(tmp / "diff_cnn.tif"), "OUTPUT_DIFF_LOWRES": str(tmp / "diff_bicubic.tif"),
        "OUTPUT_REPORT": str(tmp / "downscale.json")})
    for key, name in (("OUTPUT", "tb_cnn"), ("OUTPUT_BASELINE", "tb_bicubic"), ("OUTPUT_UNCERTAINTY", "tb_spread"),
                      ("OUTPUT_DIFF_CNN", "tb_diff_cnn"), ("OUTPUT_DIFF_LOWRES", "tb_diff_bicubic")):
        arrays[name] = _read(res[key])
    numbers.update({f"downscale.{k}": v for k, v in _numbers(res, tuple(
        f"{s}_{m}_{b}" for s in ("MAE", "RMSE", "BIAS", "UBRMSE", "R") for m in ("CNN", "BICUBIC")
        for b in ("TB_V", "TB_H")) + ("MEAN_PRESERVATION_ERROR",)).items()})
    with open(res["OUTPUT_REPORT"]) as f:
        report = json.load(f)
    for k, v in report["mean_preservation"].items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            numbers[f"downscale.mean_preservation.{k}"] = float(v)
    for band, per in report["bands"].items():
        for method, m in per.items():
            if isinstance(m, dict):
                for stat in ("mae", "rmse", "bias", "r", "n"):
                    numbers[f"downscale.{band}.{method}.{stat}"] = float(m[stat])

    res = run_alg("soilmoisture", {
        "INPUT": str(LOW), "LST": str(LST), "REFERENCE": str(SM3), "GRID": 0, "DEVICE": 1,
        "OUTPUT": str(tmp / "sm.tif"), "OUTPUT_DIFF": str(tmp / "sm_diff.tif"),
        "OUTPUT_REPORT": str(tmp / "sm.json")})
    arrays["sm"] = _read(res["OUTPUT"])
    arrays["sm_diff"] = _read(res["OUTPUT_DIFF"])
    numbers.update({f"soilmoisture.{k}": v for k, v in _numbers(res, ("MAE", "RMSE", "BIAS", "UBRMSE", "R")).items()})
    with open(res["OUTPUT_REPORT"]) as f:
        report = json.load(f)
    for k in ("frozen_pixels_masked", "pixels_without_36km_retrieval"):
        numbers[f"soilmoisture.{k}"] = float(report[k])

    res = run_alg("difference", {"INPUT": str(tmp / "cnn.tif"), "REFERENCE": str(tmp / "bicubic.tif"),
                                 "OUTPUT": str(tmp / "cnn_minus_bicubic.tif")})
    arrays["difference"] = _read(res["OUTPUT"])
    numbers.update({f"difference.{k}": v for k, v in _numbers(res, ("MAE", "RMSE", "BIAS", "UBRMSE", "R")).items()})
    arrays.update(training_sets())
    return arrays, numbers


def training_sets() -> dict[str, np.ndarray]:
    """The training pairs the builders assemble from the stored scene (inputs and targets, float32)."""
    from smapdown.workflows.training_data import sm_training_data, tb_training_data

    out = {}
    for upsampling in ("bicubic", "nearest"):
        data, _, _ = tb_training_data([str(LOW)], [str(HIGH)], upsampling=upsampling)
        out[f"train_tb_{upsampling}_x"], out["train_tb_y"] = data.inputs, data.targets
    data, _, _ = sm_training_data([str(LOW)], [str(LST)], [str(SM3)], "M03")
    out["train_sm_x"], out["train_sm_y"] = data.inputs, data.targets
    return out


# --- (b) the real half-orbit ------------------------------------------------------------------------------
def real_outputs(run_alg, real: Path, tmp: Path, crops: dict | None) -> tuple[dict[str, np.ndarray], dict]:
    """Summaries and crops of the bundled models' outputs on the real half-orbit.

    The whole 9 km TB array (1624 x 3856 x 2) is summarised by its valid-pixel count, mean and std per band and
    by crops of CROP x CROP pixels at places chosen when the expected outputs were recorded (``crops``; None:
    choose them now: the coldest H pixel — open water at the floor —, the warmest V pixel and the middle of the
    swath). Soil moisture (case 2) runs on a 20 x 20-cell window mid-swath with a flat 300 K LST (no real LST of
    that day is here) and is stored whole."""
    from smapdown.core.grid import Grid
    from smapdown.core.raster import BandSpec, write_geotiff

    res = run_alg("downscale", {"INPUT": str(real), "TILE": 192, "DEVICE": 1, "OUTPUT": str(tmp / "real_tb.tif")})
    tb = _read(res["OUTPUT"])
    numbers: dict = {"real.MEAN_PRESERVATION_ERROR": float(res["MEAN_PRESERVATION_ERROR"])}
    for b, band in enumerate(("tb_v", "tb_h")):
        v = tb[b][np.isfinite(tb[b])].astype(np.float64)
        numbers.update({f"real.{band}.count": float(v.size), f"real.{band}.mean": float(v.mean()),
                        f"real.{band}.std": float(v.std()), f"real.{band}.min": float(v.min()),
                        f"real.{band}.max": float(v.max())})
    if crops is None:
        with np.errstate(invalid="ignore"):
            valid = np.argwhere(np.isfinite(tb[0]))
            crops = {"coldest_h": [int(i) for i in np.unravel_index(np.nanargmin(tb[1]), tb[1].shape)],
                     "warmest_v": [int(i) for i in np.unravel_index(np.nanargmax(tb[0]), tb[0].shape)],
                     "mid_swath": [int(i) for i in valid[len(valid) // 2]]}
        h, w = tb.shape[1:]
        crops = {k: [min(max(r - CROP // 2, 0), h - CROP), min(max(c - CROP // 2, 0), w - CROP)]
                 for k, (r, c) in crops.items()}
    arrays = {f"real_tb_{k}": tb[:, r:r + CROP, c:c + CROP] for k, (r, c) in crops.items()}

    scene_grid = Grid("M36", 0, 0, 406, 964)
    r0, c0 = crops["mid_swath"][0] // 4 - 10, crops["mid_swath"][1] // 4 - 10
    win = scene_grid.window(r0, c0, 20, 20)
    g3 = win.refine("M03")
    lst = write_geotiff(str(tmp / "real_lst.tif"), g3, [np.full(g3.shape, 300.0, np.float32)],
                        [BandSpec("lst", "K", "flat LST")], {})
    xmin, ymin, xmax, ymax = win.bounds()
    res = run_alg("soilmoisture", {"INPUT": str(real), "LST": lst, "GRID": 0, "DEVICE": 1,
                                   "EXTENT": f"{xmin},{xmax},{ymin},{ymax} [EPSG:6933]",
                                   "OUTPUT": str(tmp / "real_sm.tif")})
    arrays["real_sm"] = _read(res["OUTPUT"])
    return arrays, {"numbers": numbers, "crops": crops}


# --- comparing ----------------------------------------------------------------------------------------------
SM_ARRAYS = ("sm", "sm_diff", "real_sm", "train_sm_y")  # m3/m3; every other array is in K


def _tolerance(name: str) -> float:
    return SM_ATOL if name in SM_ARRAYS else TB_ATOL


def _compare(arrays: dict[str, np.ndarray], numbers: dict[str, float], expected_npz: Path,
             expected_json: Path) -> None:
    with open(expected_json) as f:
        meta = json.load(f)
    if meta["models"] != model_fingerprints():
        pytest.fail(f"the bundled models changed since the golden outputs were recorded ({meta['models']}); if "
                    f"the change is intended, regenerate them: {REGENERATE_CMD}, and commit saying why")
    expected = np.load(expected_npz)
    assert sorted(expected.files) == sorted(arrays), "the set of golden arrays changed"
    for name in expected.files:
        want, got = expected[name], arrays[name]
        assert got.shape == want.shape, f"{name}: shape {got.shape}, expected {want.shape}"
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{name}: no-data pixels moved")
        np.testing.assert_allclose(got, want, rtol=0, atol=_tolerance(name), equal_nan=True,
                                   err_msg=f"{name}: outputs changed")
    assert sorted(numbers) == sorted(meta["numbers"]), "the set of golden numbers changed"
    for k, want in meta["numbers"].items():
        atol = 0.0 if k.endswith((".n", ".count")) or "pixels" in k else NUMBER_ATOL
        assert numbers[k] == pytest.approx(want, abs=atol, nan_ok=True), f"{k}: {numbers[k]} != {want}"


def _record(arrays: dict[str, np.ndarray], meta: dict, expected_npz: Path, expected_json: Path) -> None:
    np.savez_compressed(expected_npz, **{k: np.asarray(v, np.float32) for k, v in arrays.items()})
    with open(expected_json, "w") as f:
        json.dump({"models": model_fingerprints(), **meta}, f, indent=1, sort_keys=True)
        f.write("\n")


def test_simulated_scene_outputs_unchanged(run_alg, tmp_path):
    arrays, numbers = simulated_outputs(run_alg, tmp_path)
    npz, meta = GOLDEN / "expected_sim.npz", GOLDEN / "expected_sim.json"
    if REGENERATE:
        _record(arrays, {"numbers": numbers}, npz, meta)
    _compare(arrays, numbers, npz, meta)


def test_real_half_orbit_outputs_unchanged(run_alg, real_smap_l2, tmp_path):
    npz, meta_path = GOLDEN / "expected_real.npz", GOLDEN / "expected_real.json"
    crops = None
    if not REGENERATE:
        with open(meta_path) as f:
            crops = json.load(f)["crops"]
    arrays, meta = real_outputs(run_alg, real_smap_l2, tmp_path, crops)
    if REGENERATE:
        _record(arrays, meta, npz, meta_path)
    _compare(arrays, meta["numbers"], npz, meta_path)
