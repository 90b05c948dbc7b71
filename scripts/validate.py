"""smapdown's validations: the simulator against the world, and the models against bicubic where truth exists.

  validate.py wald       Wald's protocol on the REAL SMAP half-orbit: the real 36 km TB aggregated 4 x 4 to
                         144 km, brought back to 36 km by bicubic, by repetition and by CNNs trained in
                         simulation for the 144 -> 36 km step (TB only; TB + the file's own land-cover and
                         water fractions), scored against the real 36 km TB on land cells.
  validate.py realstats  statistics of the real half-orbit (semivariogram at 36/108/180 km lags by land cover,
                         V-H difference) next to the same statistics of simulated 36 km TB.
  validate.py bound      the default TB model applied 36 -> 9 km to the real half-orbit: pixels below the
                         emission of open water.
  validate.py all        everything above; writes build/validation/*.json and docs/validation_tables.md

Every CNN here is trained on SIMULATED scenes (core/simulate.py); only the Wald reference and the statistics
marked "real" come from the real file. ``--small`` runs a quick version (the test suite uses it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.makedirs(os.path.join(ROOT, "build", "pkg"), exist_ok=True)
if not os.path.exists(os.path.join(ROOT, "build", "pkg", "smapdown")):
    os.symlink(ROOT, os.path.join(ROOT, "build", "pkg", "smapdown"))
sys.path.insert(0, os.path.join(ROOT, "build", "pkg"))

from smapdown.core import landcover, pipeline, simulate  # noqa: E402
from smapdown.core.feedback import PrintFeedback  # noqa: E402
from smapdown.core.grid import Grid  # noqa: E402
from smapdown.core.report import json_safe  # noqa: E402

REAL_DIR = os.path.join(ROOT, "..", "shared", "data", "real", "smap")
OUT = os.path.join(ROOT, "build", "validation")
WALD_FACTOR = 4
WALD_MIN_VALID = 8  # of the 16 36-km cells of a 144 km block: fewer (swath edges) leave the block empty
LAND_MAX_WATER = 0.5  # "land" cells: static open-water fraction below this
START = dt.date(2015, 4, 1)


def real_file() -> str | None:
    """The real SPL2SMP_NRT half-orbit of the shared data folder, or None where it is absent."""
    hits = sorted(glob.glob(os.path.join(REAL_DIR, "SMAP_L2_SM_P_NRT_*.h5")))
    return hits[0] if hits else None


# --- arrays ----------------------------------------------------------------------------------------------
def block_mean(a: np.ndarray, f: int, min_valid: int = 1) -> np.ndarray:
    """(C, H, W) → (C, H/f, W/f): mean of the valid cells of each f x f block; NaN where fewer than
    ``min_valid`` are valid. H and W must be multiples of f."""
    c, h, w = a.shape
    b = a.reshape(c, h // f, f, w // f, f)
    ok = np.isfinite(b)
    n = ok.sum(axis=(2, 4))
    s = np.where(ok, b, 0.0).sum(axis=(2, 4), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= min_valid, s / np.maximum(n, 1), np.nan).astype(np.float32)


def aligned(a: np.ndarray, grid: Grid, f: int) -> tuple[np.ndarray, Grid]:
    """``a`` on ``grid`` brought onto the largest window inside it whose offset and size are multiples of
    ``f`` on the global grid (so that f x f blocks are the coarse grid's cells)."""
    r0 = -(-grid.row_off // f) * f
    c0 = -(-grid.col_off // f) * f
    rows = (grid.row_off + grid.rows - r0) // f * f
    cols = (grid.col_off + grid.cols - c0) // f * f
    win = Grid(grid.name, r0, c0, rows, cols)
    r, c = r0 - grid.row_off, c0 - grid.col_off
    return a[..., r:r + rows, c:c + cols], win


def apply_model(path: str, coarse: np.ndarray, static_fine: np.ndarray | None, factor: int = 4,
                bf16: bool = False) -> np.ndarray:
    """A TB model on a (2, h, w) coarse TB field at any scale: inputs prepared as its card says, static
    bands appended when it reads them, then physical bounds and block-mean preservation (as downscale)."""
    from smapdown.model.inference import predict_tiled, upsample
    from smapdown.model.io import load_model

    model, card = load_model(path)
    x = upsample(coarse, factor, card.get("input_upsampling", "bicubic"))
    extra = [i["name"] for i in card["inputs"]][2:]
    if extra:
        if static_fine is None:
            raise SystemExit(f"{path} reads {extra}: static inputs needed")
        x = np.concatenate([x, static_fine.astype(np.float32)])
    fine = predict_tiled(model, card, x.astype(np.float32), tile=256, bf16=bf16)
    out, _ = pipeline.physical_tb(fine, coarse, factor)
    return out


def mae_by_pol(pred: np.ndarray, ref: np.ndarray, keep: np.ndarray) -> list[float]:
    """MAE (K) per polarisation over ``keep`` pixels where both are finite."""
    out = []
    for b in range(2):
        ok = keep & np.isfinite(pred[b]) & np.isfinite(ref[b])
        out.append(float(np.mean(np.abs(pred[b][ok] - ref[b][ok]))) if ok.any() else float("nan"))
    return out


# --- the real half-orbit -----------------------------------------------------------------------------------
def real_wald_inputs(path: str) -> dict:
    """The real 36 km TB, its 144 km aggregate, the file's own static bands at 36 km, and the land mask."""
    scene = pipeline.read_tb36(path)
    tb = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data]).astype(np.float32)
    _, cover = landcover.read_product_cover(path, scene.grid)
    static = np.stack([cover[b] for b in landcover.COVER_BANDS])
    tb, win = aligned(tb, scene.grid, WALD_FACTOR)
    static, _ = aligned(static, scene.grid, WALD_FACTOR)
    coarse = block_mean(tb, WALD_FACTOR, WALD_MIN_VALID)
    land = np.isfinite(static[-1]) & (static[-1] < LAND_MAX_WATER)
    return {"tb36": tb, "tb144": coarse, "static36": static, "land": land, "grid": win}


def score_wald(inp: dict, predictions: dict[str, np.ndarray]) -> dict:
    """MAE per polarisation on real land cells (valid in the 144 km input and the reference), and each
    method's ratio to bicubic."""
    from smapdown.model.inference import upsample

    ref = inp["tb36"]
    bic = upsample(inp["tb144"], WALD_FACTOR, "bicubic")
    rep = upsample(inp["tb144"], WALD_FACTOR, "nearest")
    keep = inp["land"] & np.isfinite(bic).all(axis=0) & np.isfinite(ref).all(axis=0)
    for p in predictions.values():
        keep &= np.isfinite(p).all(axis=0)
    base = mae_by_pol(bic, ref, keep)
    rows = {"bicubic": bic, "36 km value repeated (144 km repeated)": rep, **predictions}
    out = {"cells": int(keep.sum()), "reference": "real SMAP 36 km TB (SPL2SMP_NRT tb_*_corrected), land cells "
           f"(static water fraction < {LAND_MAX_WATER})", "methods": {}}
    for name, pred in rows.items():
        m = mae_by_pol(pred, ref, keep)
        out["methods"][name] = {"mae_v": m[0], "mae_h": m[1], "ratio_v": m[0] / base[0], "ratio_h": m[1] / base[1]}
    return out


# --- simulated training for the 144 -> 36 km step -------------------------------------------------------------
def wald_sim_data(regions: list[tuple], days: int, size: int, with_static: bool):
    """TrainingData for the 144 -> 36 km step from simulated regions: input the 4 x 4 block mean of the
    simulated OBSERVED 36 km TB (footprint + NEDT, as the real file's TB), bicubically upsampled, plus (with
    ``with_static``) the region's static map with map errors averaged to 36 km; target the observed 36 km TB
    itself — the same pair Wald's protocol makes of the real file."""
    from smapdown.model.inference import upsample
    from smapdown.model.train import TrainingData

    xs, ys, dates, lands = [], [], [], []
    for spec in regions:
        name, lat, lon, climate, water, seed = spec
        grid = region_window(lat, lon, size)
        series = simulate.simulate_region(grid, START, days, seed, climate=climate, water=water)
        g3, maps = simulate.static_map(series)
        static36 = block_mean(np.stack(maps[2:]).astype(np.float32), 12)  # bare..urban, water on M36
        for d in series.days:
            tb = np.stack([d.tb36_v, d.tb36_h]).astype(np.float32)
            coarse = block_mean(tb, WALD_FACTOR, WALD_MIN_VALID)
            x = upsample(coarse, WALD_FACTOR, "bicubic")
            if with_static:
                x = np.concatenate([x, static36])
            xs.append(x)
            ys.append(tb)
            dates.append(d.date)
            lands.append(series.static["water_fraction36"] < LAND_MAX_WATER)
    names = ["tb_v", "tb_h"] + (list(landcover.COVER_BANDS) if with_static else [])
    data = TrainingData(np.stack(xs), np.stack(ys), dates, names, ["tb_v", "tb_h"],
                        ["K", "K"] + ["1"] * (len(names) - 2), ["K", "K"], "bicubic")
    return data, np.stack(lands)


def region_window(lat: float, lon: float, size: int) -> Grid:
    """The size x size M36 window centred on (lat, lon)."""
    from train_bundled import region_grid, world_spec

    return region_grid(world_spec(("", lat, lon, "", "", 0), size))


def train_wald(data, variant: str, regions: list[tuple], epochs: int, out: str, bf16: bool) -> dict:
    """Train a 144 -> 36 km model in simulation (the recipe of the truth-trained general models)."""
    from smapdown.model.io import save_model
    from smapdown.model.train import TrainConfig, split_by_date, train

    t = time.time()
    days = len(set(data.dates))
    tr, val = split_by_date(data, max(1, days // 5))
    cfg = TrainConfig(epochs=epochs, patches_per_epoch=256, batch_size=16, patch=data.inputs.shape[-1], seed=0,
                      bf16=bf16)
    res = train(tr, val, cfg, PrintFeedback(), card_extra={"training": {
        "case": f"tb-wald-144-36 ({variant})", "data": "simulated", "target": "simulated observed 36 km TB",
        "input": "4 x 4 block mean of the simulated observed 36 km TB (144 km), bicubic",
        "regions": [r[0] for r in regions], "note": "SIMULATED scenes only; made for Wald's protocol"}})
    save_model(out, res.model, res.card)
    return {"seconds": time.time() - t, "days": len(data.dates), "path": os.path.relpath(out, ROOT)}


def only_tb(data):
    """The same TrainingData without its static bands."""
    from smapdown.model.train import TrainingData

    return TrainingData(data.inputs[:, :2], data.targets, data.dates, data.input_names[:2], data.output_names,
                        data.input_units[:2], data.output_units, data.upsampling)


def run_wald(args) -> dict:
    path = real_file()
    if path is None:
        raise SystemExit("the real half-orbit is absent (../shared/data/real/smap)")
    from train_bundled import WORLD_TRAIN  # noqa: PLC0415 - same folder

    regions = WORLD_TRAIN[: args.regions]
    inp = real_wald_inputs(path)
    preds, trained, data = {}, {}, None
    for variant, with_static in (("tb", False), ("tb+static", True)):
        out = os.path.join(OUT, f"wald_{variant.replace('+', '_')}.pt")
        if not (args.reuse and os.path.exists(out)):
            if data is None:
                t = time.time()
                data, _ = wald_sim_data(regions, args.days, args.size, True)
                print(f"simulated {len(regions)} regions of {args.size}x{args.size} cells in {time.time() - t:.0f} s")
            trained[variant] = train_wald(data if with_static else only_tb(data), variant, regions, args.epochs,
                                          out, args.bf16)
        static = inp["static36"] if with_static else None
        preds[f"CNN, {variant} (trained in simulation)"] = apply_model(out, inp["tb144"], static, WALD_FACTOR)
    if args.bundled:
        preds["bundled model/tb_general.pt applied at 144 -> 36 km"] = apply_model(
            pipeline.DEFAULT_TB_MODEL, inp["tb144"], inp["static36"], WALD_FACTOR)
    res = score_wald(inp, preds)
    res["training"] = trained
    res["file"] = os.path.basename(path)
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["wald", "realstats", "bound", "all"])
    ap.add_argument("--regions", type=int, default=40, help="simulated training regions (Wald models)")
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--size", type=int, default=24, help="M36 cells per side of a simulated Wald region")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="reuse trained Wald models under build/validation")
    ap.add_argument("--bundled", action="store_true", help="also score the bundled default model")
    args = ap.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    if args.what in ("wald", "all"):
        res = run_wald(args)
        with open(os.path.join(OUT, "wald.json"), "w") as f:
            json.dump(json_safe(res), f, indent=1)
        for k, v in res["methods"].items():
            print(f"{k:60s} V {v['mae_v']:.2f} K ({v['ratio_v']:.3f})  H {v['mae_h']:.2f} K ({v['ratio_h']:.3f})")
        print(f"{res['cells']} real land cells")


if __name__ == "__main__":
    main()
