"""scripts/ and bench/ run for real, on toy sizes: the benchmarks' tables and JSON, the style and modeler-model
generators against the committed files, and the demo summary on a small simulated run.

(scripts/package.py is exercised by tests/test_package.py; scripts/train_bundled.py and validate.py by the lead's
tests/test_validation.py.)
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], tmp_path: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "profile"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    p = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p


def _finite_positive(*values: float) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in values)


# ------------------------------------------------------------------------------------------------ bench
def test_bench_run_tiny_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    p = _run([str(ROOT / "bench" / "run.py"), "--tiny", "--json", str(out)], tmp_path)
    r = json.loads(out.read_text())
    assert r["tiny"] and r["quick"]
    assert _finite_positive(r["ceiling_gflop_s"]["fp32"], r["ceiling_gflop_s"]["bf16"], r["seconds"])
    assert [x["precision"] for x in r["inference"]] == ["fp32", "bf16"]
    for x in r["inference"]:
        assert x["out_pixels"] == 48 * 48 and x["executed_pixels"] >= x["out_pixels"]
        assert _finite_positive(x["seconds"], x["mpx_s"], x["gflop_s"])
        assert math.isclose(x["mpx_s"], x["out_pixels"] / x["seconds"] / 1e6, rel_tol=1e-9)
    assert [x["precision"] for x in r["training"]] == ["fp32", "bf16"]
    for x in r["training"]:
        assert _finite_positive(x["seconds"], x["step_seconds"], x["patches_s"], x["gflop_s"])
        assert math.isclose(x["step_seconds"], x["seconds"] / (8 / 4))  # 8 patches per epoch, batches of 4
    (g,) = r["global_day"]
    assert g["grid_m09"] == [32, 32] and 0 < g["valid_pixels_m09"] <= 32 * 32
    assert 1 <= g["tiles_computed"] <= g["tiles_total"]
    assert _finite_positive(g["seconds_downscale"], g["seconds_cnn"], g["cnn_gflop_s"], g["rss_peak_mb"])
    assert g["rss_peak_mb"] >= g["rss_baseline_mb"] > 0
    assert _finite_positive(r["bf16_speedup"]["inference"], r["bf16_speedup"]["training"])
    for row in ("fp32 GEMM 256^2", "predict_tiled fp32", "predict_tiled bf16", "downscale fp32", "train() fp32",
                "train() bf16", "fraction of ceiling"):
        assert row in p.stdout, row


def test_bench_scale_tiny_areas_precision_and_tries(tmp_path):
    out = tmp_path / "scale.json"
    p = _run([str(ROOT / "bench" / "scale.py"), "--tiny", "--json", str(out)], tmp_path)
    r = json.loads(out.read_text())
    assert r["tiny"] and r["compare_area"] == "300 km"
    area = {a["area"]: a for a in r["area"]}
    assert set(area) == {"100 km", "300 km"}
    assert area["100 km"]["grid"] == [12, 12] and area["300 km"]["grid"] == [32, 32]
    for a in area.values():
        assert 0 < a["valid_px"] <= a["grid"][0] * a["grid"][1] and "cnn" not in a
        assert _finite_positive(a["seconds"], a["ideal_seconds"], a["time_over_ideal"])
        assert math.isclose(a["time_over_ideal"], a["seconds"] / a["ideal_seconds"])
    # bf16 against fp32 with the bundled net, after mean preservation: hundredths of a kelvin, not nothing either
    assert 0 < r["bf16_vs_fp32_rms_K_continent"] <= r["bf16_vs_fp32_max_abs_K_continent"] < 0.5
    assert len(r["tries"]) == 8
    for t in r["tries"]:
        assert _finite_positive(t["seconds"], t["gflop_s_executed"], t["fraction_of_bf16_ceiling"])
        assert t["executed_px"] >= t["valid_px"] > 0 or t["try"].startswith("one ")
    assert "| 300 km (32 x 32 px) |" in p.stdout and "bf16 vs fp32 (300 km" in p.stdout


# ------------------------------------------------------------------------------------- resource makers
def test_make_styles_reproduces_the_committed_styles(tmp_path):
    out = tmp_path / "styles"
    _run([str(ROOT / "scripts" / "make_styles.py"), "--out", str(out)], tmp_path)
    committed = sorted(p.name for p in (ROOT / "resources" / "styles").glob("*.qml"))
    assert sorted(p.name for p in out.glob("*.qml")) == committed and len(committed) == 7
    for name in committed:  # Qt writes attributes in a random order: compare canonical XML
        made = ET.canonicalize(from_file=str(out / name), strip_text=True)
        assert made == ET.canonicalize(from_file=str(ROOT / "resources" / "styles" / name), strip_text=True), name


def _options(path: Path) -> dict[str, tuple[str, str]]:
    """A .model3 file's nested Option elements as {path of names: (type, value)}."""
    flat: dict[str, tuple[str, str]] = {}

    def walk(el: ET.Element, prefix: str) -> None:
        for i, child in enumerate(el.findall("Option")):
            key = f"{prefix}/{child.get('name', i)}"
            if len(child):
                walk(child, key)
            else:
                flat[key] = (child.get("type", ""), child.get("value", ""))

    walk(ET.parse(path).getroot(), "")
    return flat


def test_make_modeler_model_reproduces_the_committed_model(tmp_path):
    out = tmp_path / "chain.model3"
    p = _run([str(ROOT / "scripts" / "make_modeler_model.py"), "--out", str(out)], tmp_path)
    assert f"wrote {out}" in p.stdout
    made = _options(out)
    committed = _options(ROOT / "resources" / "models" / "smap_downscale_chain.model3")
    children = {k.split("/")[2] for k in made if k.startswith("/children/")}
    assert children == {"load36", "downscale", "load9", "difference"}
    assert {k.split("/")[2] for k in committed if k.startswith("/children/")} == children
    # everything the committed file says, the script says the same; it may add the defaults of options that
    # algorithms gained since (saved models without them still validate: tests/test_modeler.py)
    differ = {k: (v, made.get(k)) for k, v in committed.items() if made.get(k) != v}
    assert not differ, differ
    added = {k for k in made if k not in committed}
    assert all("/params/" in k for k in added), sorted(added)[:10]


# ------------------------------------------------------------------------------------------ demo summary
DAY = "20150407"


def test_demo_summary_on_a_small_simulated_run(sim, run_alg, tmp_path):
    """The demo's five steps on the 4 x 4-cell simulated region (a 2-epoch location model, the bundled ones),
    then scripts/demo_summary.py: its table, JSON and panel."""
    from smapdown.core.raster import read_ease_raster

    folder, _ = sim
    out = tmp_path / "demo"
    out.mkdir()
    (out / "scenes").symlink_to(folder, target_is_directory=True)
    low, high = str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"), str(folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5")
    run_alg("train", {"INPUT_LOW": [str(folder)], "INPUT_HIGH": [str(folder)], "CASE": 0, "END": "2015-04-06",
                      "VALIDATION_DAYS": 1, "EPOCHS": 2, "FEATURES": 4, "PATCHES_PER_EPOCH": 16, "PATCH": 16,
                      "SEED": 0, "OUTPUT_MODEL": str(out / "location_model.pt"),
                      "OUTPUT_REPORT": str(out / "train_report.json")})
    for m in ("location", "general"):
        model = {"MODEL": str(out / "location_model.pt")} if m == "location" else {}
        run_alg("downscale", {"INPUT": low, **model, "REFERENCE": high, "OUTPUT": str(out / f"tb9_cnn_{m}.tif"),
                              "OUTPUT_BASELINE": str(out / "tb9_bicubic.tif"),
                              "OUTPUT_REPORT": str(out / f"downscale_{m}.report.json")})
    run_alg("soilmoisture", {"INPUT": low, "LST": str(folder / f"LST_{DAY}_SIM.tif"),
                             "REFERENCE": str(folder / f"SMAP_L2_SM_SP_{DAY}_SIM.h5"),
                             "OUTPUT": str(out / "sm3_cnn.tif"), "OUTPUT_DIFF": str(out / "diff_sm3_minus_ref.tif"),
                             "OUTPUT_REPORT": str(out / "soilmoisture.report.json")})
    p = _run([str(ROOT / "scripts" / "demo_summary.py"), str(out), DAY], tmp_path)
    s = json.loads((out / "demo_summary.json").read_text())
    cnn = read_ease_raster(str(out / "tb9_cnn_location.tif"))
    assert s["cnn_valid_pixels"] == int(np.isfinite(np.stack(cnn.arrays)).all(axis=0).sum()) > 0
    assert [(r["model"], r["band"]) for r in s["vs_reference"]] == [
        ("location", "tb_v"), ("location", "tb_h"), ("general", "tb_v"), ("general", "tb_h")]
    report = json.loads((out / "downscale_general.report.json").read_text())
    for r in s["vs_reference"]:
        assert _finite_positive(r["mae_cnn"], r["mae_bicubic"], r["rmse_cnn"], r["mae_36km_repeated"])
        assert math.isclose(r["ratio"], r["mae_cnn"] / r["mae_bicubic"]) and r["rmse_cnn"] >= r["mae_cnn"]
        if r["model"] == "general":
            assert r["mae_cnn"] == report["bands"][r["band"]]["cnn"]["mae"]
    assert [(r["model"], r["band"]) for r in s["vs_truth"]] == [(r["model"], r["band"]) for r in s["vs_reference"]]
    for r in s["vs_truth"]:
        assert 0 < r["pixels"] <= s["cnn_valid_pixels"]
        assert _finite_positive(r["mae_cnn"], r["mae_bicubic"])
        assert math.isclose(r["ratio"], r["mae_cnn"] / r["mae_bicubic"])
        assert r["mae_cnn"] < 30 and r["mae_bicubic"] < 30  # kelvin: the same scene, not another one
    sm = s["soil_moisture"]
    assert 0 < sm["ubrmse"] <= sm["rmse"] < 0.3 and abs(sm["bias"]) < 0.3 and -1 <= sm["r"] <= 1
    assert s["train_epochs"] == 2
    png = Path(s["panel"])
    assert png == out / "panel.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert f"Metrics on simulated day {DAY}" in p.stdout and "location (this region)" in p.stdout


def test_demo_summary_refuses_a_cnn_output_with_holes(tmp_path):
    """check_outputs: a CNN layer empty where the bicubic baseline has values stops the summary with a sentence."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_summary", ROOT / "scripts" / "demo_summary.py")
    demo_summary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo_summary)

    class R:
        arrays = [np.full((4, 4), 250.0), np.full((4, 4), 190.0)]

    bic = [a.copy() for a in R.arrays]
    assert demo_summary.check_outputs(R, bic) == 16
    R.arrays[1][2, 2] = np.nan
    with pytest.raises(SystemExit, match="leaves 1 empty"):
        demo_summary.check_outputs(R, bic)
