"""Train and evaluate smapdown's models on SIMULATED scenes; reproduces the bundled models.

  train_bundled.py tb-truth  general TB model trained against the simulated TRUE 9 km TB on WORLD_TRAIN (44
                             regions), gated on WORLD_TEST (6 unseen) -> build/sim/tb_truth.pt; the bundled
                             model/tb_general.pt is: tb-truth --days 20 --val-days 4 --epochs 24 --bf16
                             (--cover adds the land-cover and open-water fractions as inputs)
  train_bundled.py tb        the previous general TB model (-> build/sim/tb_radar.pt), trained against the
                             radar-guided 9 km TB (5 or 20 North-American regions); kept for comparison
  train_bundled.py sm        general soil-moisture model -> model/sm_general.pt (+ .json card); the bundled
                             one: sm --more-regions --epochs 20 --bf16
  train_bundled.py location  the poster's location-specific experiment (no file bundled; prints and
                             writes build/location_experiment.json)
  train_bundled.py calibrate TTA uncertainty vs the true error on the held-out regions -> tb_general card
  train_bundled.py oracle    what static knowledge alone reaches in the location experiment (a bound for it)

Under `torchrun --nproc_per_node N` every process trains its share and rank 0 alone saves and scores.
Every scene goes through the product files (SPL3SMP-/SPL3SMAP-/SPL2SMAP_S-like HDF5, LST GeoTIFF) and the
same readers and pipeline as users' files. Evaluation is on regions and days never used in training, against
the radar-guided 9 km TB (the poster's target) and against the simulation's true 9 km TB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from model_scores import (  # noqa: E402
    _ratios,
    calibration,
    evaluate_sm,
    evaluate_tb,
    fmt,
    truth_scores,
)

from smapdown.core import simulate  # noqa: E402
from smapdown.core.feedback import PrintFeedback  # noqa: E402
from smapdown.core.inputs import read_tb36  # noqa: E402
from smapdown.core.metrics import compare  # noqa: E402
from smapdown.core.report import json_safe  # noqa: E402
from smapdown.core.simulate.regions import WORLD_TEST, WORLD_TRAIN, region_grid, world_spec  # noqa: E402
from smapdown.model.io import Location, ModelCard, load_model, save_model, write_card_json  # noqa: E402
from smapdown.model.train import TrainConfig, TrainingData, is_main_process, split_by_date, train  # noqa: E402
from smapdown.workflows.training_data import sm_training_data, tb_training_data  # noqa: E402

DATA = os.path.join(ROOT, "build", "sim")
START = dt.date(2015, 4, 1)
# (name, M36 window centre row/col, size, climate, water, seed): training regions span climates and covers
TRAIN_REGIONS = [(n, simulate.CLIMATE_REGIONS[n].grid.row_off + 2, simulate.CLIMATE_REGIONS[n].grid.col_off + 2, 8,
                  simulate.CLIMATE_REGIONS[n].climate, simulate.CLIMATE_REGIONS[n].water, seed)
                 for n, seed in (("oklahoma", 11), ("iowa", 12), ("georgia", 13), ("arizona", 14), ("chesapeake", 15))]
EXTRA_REGIONS = [  # more places for a general model (--more-regions), none near the test regions
    ("nebraska", 70, 215, 8, "continental", "lakes", 16),
    ("west-texas", 90, 205, 8, "arid", "none", 17),
    ("alabama", 92, 250, 8, "humid", "lakes", 18),
    ("kansas", 78, 212, 8, "temperate", "lakes", 19),
    ("minnesota", 58, 230, 8, "continental", "lakes", 20),
    ("north-dakota", 54, 214, 8, "continental", "lakes", 31),
    ("missouri", 78, 230, 8, "temperate", "lakes", 32),
    ("ohio", 70, 246, 8, "temperate", "lakes", 33),
    ("mississippi", 92, 240, 8, "humid", "lakes", 34),
    ("new-mexico", 90, 195, 8, "arid", "none", 35),
    ("florida", 104, 258, 8, "humid", "coast", 36),
    ("texas-coast", 100, 226, 8, "humid", "coast", 37),
    ("colorado-plains", 78, 203, 8, "arid", "none", 38),
    ("wisconsin", 60, 238, 8, "continental", "lakes", 39),
    ("maryland-coast", 76, 272, 8, "temperate", "coast", 40),
]
TEST_REGIONS = [  # never used in training: other places, climates mixed, other seeds
    ("kenaston", 44, 197, 8, "continental", "lakes", 21),
    ("carolina-coast", 90, 272, 8, "humid", "coast", 22),
]


def region_files(name: str, row: int, col: int, size: int, climate: str, water: str, seed: int,
                 days: int) -> tuple[dict, dict]:
    """Simulate (or reuse) a region's files; returns (files, sub-cell variability)."""
    code = simulate.source_digest()  # a changed simulator never reuses stale scenes
    folder = os.path.join(DATA, f"{name}-{seed}-{days}-{code}")
    meta = os.path.join(folder, "files.json")
    if os.path.exists(meta):
        with open(meta) as f:
            saved = json.load(f)
        return saved["files"], saved["variability"]
    grid = region_grid((name, row, col, size))
    t = time.time()
    series = simulate.simulate_region(grid, START, days, seed, climate=climate, water=water)
    files = simulate.write_series(series, folder)
    var = simulate.subcell_variability(series)
    with open(meta, "w") as f:
        json.dump({"files": files, "variability": var}, f)
    print(f"simulated {name} ({climate}, {water}) {size}x{size} cells, {days} days in {time.time() - t:.0f} s")
    return files, var


def checkpoint_for(model_path: str) -> str:
    """The resume file of a training run, under build/sim (never beside a bundled model)."""
    return os.path.join(DATA, os.path.basename(model_path) + ".ckpt")


def train_regions(args) -> list[tuple]:
    """The training regions of a general model: TRAIN_REGIONS, plus EXTRA_REGIONS with --more-regions."""
    return TRAIN_REGIONS + (EXTRA_REGIONS if getattr(args, "more_regions", False) else [])


def concat(parts: list[TrainingData]) -> TrainingData:
    """Stack regions of equal size along the day axis (dates repeat; split_by_date keeps them together)."""
    p0 = parts[0]
    return TrainingData(np.concatenate([p.inputs for p in parts]), np.concatenate([p.targets for p in parts]),
                        [d for p in parts for d in p.dates], p0.input_names, p0.output_names, p0.input_units,
                        p0.output_units, p0.upsampling)












def true_sm3(spec: tuple, seed: int, days: int) -> dict:
    """The simulation's true 3 km soil moisture by date (re-simulated: the series is deterministic)."""
    name, row, col, size, climate, water = spec[:6]
    series = simulate.simulate_region(region_grid(spec), START, days, seed, climate=climate, water=water)
    return {d.date: d.sm3_true for d in series.days}


def run_calibrate(args) -> None:
    out = args.output or os.path.join(ROOT, "model", "tb_general.pt")
    cal = {}
    for spec in TEST_REGIONS:
        name, row, col, size, climate, water, seed = spec
        files, _ = region_files(name, row, col, size, climate, water, seed, args.test_days)
        cal[name] = calibration(out, files, list(range(len(files["low"]))), region_grid(spec))
        print(name, json.dumps(cal[name]))
    finish_card(out, {"validation": {"uncertainty_calibration_vs_true_tb9": json_safe(cal)}})




def finish_card(path: str, updates: dict) -> ModelCard:
    """Add held-out evaluation to a saved model's card and re-save (weights unchanged)."""
    model, card = load_model(path)
    card = card.merged(updates, path)
    save_model(path, model, card)
    write_card_json(os.path.splitext(path)[0] + ".json", card)
    return card


def run_tb(args) -> None:
    if args.evaluate_only:
        evaluate_general_tb(args.output or os.path.join(DATA, "tb_radar.pt"), args)
        return
    parts, regions = [], {}
    for name, row, col, size, climate, water, seed in train_regions(args):
        files, var = region_files(name, row, col, size, climate, water, seed, args.days)
        data, grid9, prov = tb_training_data(files["low"], files["high"], upsampling=args.upsampling,
                                             static_path=files["static"][0] if args.static else None)
        parts.append(data)
        regions[name] = json_safe({"climate": climate, "water": water, "seed": seed, "region": prov["region"],
                                   "subcell_std_true_tb9_K": var})
    data = concat(parts)
    tr, val = split_by_date(data, args.val_days)
    cfg = TrainConfig(epochs=args.epochs, patches_per_epoch=args.patches, features=args.features, seed=0,
                      bf16=args.bf16,
                      batch_size=16, patch=32, checkpoint=checkpoint_for(args.output or "tb_general.pt"))
    t = time.time()
    res = train(tr, val, cfg, PrintFeedback(), card_extra={"training": {
        "case": "tb", "data": "simulated", "location_specific": False, "regions": regions,
        "dates": [str(min(data.dates)), str(max(data.dates))], "simulator": "smapdown.core.simulate",
        "note": "SIMULATED scenes only: no real 36/9 km pair was available. Scores below are on simulated data."}})
    if not is_main_process():  # under torchrun: every rank trains its share, rank 0 alone saves and scores
        return
    out = args.output or os.path.join(DATA, "tb_radar.pt")
    save_model(out, res.model, res.card)
    print(f"trained in {time.time() - t:.0f} s")
    evaluate_general_tb(out, args)


def evaluate_general_tb(out: str, args) -> None:
    """Scores of a general TB model on the held-out last days of its training regions (pooled) and on the
    regions never seen, into its card."""
    sums: dict = {}
    for spec in train_regions(args):
        name, row, col, size, climate, water, seed = spec
        files, _ = region_files(name, row, col, size, climate, water, seed, args.days)
        n = len(files["low"])
        ev = evaluate_tb(out, files, list(range(n - args.val_days, n)), region_grid(spec))
        for ref, per in ev.items():
            for band, v in per.items():
                acc = sums.setdefault(ref, {}).setdefault(band, np.zeros(4))
                acc += [v["cnn_mae"] * v["n"], v["bicubic_mae"] * v["n"], v["nearest_mae"] * v["n"], v["n"]]
    pooled = {ref: {band: {"cnn_mae": a[0] / a[3], "bicubic_mae": a[1] / a[3], "ratio": a[0] / a[1],
                           "nearest_mae": a[2] / a[3], "nearest_ratio": a[2] / a[1], "n": int(a[3])}
                    for band, a in per.items()} for ref, per in sums.items()}
    print(f"held-out days of the training regions, pooled: {fmt(pooled)}")
    held = {}
    for name, row, col, size, climate, water, seed in TEST_REGIONS:
        files, var = region_files(name, row, col, size, climate, water, seed, args.test_days)
        ev = evaluate_tb(out, files, list(range(len(files["low"]))), region_grid((name, row, col, size)))
        held[name] = json_safe({"climate": climate, "water": water, "seed": seed, "days": len(files["low"]),
                                "subcell_std_true_tb9_K": var, "metrics": ev})
        print(f"held-out region {name}: {fmt(ev)}")
    card = finish_card(out, {"validation": {"held_out_days_pooled": json_safe(pooled),
                                            "held_out_regions": held, "held_out_note":
                       "regions and seeds never used in training; simulated data; reference 'radar' is the "
                       "simulated radar-guided 9 km TB (the poster's target), 'truth' the simulated true 9 km TB"}})
    print(json.dumps(card.validation.to_dict(), indent=1)[:3000])


def run_sm(args) -> None:
    out = args.output or os.path.join(ROOT, "model", "sm_general.pt")
    if args.evaluate_only:
        evaluate_general_sm(out, args)
        return
    parts, regions = [], {}
    for name, row, col, size, climate, water, seed in train_regions(args):
        files, var = region_files(name, row, col, size, climate, water, seed, args.days)
        data, grid, prov = sm_training_data(files["low"], files["lst"], files["sm3"], "M03",
                                            static_path=files["static"][0] if args.static else None)
        parts.append(data)
        regions[name] = {"climate": climate, "water": water, "seed": seed, "region": prov["region"]}
    data = concat(parts)
    tr, val = split_by_date(data, args.val_days)
    cfg = TrainConfig(epochs=args.epochs, patches_per_epoch=args.patches, features=args.features, seed=0,
                      bf16=args.bf16,
                      residual=False, batch_size=16, patch=48,
                      checkpoint=checkpoint_for(out))
    res = train(tr, val, cfg, PrintFeedback(), card_extra={"training": {
        "case": "soil moisture", "grid": "M03", "data": "simulated", "location_specific": False,
        "regions": regions,
        "target": "SPL2SMAP_S-like 3 km soil moisture on Sentinel-1 days (truth + correlated errors, ~0.04 m3/m3)",
        "inputs_note": "36 km soil_moisture is the SPL3SMP-like file's SCA-V retrieval made by the simulator "
                       "from the observed TB with erroneous ancillary VWC / temperature / clay"
                       + ("; static_* bands are the simulated soil and land-cover maps (STATIC_M03_SIM.tif) "
                          "with map errors" if args.static else ""),
        "note": "SIMULATED scenes only. Scores below are on simulated data."}})
    if not is_main_process():  # under torchrun: every rank trains its share, rank 0 alone saves and scores
        return
    save_model(out, res.model, res.card)
    evaluate_general_sm(out, args)


def evaluate_general_sm(out: str, args) -> None:
    """Scores of the bundled soil-moisture model on the held-out (last ``val_days``) days of the training
    regions and on the regions never seen, vs the noisy 3 km target and the true 3 km soil moisture."""
    held_days, held, pool = {}, {}, {}
    for spec in train_regions(args):
        name, row, col, size, climate, water, seed = spec
        files, _ = region_files(name, row, col, size, climate, water, seed, args.days)
        n = len(files["low"])
        ev = evaluate_sm(out, files, list(range(n - args.val_days, n)), region_grid(spec),
                         true_sm3(spec[:6], seed, args.days), pool)
        held_days[name] = json_safe(ev)
        t = ev["vs_true_3km"]
        print(f"held-out days of {name}: ubRMSE {ev['ubrmse']:.4f} (vs truth {t['ubrmse']:.4f}, bias "
              f"{t['bias']:+.4f}; VWC <= 5: {t['requirement_domain']['ubrmse']:.4f}, n "
              f"{t['requirement_domain']['n']} of {t['n']})")
    est, tru, ref, dom = (np.concatenate(pool[k]) for k in ("est", "truth", "ref", "domain"))
    pooled = {}
    for label, keep in (("all_pixels", np.ones_like(dom)), ("requirement_domain_vwc_le_5", dom)):
        for what, b in (("vs_true_3km", tru), ("vs_noisy_3km_target", ref)):
            m = compare(np.where(keep, est, np.nan)[None], b[None], 0.5)
            pooled.setdefault(label, {})[what] = {k: m[k] for k in ("ubrmse", "rmse", "bias", "r", "n")}
    print("held-out days pooled over the training regions:", json.dumps(pooled))
    for name, row, col, size, climate, water, seed in TEST_REGIONS:
        files, _ = region_files(name, row, col, size, climate, water, seed, args.test_days)
        spec = (name, row, col, size, climate, water)
        ev = evaluate_sm(out, files, list(range(len(files["low"]))), region_grid(spec),
                         true_sm3(spec, seed, args.test_days))
        held[name] = json_safe({"climate": climate, "water": water, "seed": seed, "metrics_vs_noisy_3km_target": ev})
        t = ev["vs_true_3km"]
        print(f"held-out region {name}: ubRMSE {ev['ubrmse']:.4f} m3/m3, R {ev['r']:.3f}; vs truth "
              f"{t['ubrmse']:.4f} (R {t['r']:.3f}, bias {t['bias']:+.4f}; VWC <= 5: "
              f"{t['requirement_domain']['ubrmse']:.4f}, n {t['requirement_domain']['n']} of {t['n']}); "
              f"36 km retrieval bicubic vs truth {t['baseline_36km_retrieval_bicubic']['ubrmse']:.4f}")
    dom = pooled["requirement_domain_vwc_le_5"]["vs_true_3km"]["ubrmse"]
    per = {k: v["vs_true_3km"]["requirement_domain"]["ubrmse"] for k, v in held_days.items()}
    unseen = {k: v["metrics_vs_noisy_3km_target"]["vs_true_3km"]["ubrmse"] for k, v in held.items()}
    assessment = (f"SMAP requirement ubRMSE <= 0.04 m3/m3 (VWC <= 5 kg/m2), simulated data, vs the true 3 km soil "
                  f"moisture: held-out days of the training regions pooled {dom:.4f} "
                  f"({'met' if dom <= 0.04 else 'NOT met'}); per region {min(per.values()):.3f}-"
                  f"{max(per.values()):.3f}, <= 0.04 in {sum(v <= 0.04 for v in per.values())} of {len(per)}; "
                  "regions never seen: " + ", ".join(f"{k} {v:.3f}" for k, v in unseen.items())
                  + (" (met)" if all(v <= 0.04 for v in unseen.values()) else " (NOT met)"))
    print(assessment)
    finish_card(out, {"validation": {
        "requirement_assessment": assessment,
        "held_out_days_of_training_regions": held_days,
        "held_out_days_pooled": pooled,
        "held_out_regions": held,
        "requirement": "SMAP mission: ubRMSE <= 0.04 m3/m3",
        "note": "simulated data; frozen ground (36 km surface temperature < 273.15 K) is left empty and not "
                "scored; 'baseline_36km_retrieval_bicubic' is the product's own 36 km retrieval upsampled"}})


def run_location(args) -> None:
    name, row, col, size, climate, water, seed = TRAIN_REGIONS[0]
    files, var = region_files(name, row, col, size, climate, water, args.location_seed, args.days)
    radar_days = args.days - args.after_days
    data, grid9, prov = tb_training_data(files["low"], files["high"],
                                         end=START + dt.timedelta(days=radar_days - 1),
                                         upsampling=args.upsampling)
    tr, val = split_by_date(data, args.val_days)
    cfg = TrainConfig(epochs=args.epochs, patches_per_epoch=args.patches, features=args.features, seed=0,
                      bf16=args.bf16,
                      location=True)
    t = time.time()
    loc = Location.of(grid9)
    res = train(tr, val, cfg, PrintFeedback(), card_extra={"training": {"case": "tb", **prov}, "location": loc})
    if not is_main_process():  # under torchrun: every rank trains its share, rank 0 alone saves and scores
        return
    path = os.path.join(ROOT, "build", "location_model.pt")
    save_model(path, res.model, res.card)
    dates = [read_tb36(p).date for p in files["low"]]
    last_radar = START + dt.timedelta(days=radar_days - 1)
    after = [i for i, d in enumerate(dates) if d > last_radar]
    ev = evaluate_tb(path, files, after, region_grid(TRAIN_REGIONS[0]))
    out = json_safe({"region": name, "climate": climate, "seed": args.location_seed,
                     "train_days": radar_days - args.val_days,
           "evaluated_days_after_training_period": args.after_days, "features": args.features,
           "epochs": args.epochs, "upsampling": args.upsampling, "train_seconds": round(time.time() - t),
           "subcell_std_true_tb9_K": var,
           "metrics": ev})
    with open(os.path.join(ROOT, "build", f"location_experiment_{args.location_seed}.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"location-specific ({name}, days after training): {fmt(ev)}")


def run_oracle(args) -> None:
    """What static knowledge alone can reach in the location experiment: the 36 km observation repeated over
    its block plus the mean (target − observation) pattern of the radar-period days, scored like the CNN on
    the days after; also the same pattern added to bicubic, and a per-pixel regression on the cell's TB."""
    from smapdown.model.inference import upsample_bicubic

    name, row, col, size, climate, water, seed = TRAIN_REGIONS[0]
    series = simulate.simulate_region(region_grid(TRAIN_REGIONS[0]), START, args.days, args.location_seed,
                                      climate=climate, water=water)
    radar = args.days - args.after_days
    tr, te = slice(0, radar), slice(radar, args.days)
    out = {"region": name, "seed": args.location_seed, "radar_days": radar, "after_days": args.after_days}
    for p in ("v", "h"):
        tgt = np.stack([getattr(d, f"tb9_radar_{p}") for d in series.days]).astype(np.float64)
        tb36 = np.stack([getattr(d, f"tb36_{p}") for d in series.days]).astype(np.float64)
        blk = np.repeat(np.repeat(tb36, 4, 1), 4, 2)
        bic = np.stack([upsample_bicubic(t, 4) for t in tb36]).astype(np.float64)

        def mae(pred, sl=te, tgt=tgt):
            ok = np.isfinite(pred[sl]) & np.isfinite(tgt[sl])
            return float(np.abs(pred[sl] - tgt[sl])[ok].mean())

        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pattern = np.nanmean((tgt - blk)[tr], axis=0)
            pattern_med = np.nanmedian((tgt - blk)[tr], axis=0)
            pattern_bic = np.nanmean((tgt - bic)[tr], axis=0)
            anomaly = blk - np.nanmean(blk[tr], axis=0)
            x, y = blk - np.nanmean(blk[tr], axis=0), tgt - blk
            ok = np.isfinite(x) & np.isfinite(y)
            ok[te] = False
            n = ok.sum(0)
            mx, my = np.where(ok, x, 0).sum(0) / n, np.where(ok, y, 0).sum(0) / n
            slope = (np.where(ok, (x - mx) * (y - my), 0).sum(0)
                     / np.maximum(np.where(ok, (x - mx) ** 2, 0).sum(0), 1e-9))
        base = mae(bic)
        # the mean pattern scaled by the day's 36 km TB anomaly, the scale chosen on the radar days
        scales = np.linspace(-0.1, 0.1, 21)
        best = min(scales, key=lambda k: mae(blk + pattern * (1.0 + k * anomaly), tr))
        out[f"tb_{p}"] = {"bicubic_mae": base,
                          "observation_plus_mean_pattern": mae(blk + pattern) / base,
                          "observation_plus_median_pattern": mae(blk + pattern_med) / base,
                          "observation_plus_pattern_scaled_by_anomaly": mae(blk + pattern * (1.0 + best * anomaly))
                          / base, "anomaly_scale_chosen": float(best),
                          "bicubic_plus_mean_pattern": mae(bic + pattern_bic) / base,
                          "observation_plus_per_pixel_regression": mae(blk + my + slope * (x - mx)) / base,
                          "observation_alone": mae(blk) / base}
    print(json.dumps(json_safe(out), indent=1))


def run_location_sm(args) -> None:
    """Case 2, location-specific: train on the radar-period days of one region, score the days after."""
    spec = TRAIN_REGIONS[0]
    name, row, col, size, climate, water, seed = spec
    files, _ = region_files(name, row, col, size, climate, water, args.location_seed, args.days)
    radar_days = args.days - args.after_days
    last = START + dt.timedelta(days=radar_days - 1)
    data, grid, prov = sm_training_data(files["low"], files["lst"], files["sm3"], "M03", end=last)
    tr, val = split_by_date(data, args.val_days)
    cfg = TrainConfig(epochs=args.epochs, patches_per_epoch=args.patches, features=args.features, seed=0,
                      bf16=args.bf16,
                      residual=False, patch=48, location=True)
    loc = Location.of(grid)
    t = time.time()
    res = train(tr, val, cfg, PrintFeedback(), card_extra={"training": {"case": "soil moisture", **prov},
                                                         "location": loc})
    if not is_main_process():  # under torchrun: every rank trains its share, rank 0 alone saves and scores
        return
    path = os.path.join(ROOT, "build", "location_sm_model.pt")
    save_model(path, res.model, res.card)
    dates = [read_tb36(p).date for p in files["low"]]
    ev = evaluate_sm(path, files, [i for i, d in enumerate(dates) if d > last], region_grid(spec),
                     true_sm3(spec, args.location_seed, args.days))
    out = json_safe({"region": name, "seed": args.location_seed, "features": args.features, "epochs": args.epochs,
                     "train_seconds": round(time.time() - t), "metrics_vs_noisy_3km_target": ev})
    with open(os.path.join(ROOT, "build", "location_sm_experiment.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"location-specific soil moisture ({name}, days after training): ubRMSE {ev['ubrmse']:.4f} m3/m3, "
          f"RMSE {ev['rmse']:.4f}, R {ev['r']:.3f}; vs true 3 km: {json.dumps(ev['vs_true_3km'])}")






def init_note(init: str | None, card: ModelCard | None) -> str | None:
    """What a fine-tuned model started from (its file and the simulator it was trained on), or None."""
    if not init or card is None:
        return None
    before = card.training.details.get("simulator_digest", "an earlier simulator version")
    return f"{os.path.basename(init)}, trained on simulator {before}"


def run_tb_truth(args) -> None:
    """General TB model trained against the simulated TRUE 9 km TB on WORLD_TRAIN; TB only, or with the
    land-cover and water fractions (`--cover`); scored on WORLD_TEST against the truth (the do-no-harm gate)."""
    from smapdown.core.landcover import COVER_BANDS

    out = args.output or os.path.join(DATA, "tb_truth_cover.pt" if args.cover else "tb_truth.pt")
    specs = [world_spec(e) for e in WORLD_TRAIN[: args.regions]]
    if not args.evaluate_only:
        init = load_model(args.init) if args.init else None  # fine-tuning: start from this model
        if init is not None and os.path.exists(checkpoint_for(out)):
            raise SystemExit(f"{checkpoint_for(out)} exists: delete it to fine-tune from {args.init}")
        parts, regions = [], {}
        for name, row, col, size, climate, water, seed in specs:
            files, _ = region_files(name, row, col, size, climate, water, seed, args.days)
            data, _, prov = tb_training_data(files["low"], files["truth"], upsampling="bicubic",
                                             static_path=files["static"][0] if args.cover else None,
                                             static_names=list(COVER_BANDS) if args.cover else None)
            parts.append(data)
            regions[name] = {"climate": climate, "water": water, "seed": seed, "region": prov["region"]}
        data = concat(parts)
        tr, val = split_by_date(data, args.val_days)
        cfg = TrainConfig(epochs=args.epochs, patches_per_epoch=args.patches, features=args.features, seed=0,
                          bf16=args.bf16, batch_size=16, patch=32, checkpoint=checkpoint_for(out))
        if init is not None:  # its weights and normalisation, a fresh optimiser as this run's
            from smapdown.model.train import init_checkpoint

            init_checkpoint(checkpoint_for(out), *init, cfg)
        t = time.time()
        res = train(tr, val, cfg, PrintFeedback(), card_extra={"training": {
            "case": "tb", "data": "simulated", "location_specific": False, "regions": regions,
            "target": ("simulated TRUE 9 km TB, water-corrected as the inputs are (the mean TB of each 9 km "
                       "cell's land part), not the radar-guided TB"),
            "dates": [str(min(data.dates)), str(max(data.dates))], "simulator": "smapdown.core.simulate",
            "simulator_digest": simulate.source_digest(),
            "fine_tuned_from": init_note(args.init, init[1] if init else None),
            "note": "SIMULATED scenes only: no real 36/9 km pair was available. Scores are on simulated data."}})
        if not is_main_process():  # under torchrun: rank 0 alone saves and scores
            return
        save_model(out, res.model, res.card)
        print(f"trained in {time.time() - t:.0f} s -> {out}")
    pooled = {b: np.zeros(5) for b in ("tb_v", "tb_h")}
    per = {}
    for name, row, col, size, climate, water, seed in (world_spec(e) for e in WORLD_TEST):
        files, _ = region_files(name, row, col, size, climate, water, seed, args.test_days)
        acc = truth_scores(out, files, list(range(len(files["low"]))), region_grid((name, row, col, size)))
        per[name] = {"climate": climate, "water": water, "seed": seed, **_ratios(acc)}
        for b in pooled:
            pooled[b] += acc[b]
        print(f"unseen {name:16s} V {per[name]['tb_v']['ratio']:.3f}  H {per[name]['tb_h']['ratio']:.3f}  "
              f"(repeated {per[name]['tb_v']['repeated_ratio']:.3f} / {per[name]['tb_h']['repeated_ratio']:.3f})")
    gate = {"unseen_regions_pooled": _ratios(pooled), "unseen_regions": per,
            "data": "SIMULATED unseen regions (WORLD_TEST), land 9 km pixels, against the simulated true 9 km TB",
            "days_per_region": args.test_days}
    print(f"unseen pooled: V {gate['unseen_regions_pooled']['tb_v']['ratio']:.3f}  "
          f"H {gate['unseen_regions_pooled']['tb_h']['ratio']:.3f}")
    finish_card(out, {"gate": json_safe(gate)})
    with open(out[:-3] + "_gate.json", "w") as f:
        json.dump(json_safe(gate), f, indent=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["tb", "tb-truth", "sm", "location", "location-sm", "calibrate", "oracle"])
    ap.add_argument("--days", type=int, default=40)
    ap.add_argument("--after-days", type=int, default=10, help="location: days after the radar period")
    ap.add_argument("--test-days", type=int, default=10)
    ap.add_argument("--val-days", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--patches", type=int, default=512)
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--upsampling", choices=["bicubic", "nearest"], default="bicubic",
                    help="tb, location: how the 36 km input reaches the 9 km grid (the residual's base)")
    ap.add_argument("--output", help="tb, sm: model file to write (default model/tb_general.pt, sm_general.pt)")
    ap.add_argument("--more-regions", action="store_true", help="tb, sm: also train on EXTRA_REGIONS")
    ap.add_argument("--location-seed", type=int, default=111,
                    help="location, location-sm, oracle: simulation seed of the Oklahoma region")
    ap.add_argument("--evaluate-only", action="store_true", help="tb, sm: score the bundled model, no training")
    ap.add_argument("--static", action="store_true",
                    help="tb, sm: also the static ancillary map (soil texture, land cover, water) as inputs")
    ap.add_argument("--cover", action="store_true",
                    help="tb-truth: also the land-cover and open-water fractions (static_bare..static_water)")
    ap.add_argument("--regions", type=int, default=len(WORLD_TRAIN), help="tb-truth: how many of WORLD_TRAIN")
    ap.add_argument("--init", help="tb-truth: fine-tune this model (its weights and normalisation) for --epochs epochs "
                    "instead of training from scratch")
    args = ap.parse_args()
    {"tb": run_tb, "tb-truth": run_tb_truth, "sm": run_sm, "location": run_location, "location-sm": run_location_sm,
     "calibrate": run_calibrate, "oracle": run_oracle}[args.what](args)


if __name__ == "__main__":
    main()
