"""smapdown's validations: the simulator against the world, and the models against bicubic where truth exists.

  validate.py wald       Wald's protocol on the REAL SMAP half-orbit: the real 36 km TB aggregated 4 x 4 to
                         144 km, brought back to 36 km by bicubic, by repetition and by CNNs trained in
                         simulation for the 144 -> 36 km step (TB only; TB + the file's own land-cover and
                         water fractions), scored against the real 36 km TB on land cells.
  validate.py stats      statistics of the real half-orbit (semivariogram at 36/108/180 km lags by land cover,
                         V-H difference) next to the same statistics of simulated 36 km TB.
  validate.py bound      the default TB model applied 36 -> 9 km to the real half-orbit: pixels below the
                         emission of open water.
  validate.py all        everything above; writes build/validation/*.json and docs/validation_tables.md

Every CNN here is trained on SIMULATED scenes (core/simulate/); only the Wald reference and the statistics
marked "real" come from the real file. ``--small`` runs a quick version (the test suite uses it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from smapdown.core import landcover, simulate  # noqa: E402
from smapdown.core.feedback import PrintFeedback  # noqa: E402
from smapdown.core.files import DEFAULT_TB_MODEL  # noqa: E402
from smapdown.core.grid import Grid  # noqa: E402
from smapdown.core.inputs import read_reference, read_static, read_tb36  # noqa: E402
from smapdown.core.regrid import regrid  # noqa: E402
from smapdown.core.report import json_safe  # noqa: E402
from smapdown.core.tb_bounds import TB_FLOOR, physical_tb  # noqa: E402
from smapdown.workflows.downscale import downscale  # noqa: E402

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
    """(C, H, W) → (C, H/f, W/f): mean of the valid cells of each f x f block (core.blocks' rule); NaN where
    fewer than ``min_valid`` are valid. H and W must be multiples of f."""
    from smapdown.core.blocks import block_mean_count

    m, n = block_mean_count(a, f)
    return np.where(n >= min_valid, m, np.nan).astype(np.float32)


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
    x = upsample(coarse, factor, card.upsampling)
    extra = card.extra_input_names
    if extra:
        if static_fine is None:
            raise SystemExit(f"{path} reads {extra}: static inputs needed")
        x = np.concatenate([x, static_fine.astype(np.float32)])
    fine = predict_tiled(model, card, x.astype(np.float32), tile=256, bf16=bf16)
    out, _ = physical_tb(fine, coarse, factor)
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
    scene = read_tb36(path)
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
    from smapdown.core.simulate.regions import region_grid, world_spec

    return region_grid(world_spec(("", lat, lon, "", "", 0), size))


def train_wald(data, variant: str, regions: list[tuple], epochs: int, out: str, bf16: bool,
               features: int = 32) -> dict:
    """Train a 144 -> 36 km model in simulation (the recipe of the truth-trained general models)."""
    from smapdown.model.io import save_model
    from smapdown.model.train import TrainConfig, split_by_date, train

    t = time.time()
    days = len(set(data.dates))
    tr, val = split_by_date(data, max(1, days // 5))
    cfg = TrainConfig(epochs=epochs, patches_per_epoch=256, batch_size=16, patch=data.inputs.shape[-1], seed=0,
                      bf16=bf16, features=features)
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
    from smapdown.core.simulate.regions import WORLD_TRAIN

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
                                          out, args.bf16, args.features)
        static = inp["static36"] if with_static else None
        preds[f"CNN, {variant} (trained in simulation)"] = apply_model(out, inp["tb144"], static, WALD_FACTOR)
    if args.bundled:
        preds["bundled model/tb_general.pt applied at 144 -> 36 km"] = apply_model(
            DEFAULT_TB_MODEL, inp["tb144"], inp["static36"], WALD_FACTOR)
    if args.model:  # a candidate 36 -> 9 km model, applied one scale up like the bundled one
        preds[f"{os.path.basename(args.model)} applied at 144 -> 36 km"] = apply_model(
            args.model, inp["tb144"], inp["static36"], WALD_FACTOR)
    res = score_wald(inp, preds)
    res["training"] = trained
    res["file"] = os.path.basename(path)
    return res


# --- statistics of the real file and of the simulator ------------------------------------------------------------
LAGS = (1, 3, 5)  # 36 km cells: 36, 108, 180 km
COVER_NAMES = ("bare", "grassland", "cropland", "forest", "urban")
STAT_MAX_WATER = 0.1  # cells for land statistics: open water below 10 %


def semivariogram(tb: np.ndarray, keep: np.ndarray, lag: int) -> float:
    """γ(lag) = ½ mean (z(x) − z(x + lag))² over row and column pairs whose first cell is in ``keep`` and whose
    both cells are valid land (K²)."""
    d = []
    for a, b, k in ((tb[:, :-lag], tb[:, lag:], keep[:, :-lag]), (tb[:-lag], tb[lag:], keep[:-lag])):
        ok = k & np.isfinite(a) & np.isfinite(b)
        d.append((a - b)[ok])
    x = np.concatenate(d)
    return float(0.5 * np.mean(x ** 2)) if x.size >= 30 else float("nan")


def side_by_side(arrays: list[np.ndarray]) -> np.ndarray:
    """Arrays (…, H, W) of equal H joined along columns with max(LAGS) NaN columns between them, so that no
    semivariogram pair crosses from one region (or day) into the next."""
    gap = max(LAGS)
    return np.concatenate([np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, 0), (0, gap)], constant_values=np.nan)
                           for a in arrays], axis=-1)


def field_stats(tb: np.ndarray, water: np.ndarray, cover: np.ndarray) -> dict:
    """Semivariogram at LAGS and V−H by dominant land cover over land cells (water < STAT_MAX_WATER)."""
    land = np.isfinite(water) & (water < STAT_MAX_WATER)
    dom = np.argmax(np.where(np.isfinite(cover), cover, -1), axis=0)
    out = {}
    for k, name in [(-1, "all land")] + list(enumerate(COVER_NAMES)):
        keep = land & ((dom == k) if k >= 0 else True)
        if keep.sum() < 20:
            continue
        row = {"cells": int(keep.sum())}
        for b, pol in enumerate("VH"):
            for lag in LAGS:
                row[f"gamma_{pol}_{36 * lag}km_K2"] = semivariogram(tb[b], keep & land, lag)
        vh = (tb[0] - tb[1])[keep & np.isfinite(tb).all(axis=0)]
        row["v_minus_h_mean_K"], row["v_minus_h_std_K"] = float(vh.mean()), float(vh.std())
        out[name] = row
    return out


def real_stats(path: str) -> dict:
    """Statistics of the real half-orbit's 36 km TB (tb_*_corrected, as smapdown reads it)."""
    scene = read_tb36(path)
    tb = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data]).astype(np.float64)
    _, cov = landcover.read_product_cover(path, scene.grid)
    cover = np.stack([cov[b] for b in landcover.COVER_BANDS[:5]])
    return field_stats(tb, cov["static_water"], cover)


def sim_stats(specs: list[tuple], days: int) -> dict:
    """The same statistics on simulated observed 36 km TB (the SPL3SMP-like files of tb-truth's regions),
    plus the sub-cell std of the true 9 km TB and the radar-guided 9 km TB against the truth."""
    from model_scores import same_day
    from train_bundled import region_files

    from smapdown.core.raster import read_ease_raster
    from smapdown.core.simulate.regions import region_grid
    from smapdown.model.inference import upsample

    tbs, waters, covers = [], [], []
    sub = {"land": [], "water": []}
    ap = {"tb_v": np.zeros(3), "tb_h": np.zeros(3)}  # sum |AP - truth|, sum |bicubic - truth|, n
    corr = {"tb_v": [], "tb_h": []}
    for spec in specs:
        files, var = region_files(*spec, days)
        for k in sub:
            sub[k].append([var[k]["tb_v"], var[k]["tb_h"]] if var[k]["cells"] else [np.nan, np.nan])
        region = region_grid(spec)
        st = read_static(files["static"][0], region)
        water = st["static_water"]
        cover = np.stack([st[b] for b in landcover.COVER_BANDS[:5]])
        grid9 = region.refine("M09")
        water9 = read_static(files["static"][0], grid9)["static_water"]
        for i in range(0, len(files["low"]), 2):
            scene = read_tb36(files["low"][i], region.bounds(), "EPSG:6933")
            tb = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data]).astype(np.float64)
            tbs.append(tb)
            waters.append(water)
            covers.append(cover)
            truth = read_ease_raster(same_day(files["truth"], scene.date))
            radar = read_reference(same_day(files["high"], scene.date), grid9, ["tb_v", "tb_h"])[0]
            bic = upsample(tb.astype(np.float32), 4, "bicubic")
            for b, band in enumerate(("tb_v", "tb_h")):
                t = regrid(truth.arrays[b], truth.grid, grid9)
                ok = np.isfinite(t) & np.isfinite(radar[b]) & np.isfinite(bic[b]) & (water9 < 0.5)
                ap[band] += [np.abs(radar[b] - t)[ok].sum(), np.abs(bic[b] - t)[ok].sum(), ok.sum()]
                rep = upsample(tb[b:b + 1].astype(np.float32), 4, "nearest")[0]
                if ok.sum() > 50:  # sub-cell pattern: departure from the 36 km value
                    corr[band].append(np.corrcoef((radar[b] - rep)[ok], (t - rep)[ok])[0, 1])
    out = field_stats(side_by_side(tbs), side_by_side(waters), side_by_side(covers))
    s = np.array(sub["land"], float)
    w = np.array(sub["water"], float)
    extra = {"subcell_std_true_tb9_land_K": [float(np.nanmean(s[:, 0])), float(np.nanmean(s[:, 1]))],
             "subcell_std_true_tb9_water_cells_K": [float(np.nanmean(w[:, 0])), float(np.nanmean(w[:, 1]))],
             "active_passive_vs_truth_mae_ratio_to_bicubic": [ap[b][0] / ap[b][1] for b in ("tb_v", "tb_h")],
             "active_passive_subcell_pattern_corr_with_truth": [float(np.nanmedian(corr[b])) for b in corr],
             "regions": len(specs)}
    return {"by_cover": out, **extra}


def run_stats(args) -> dict:
    from smapdown.core.simulate.regions import WORLD_TRAIN, world_spec

    res: dict = {}
    path = real_file()
    if path is not None:
        res["real"] = real_stats(path)
        res["real_file"] = os.path.basename(path)
    res["simulated"] = sim_stats([world_spec(e) for e in WORLD_TRAIN[: min(args.regions, 2 if args.small else 99)]],
                                 args.stat_days)
    res["simulator_constants"] = {"radar_kp_3km_vv": simulate.KP_3KM,
                                  "radar_noise_3km_vv_dB": 10 * np.log10(1 + simulate.KP_3KM),
                                  "nedt_36km_K": simulate.NEDT_K, "footprint_fwhm_km": simulate.FOOTPRINT_FWHM_KM}
    return res


def run_bound(args) -> dict:
    """The default (or ``--model``) TB model on the real half-orbit 36 -> 9 km, as `downscale` runs it: how many
    9 km pixels the CNN itself put below the open-water floor, how many the output has (must be 0), and how
    many 36 km input cells already lie below it (water-corrected TB over open water; raised to the floor)."""
    path = real_file()
    if path is None:
        raise SystemExit("the real half-orbit is absent (../shared/data/real/smap)")
    model = args.model or DEFAULT_TB_MODEL
    scene = read_tb36(path)
    t = time.time()
    res = downscale(scene, model, bf16=True)
    floor = TB_FLOOR
    out = {"model": os.path.relpath(os.path.realpath(model), ROOT), "file": os.path.basename(path),
           "seconds": time.time() - t, "floor_K": list(floor), "cnn_pixels_outside_bounds_before_clipping":
           res.metrics["mean_preservation"]["pixels_clipped_to_physical_bounds"]}
    for b, pol in enumerate("VH"):
        inp = scene.by_role(f"tb_{pol.lower()}").data
        out[f"input_36km_cells_below_floor_{pol}"] = int(np.sum(inp < floor[b]))
        out[f"output_9km_pixels_below_floor_{pol}"] = int(np.sum(res.cnn[b] < floor[b]))
        out[f"output_9km_pixels_below_100K_{pol}"] = int(np.sum(res.cnn[b] < 100.0))
        out[f"output_9km_valid_pixels_{pol}"] = int(np.isfinite(res.cnn[b]).sum())
    return out


def main(argv: list[str] | None = None) -> None:
    global OUT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["wald", "stats", "bound", "cover-oracle", "tables", "all"])
    ap.add_argument("--stat-days", type=int, default=20, help="stats: days of the tb-truth region files")
    ap.add_argument("--regions", type=int, default=40, help="simulated training regions (Wald models)")
    ap.add_argument("--days", type=int, default=6, help="wald: simulated days per region")
    ap.add_argument("--size", type=int, default=16, help="M36 cells per side of a simulated Wald region")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--features", type=int, default=32, help="wald: width of the 144 -> 36 km networks")
    ap.add_argument("--reuse", action="store_true", help="reuse trained Wald models under build/validation")
    ap.add_argument("--bundled", action="store_true", help="wald: also score the bundled default model")
    ap.add_argument("--model", help="bound: the TB model to check (default: the bundled default); "
                    "wald: also score it at 144 -> 36 km")
    ap.add_argument("--test-days", type=int, default=10, help="cover-oracle: days of the unseen regions' files")
    ap.add_argument("--out", default=OUT, help="folder of the JSON results and Wald models (build/validation)")
    ap.add_argument("--tables", default=os.path.join(ROOT, "docs", "validation_tables.md"),
                    help="where `tables` writes the markdown tables")
    ap.add_argument("--small", action="store_true",
                    help="a quick version (3 regions, 2 days, width 8, 1 epoch; stats on 2 regions; no bound): "
                         "checks that the command works, its numbers mean nothing")
    args = ap.parse_args(argv)
    if args.small:
        args.regions, args.days, args.size, args.epochs, args.features, args.stat_days = 3, 2, 12, 1, 8, 3
    OUT = args.out
    os.makedirs(OUT, exist_ok=True)
    if args.what in ("wald", "all"):
        res = run_wald(args)
        with open(os.path.join(OUT, "wald.json"), "w") as f:
            json.dump(json_safe(res), f, indent=1)
        for k, v in res["methods"].items():
            print(f"{k:60s} V {v['mae_v']:.2f} K ({v['ratio_v']:.3f})  H {v['mae_h']:.2f} K ({v['ratio_h']:.3f})")
        print(f"{res['cells']} real land cells")
    if args.what == "bound" or (args.what == "all" and not args.small):
        res = run_bound(args)
        with open(os.path.join(OUT, "bound.json"), "w") as f:
            json.dump(json_safe(res), f, indent=1)
        print(json.dumps(json_safe(res), indent=1))
    if args.what == "cover-oracle":
        from model_scores import run_cover_oracle

        res = run_cover_oracle(args)
        with open(os.path.join(OUT, "cover_oracle.json"), "w") as f:
            json.dump(json_safe(res), f, indent=1)
    if args.what in ("stats", "all"):
        res = run_stats(args)
        with open(os.path.join(OUT, "stats.json"), "w") as f:
            json.dump(json_safe(res), f, indent=1)
        print(json.dumps(json_safe(res), indent=1)[:4000])
    if args.what in ("tables", "all"):
        sim = os.path.join(ROOT, "build", "sim")
        from validation_tables import write_tables

        print("wrote", write_tables({"The bundled default `model/tb_general.pt` (TB only; its card's gate)":
                                     os.path.join(ROOT, "model", "tb_general.json"),
                                     "TB-only truth-trained from scratch (`train_bundled.py tb-truth`)":
                                     os.path.join(sim, "tb_truth_gate.json"),
                                     "TB + land-cover/water model (`train_bundled.py tb-truth --cover`)":
                                     os.path.join(sim, "tb_truth_cover_gate.json")}, args.tables, OUT))


if __name__ == "__main__":
    main()
