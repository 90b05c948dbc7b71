"""Summarise `make demo`: the poster-like PNG panel and the metrics table (CNN vs bicubic).

usage: demo_summary.py OUTPUT_FOLDER YYYYMMDD
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from smapdown.core import pipeline
from smapdown.core.plots import poster_panel
from smapdown.core.raster import read_ease_raster


def main(out: str, day: str) -> None:
    s = os.path.join(out, "scenes")
    low = os.path.join(s, f"SMAP_L3_SM_P_{day}_SIM.h5")
    high = os.path.join(s, f"SMAP_L3_SM_AP_{day}_SIM.h5")
    scene = pipeline.read_tb36(low)
    cnn = read_ease_raster(os.path.join(out, "tb9_cnn_location.tif"))
    grid9 = cnn.grid
    ref, _ = pipeline.read_reference(high, grid9, ["tb_v", "tb_h"])
    tb36 = [pipeline.regrid(scene.by_role(r).data, scene.grid, grid9) for r in ("tb_v", "tb_h")]
    bic = read_ease_raster(os.path.join(out, "tb9_bicubic.tif")).arrays
    rows = []
    for i, pol in enumerate(("V", "H")):
        rows.append({"label": f"TB {pol}", "panels": [
            ("36 km input", tb36[i], "tb"), ("CNN 9 km (location-specific)", cnn.arrays[i], "tb"),
            ("reference 9 km (radar-guided)", ref[i], "tb"),
            ("low-res (bicubic) − reference", bic[i] - ref[i], "diff"),
            ("CNN − reference", cnn.arrays[i] - ref[i], "diff")]})
    sm = read_ease_raster(os.path.join(out, "sm3_cnn.tif"))
    smd = read_ease_raster(os.path.join(out, "diff_sm3_minus_ref.tif"))
    lst = pipeline.read_lst_on(os.path.join(s, f"LST_{day}_SIM.tif"), sm.grid)
    rows.append({"label": "soil moisture", "panels": [
        ("LST (input)", lst, "lst"), ("CNN soil moisture 3 km", sm.arrays[0], "sm"),
        ("reference 3 km", sm.arrays[0] - smd.arrays[0], "sm"), ("CNN − reference", smd.arrays[0], "sm_diff")]})
    png = poster_panel(os.path.join(out, "panel.png"),
                       f"smapdown on SIMULATED scenes, {day[:4]}-{day[4:6]}-{day[6:]} (after the radar period)",
                       rows)
    print(f"\nMetrics on simulated day {day} (reference: radar-guided 9 km TB of the simulation)")
    print(f"{'model':<26}{'band':<6}{'MAE CNN':>9}{'MAE bicubic':>13}{'ratio':>7}{'RMSE CNN':>10}{'R CNN':>7}"
          f"{'MAE 36 km repeated':>20}")
    for m in ("location", "general"):
        rep = json.load(open(os.path.join(out, f"downscale_{m}.report.json")))
        for band, per in rep["bands"].items():
            c, b, n = per["cnn"], per["bicubic"], per["nearest_36km"]
            print(f"{m + (' (this region)' if m == 'location' else ' (bundled)'):<26}{band:<6}{c['mae']:>9.2f}"
                  f"{b['mae']:>13.2f}{c['mae'] / b['mae']:>7.2f}{c['rmse']:>10.2f}{c['r']:>7.3f}{n['mae']:>20.2f}")
    print("(the radar-guided TB is the 36 km TB plus a radar-shaped pattern, so the 36 km value repeated over its "
          "block is a baseline too)")
    truth = read_ease_raster(os.path.join(s, "truth", f"TB9_TRUE_{day}_SIM.tif"))
    t = np.stack([pipeline.regrid(a, truth.grid, grid9) for a in truth.arrays])
    print("\nThe same day against the simulation's TRUE 9 km TB (what the bundled model was trained against)")
    print(f"{'model':<26}{'band':<6}{'MAE CNN':>9}{'MAE bicubic':>13}{'ratio':>7}")
    for m in ("location", "general"):
        c = read_ease_raster(os.path.join(out, f"tb9_cnn_{m}.tif")).arrays
        for i, band in enumerate(("tb_v", "tb_h")):
            ok = np.isfinite(c[i]) & np.isfinite(bic[i]) & np.isfinite(t[i])
            mc, mb = np.abs(c[i] - t[i])[ok].mean(), np.abs(bic[i] - t[i])[ok].mean()
            print(f"{m + (' (this region)' if m == 'location' else ' (bundled)'):<26}{band:<6}{mc:>9.2f}{mb:>13.2f}"
                  f"{mc / mb:>7.2f}")
    rep = json.load(open(os.path.join(out, "soilmoisture.report.json")))
    m = rep["bands"]["soil_moisture"]["cnn"]
    print(f"\nSoil moisture 3 km vs {rep['reference']}: ubRMSE {m['ubrmse']:.4f}, RMSE {m['rmse']:.4f}, "
          f"bias {m['bias']:+.4f} m3/m3, R {m['r']:.3f}")
    tr = json.load(open(os.path.join(out, "train_report.json")))
    last = tr["history"][-1]
    print(f"Location-specific training: {len(tr['history'])} epochs; last validation MAE "
          f"{last.get('val_mae')} K vs bicubic {last.get('val_mae_baseline')} K (held-out days)")
    print(f"\nPanel: {png}")
    print(f"GeoTIFFs, reports (JSON + HTML), loss curve: {out}")
    assert np.isfinite(cnn.arrays[0]).any()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
