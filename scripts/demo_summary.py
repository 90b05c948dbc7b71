"""Summarise `make demo`: the poster-like PNG panel and the metrics tables (CNN vs bicubic), also written to
OUTPUT_FOLDER/demo_summary.json.

usage: demo_summary.py OUTPUT_FOLDER YYYYMMDD
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from smapdown.core.inputs import read_lst_on, read_reference, read_tb36
from smapdown.core.plots import poster_panel
from smapdown.core.raster import read_ease_raster
from smapdown.core.regrid import regrid


def label(model: str) -> str:
    return model + (" (this region)" if model == "location" else " (bundled)")


def panel(out: str, day: str, cnn, bic: list[np.ndarray]) -> str:
    """The poster-like PNG: per polarisation input, CNN, reference and errors; soil moisture below."""
    s = os.path.join(out, "scenes")
    scene = read_tb36(os.path.join(s, f"SMAP_L3_SM_P_{day}_SIM.h5"))
    ref, _ = read_reference(os.path.join(s, f"SMAP_L3_SM_AP_{day}_SIM.h5"), cnn.grid, ["tb_v", "tb_h"])
    tb36 = [regrid(scene.by_role(r).data, scene.grid, cnn.grid) for r in ("tb_v", "tb_h")]
    rows = []
    for i, pol in enumerate(("V", "H")):
        rows.append({"label": f"TB {pol}", "panels": [
            ("36 km input", tb36[i], "tb"), ("CNN 9 km (location-specific)", cnn.arrays[i], "tb"),
            ("reference 9 km (radar-guided)", ref[i], "tb"),
            ("low-res (bicubic) − reference", bic[i] - ref[i], "diff"),
            ("CNN − reference", cnn.arrays[i] - ref[i], "diff")]})
    sm = read_ease_raster(os.path.join(out, "sm3_cnn.tif"))
    smd = read_ease_raster(os.path.join(out, "diff_sm3_minus_ref.tif"))
    lst = read_lst_on(os.path.join(s, f"LST_{day}_SIM.tif"), sm.grid)
    rows.append({"label": "soil moisture", "panels": [
        ("LST (input)", lst, "lst"), ("CNN soil moisture 3 km", sm.arrays[0], "sm"),
        ("reference 3 km", sm.arrays[0] - smd.arrays[0], "sm"), ("CNN − reference", smd.arrays[0], "sm_diff")]})
    return poster_panel(os.path.join(out, "panel.png"),
                        f"smapdown on SIMULATED scenes, {day[:4]}-{day[4:6]}-{day[6:]} (after the radar period)",
                        rows)


def reference_rows(out: str) -> list[dict]:
    """Per model and band, the downscale reports' metrics against the radar-guided reference (K)."""
    rows = []
    for m in ("location", "general"):
        with open(os.path.join(out, f"downscale_{m}.report.json")) as f:
            rep = json.load(f)
        for band, per in rep["bands"].items():
            c, b, n = per["cnn"], per["bicubic"], per["nearest_36km"]
            rows.append({"model": m, "band": band, "mae_cnn": c["mae"], "mae_bicubic": b["mae"],
                         "ratio": c["mae"] / b["mae"], "rmse_cnn": c["rmse"], "r_cnn": c["r"],
                         "mae_36km_repeated": n["mae"]})
    return rows


def truth_rows(out: str, day: str, grid9, bic: list[np.ndarray]) -> list[dict]:
    """Per model and band, MAE against the simulation's true 9 km TB where CNN, bicubic and truth all have values."""
    truth = read_ease_raster(os.path.join(out, "scenes", "truth", f"TB9_TRUE_{day}_SIM.tif"))
    t = np.stack([regrid(a, truth.grid, grid9) for a in truth.arrays])
    rows = []
    for m in ("location", "general"):
        c = read_ease_raster(os.path.join(out, f"tb9_cnn_{m}.tif")).arrays
        for i, band in enumerate(("tb_v", "tb_h")):
            ok = np.isfinite(c[i]) & np.isfinite(bic[i]) & np.isfinite(t[i])
            mc, mb = float(np.abs(c[i] - t[i])[ok].mean()), float(np.abs(bic[i] - t[i])[ok].mean())
            rows.append({"model": m, "band": band, "mae_cnn": mc, "mae_bicubic": mb, "ratio": mc / mb,
                         "pixels": int(ok.sum())})
    return rows


def check_outputs(cnn, bic: list[np.ndarray]) -> int:
    """The CNN's valid pixels; exits with a sentence when it left pixels empty that the bicubic baseline has."""
    have = np.isfinite(np.stack(cnn.arrays)).all(axis=0)
    missing = int((np.isfinite(np.stack(bic)).all(axis=0) & ~have).sum())
    if not have.any() or missing:
        sys.exit(f"demo: the CNN output has {int(have.sum())} valid pixels and leaves {missing} empty where the "
                 "bicubic baseline has values")
    return int(have.sum())


def main(out: str, day: str) -> None:
    cnn = read_ease_raster(os.path.join(out, "tb9_cnn_location.tif"))
    bic = read_ease_raster(os.path.join(out, "tb9_bicubic.tif")).arrays
    valid = check_outputs(cnn, bic)
    png = panel(out, day, cnn, bic)
    ref = reference_rows(out)
    print(f"\nMetrics on simulated day {day} (reference: radar-guided 9 km TB of the simulation)")
    print(f"{'model':<26}{'band':<6}{'MAE CNN':>9}{'MAE bicubic':>13}{'ratio':>7}{'RMSE CNN':>10}{'R CNN':>7}"
          f"{'MAE 36 km repeated':>20}")
    for r in ref:
        print(f"{label(r['model']):<26}{r['band']:<6}{r['mae_cnn']:>9.2f}{r['mae_bicubic']:>13.2f}{r['ratio']:>7.2f}"
              f"{r['rmse_cnn']:>10.2f}{r['r_cnn']:>7.3f}{r['mae_36km_repeated']:>20.2f}")
    print("(the radar-guided TB is the 36 km TB plus a radar-shaped pattern, so the 36 km value repeated over its "
          "block is a baseline too)")
    truth = truth_rows(out, day, cnn.grid, bic)
    print("\nThe same day against the simulation's TRUE 9 km TB (what the bundled model was trained against)")
    print(f"{'model':<26}{'band':<6}{'MAE CNN':>9}{'MAE bicubic':>13}{'ratio':>7}")
    for r in truth:
        print(f"{label(r['model']):<26}{r['band']:<6}{r['mae_cnn']:>9.2f}{r['mae_bicubic']:>13.2f}{r['ratio']:>7.2f}")
    with open(os.path.join(out, "soilmoisture.report.json")) as f:
        rep = json.load(f)
    m = rep["bands"]["soil_moisture"]["cnn"]
    print(f"\nSoil moisture 3 km vs {rep['reference']}: ubRMSE {m['ubrmse']:.4f}, RMSE {m['rmse']:.4f}, "
          f"bias {m['bias']:+.4f} m3/m3, R {m['r']:.3f}")
    with open(os.path.join(out, "train_report.json")) as f:
        history = json.load(f)["history"]
    print(f"Location-specific training: {len(history)} epochs; last validation MAE "
          f"{history[-1].get('val_mae')} K vs bicubic {history[-1].get('val_mae_baseline')} K (held-out days)")
    summary = {"day": day, "panel": png, "cnn_valid_pixels": valid, "vs_reference": ref, "vs_truth": truth,
               "soil_moisture": {k: m[k] for k in ("ubrmse", "rmse", "bias", "r")}, "train_epochs": len(history)}
    with open(os.path.join(out, "demo_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"\nPanel: {png}")
    print(f"GeoTIFFs, reports (JSON + HTML), loss curve, demo_summary.json: {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
