"""Scores of trained models on simulated product files: CNN vs bicubic vs the radar-guided and the true 9 km TB,
soil moisture vs the 3 km target and the truth, the TTA spread's calibration (used by train_bundled.py)."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np

from smapdown.core.errors import NoDataError
from smapdown.core.grid import Grid
from smapdown.core.inputs import read_reference, read_static, read_tb36
from smapdown.core.metrics import compare
from smapdown.core.raster import read_ease_raster
from smapdown.core.regrid import regrid
from smapdown.workflows.downscale import downscale
from smapdown.workflows.soil_moisture import SM_ANCILLARY, estimate_soil_moisture

# the SMAP soil-moisture requirement (ubRMSE <= 0.04) holds where vegetation water content is <= 5 kg/m2
SMAP_REQUIREMENT_MAX_VWC = 5.0  # (it excludes dense forest, as well as frozen ground, open water and urban areas)


def same_day(paths: list[str], date: dt.date) -> str:
    """The file of ``paths`` whose name carries ``date`` (YYYYMMDD), as the simulator names them."""
    tag = date.strftime("%Y%m%d")
    return next(p for p in paths if tag in os.path.basename(p))


def evaluate_tb(model_path: str, files: dict, days: list[int], region: Grid) -> dict:
    """Pooled metrics over ``days`` of the CNN and bicubic, vs radar-guided 9 km TB and vs true 9 km TB."""
    from smapdown.model.inference import upsample

    pooled: dict[str, list] = {k: [] for k in ("cnn", "bic", "nn", "radar", "truth")}
    for i in days:
        scene = read_tb36(files["low"][i], region.bounds(), "EPSG:6933")
        res = downscale(scene, model_path, reference=same_day(files["high"], scene.date),
                        static_path=files["static"][0])
        truth = read_ease_raster(same_day(files["truth"], scene.date))
        pooled["cnn"].append(res.cnn)
        pooled["bic"].append(res.baseline)
        pooled["nn"].append(upsample(np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data]), 4,
                                     "nearest"))
        pooled["radar"].append(res.reference)
        pooled["truth"].append(np.stack([regrid(a, truth.grid, res.grid) for a in truth.arrays[:2]]))  # tb_v, tb_h
    out: dict = {}
    for ref in ("radar", "truth"):
        out[ref] = {}
        for b, band in enumerate(("tb_v", "tb_h")):
            r = np.stack([p[b] for p in pooled[ref]])
            c = np.stack([p[b] for p in pooled["cnn"]])
            z = np.stack([p[b] for p in pooled["bic"]])
            nn = np.stack([p[b] for p in pooled["nn"]])
            ok = np.isfinite(r) & np.isfinite(c) & np.isfinite(z)
            mc = compare(np.where(ok, c, np.nan).reshape(-1, r.shape[-1]), r.reshape(-1, r.shape[-1]), 150.0)
            mb = compare(np.where(ok, z, np.nan).reshape(-1, r.shape[-1]), r.reshape(-1, r.shape[-1]), 150.0)
            mn = compare(np.where(ok, nn, np.nan).reshape(-1, r.shape[-1]), r.reshape(-1, r.shape[-1]), 150.0)
            out[ref][band] = {"cnn_mae": mc["mae"], "bicubic_mae": mb["mae"], "ratio": mc["mae"] / mb["mae"],
                              "cnn_rmse": mc["rmse"], "bicubic_rmse": mb["rmse"], "n": mc["n"],
                              "nearest_mae": mn["mae"], "nearest_ratio": mn["mae"] / mb["mae"]}
    return out




def evaluate_sm(model_path: str, files: dict, days: list[int], region: Grid, truth: dict | None = None,
                pool: dict | None = None) -> dict:
    """Pooled ubRMSE/RMSE/bias/R of the soil-moisture CNN vs the noisy SPL2SMAP_S-like 3 km target
    (and vs the simulation's true 3 km soil moisture when ``truth`` maps dates to it); the same for the
    baseline 'the product's 36 km retrieval, bicubically upsampled' on the same pixels."""
    from smapdown.model.inference import upsample_bicubic

    est, base, ref, tru, dense = [], [], [], [], []
    for i in days:
        scene = read_tb36(files["low"][i], region.bounds(), "EPSG:6933", ancillary=SM_ANCILLARY)
        tag = scene.date.strftime("%Y%m%d")
        if not any(tag in os.path.basename(p) for p in files["sm3"]):
            continue  # no Sentinel-1 acquisition that day: no 3 km reference
        try:
            res = estimate_soil_moisture(scene, same_day(files["lst"], scene.date), model_path,
                                         reference=same_day(files["sm3"], scene.date),
                                         static_path=files["static"][0])
        except NoDataError:  # frozen soil (no 3 km retrieval) or a fully cloudy LST day
            continue
        up = upsample_bicubic(scene.by_role("soil_moisture").data, scene.grid.factor_to(res.grid.name))
        ok = np.isfinite(res.sm) & np.isfinite(up)
        est.append(np.where(ok, res.sm, np.nan).ravel())
        base.append(np.where(ok, up, np.nan).ravel())
        ref.append(res.reference.ravel())
        if truth is not None:
            tru.append(truth[scene.date].ravel())
        vwc = regrid(scene.by_role("vegetation_water_content").data, scene.grid, res.grid)
        dense.append((vwc > SMAP_REQUIREMENT_MAX_VWC).ravel())

    def scores(a, b, keep=None):
        a, b = np.concatenate(a), np.concatenate(b)
        if keep is not None:
            a = np.where(keep, a, np.nan)
        m = compare(a[None], b[None], 0.5)
        return {k: m[k] for k in ("ubrmse", "rmse", "bias", "r", "mae", "n")}

    domain = ~np.concatenate(dense)
    if pool is not None and truth is not None:  # for scores pooled over several regions
        for k, v in (("est", est), ("truth", tru), ("ref", ref)):
            pool.setdefault(k, []).append(np.concatenate(v))
        pool.setdefault("domain", []).append(domain)
    out = scores(est, ref)
    out["baseline_36km_retrieval_bicubic"] = scores(base, ref)
    out["requirement_domain"] = scores(est, ref, domain)
    if truth is not None:
        out["vs_true_3km"] = scores(est, tru)
        out["vs_true_3km"]["baseline_36km_retrieval_bicubic"] = scores(base, tru)
        out["vs_true_3km"]["requirement_domain"] = scores(est, tru, domain)
    out["pixels_outside_requirement_domain"] = int((~domain & np.isfinite(np.concatenate(est))).sum())
    return out


def calibration(model_path: str, files: dict, days: list[int], region: Grid) -> dict:
    """How the TTA spread (OUTPUT_UNCERTAINTY) relates to the real error |CNN - true 9 km TB|, pooled."""
    spread, err = [], []
    for i in days:
        scene = read_tb36(files["low"][i], region.bounds(), "EPSG:6933")
        res = downscale(scene, model_path, uncertainty=True)
        truth = read_ease_raster(same_day(files["truth"], scene.date))
        t = np.stack([regrid(a, truth.grid, res.grid) for a in truth.arrays[:2]])  # tb_v, tb_h (water-corrected)
        ok = np.isfinite(res.uncertainty) & np.isfinite(t) & np.isfinite(res.cnn)
        spread.append(res.uncertainty[ok])
        err.append(np.abs(res.cnn - t)[ok])
    s_, e_ = np.concatenate(spread), np.concatenate(err)
    rank = np.corrcoef(np.argsort(np.argsort(s_)), np.argsort(np.argsort(e_)))[0, 1]
    return {"mean_spread_K": float(s_.mean()), "mean_abs_error_vs_truth_K": float(e_.mean()),
            "fraction_error_within_1_spread": float((e_ <= s_).mean()),
            "fraction_error_within_2_spread": float((e_ <= 2 * s_).mean()),
            "spearman_spread_vs_error": float(rank), "n": int(s_.size),
            "reading": "the spread is a relative indicator (where the CNN is unsure), not a calibrated "
                       "standard error: compare mean spread with mean error above"}


def fmt(ev: dict) -> str:
    return "; ".join(f"vs {ref}: " + ", ".join(f"{b} CNN {v['cnn_mae']:.2f} K / bicubic {v['bicubic_mae']:.2f} K "
                                              f"= {v['ratio']:.2f} (36 km value repeated: "
                                              f"{v['nearest_ratio']:.2f})" for b, v in per.items())
                     for ref, per in ev.items())


def truth_scores(model_path: str, files: dict, days: list[int], region: Grid) -> dict:
    """Per polarisation, on land 9 km pixels (open water < 50 % by the region's static map): MAE of the CNN
    (with mean preservation and physical bounds, as `downscale`), of bicubic and of the 36 km value repeated,
    against the simulated TRUE 9 km TB; also the CNN's MAE against the radar-guided 9 km TB (agreement with the
    active-passive product, not accuracy). Sums are returned so that regions can be pooled."""
    from smapdown.model.inference import upsample

    static = files["static"][0]
    acc = {b: np.zeros(5) for b in ("tb_v", "tb_h")}
    water = read_static(static, region.refine("M09"))["static_water"]  # the static map, read once
    for i in days:
        scene = read_tb36(files["low"][i], region.bounds(), "EPSG:6933")
        res = downscale(scene, model_path, static_path=static)
        truth = read_ease_raster(same_day(files["truth"], scene.date))
        radar = read_reference(same_day(files["high"], scene.date), res.grid, ["tb_v", "tb_h"])[0]
        nn = upsample(np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data]), 4, "nearest")
        for b, band in enumerate(("tb_v", "tb_h")):
            t = regrid(truth.arrays[b], truth.grid, res.grid)
            ok = np.isfinite(t) & np.isfinite(res.cnn[b]) & np.isfinite(res.baseline[b]) & (water < 0.5)
            okr = ok & np.isfinite(radar[b])
            acc[band] += [np.abs(res.cnn[b] - t)[ok].sum(), np.abs(res.baseline[b] - t)[ok].sum(),
                          np.abs(nn[b] - t)[ok].sum(), ok.sum(),
                          np.abs(res.cnn[b] - radar[b])[okr].sum() / max(okr.sum(), 1) * ok.sum()]
    return acc


def _ratios(acc: dict) -> dict:
    return {b: {"cnn_mae_K": a[0] / a[3], "bicubic_mae_K": a[1] / a[3], "ratio": a[0] / a[1],
                "repeated_ratio": a[2] / a[1], "cnn_mae_vs_radar_guided_K": a[4] / a[3], "pixels": int(a[3])}
            for b, a in acc.items()}


def run_cover_oracle(args) -> dict:
    """How much of the true 9 km TB's departure from bicubic the land-cover and water maps can explain, at best:
    per unseen region (WORLD_TEST, the tb-truth gate's files) and polarisation, a least-squares fit of
    truth − bicubic on the 9 km map fractions (five covers, water, a constant) fitted on the very pixels and days
    it is scored on (in-sample: an oracle that knows the truth). MAE ÷ bicubic MAE of bicubic + fit, land pixels.
    Linear and per-pixel only, so not a strict bound for a CNN (which sees spatial context and the TB itself),
    but a measure of how much the maps carry."""
    from train_bundled import region_files

    from smapdown.core.landcover import COVER_BANDS
    from smapdown.core.raster import read_ease_raster
    from smapdown.core.simulate.regions import WORLD_TEST, region_grid, world_spec
    from smapdown.model.inference import upsample

    per, pooled = {}, np.zeros((2, 2))
    for spec in (world_spec(e) for e in WORLD_TEST):
        name, row, col, size, climate, water, seed = spec
        files, _ = region_files(name, row, col, size, climate, water, seed, args.test_days)
        grid9 = region_grid(spec).refine("M09")
        st = read_static(files["static"][0], grid9)
        maps = np.stack([st[b] for b in COVER_BANDS] + [np.ones(grid9.shape, np.float32)])
        res_b, feat_b = [[], []], [[], []]
        for low in files["low"]:
            scene = read_tb36(low, region_grid(spec).bounds(), "EPSG:6933")
            tb = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data]).astype(np.float32)
            bic = upsample(tb, 4, "bicubic")
            truth = read_ease_raster(same_day(files["truth"], scene.date))
            for b in range(2):
                t = regrid(truth.arrays[b], truth.grid, grid9)
                ok = np.isfinite(t) & np.isfinite(bic[b]) & (st["static_water"] < 0.5) & np.isfinite(maps).all(0)
                res_b[b].append((t - bic[b])[ok])
                feat_b[b].append(maps[:, ok].T)
        row_out = {"climate": climate, "water": water}
        for b, band in enumerate(("tb_v", "tb_h")):
            r, x = np.concatenate(res_b[b]), np.concatenate(feat_b[b])
            w, *_ = np.linalg.lstsq(x, r, rcond=None)
            mae_fit, mae_bic = float(np.abs(r - x @ w).mean()), float(np.abs(r).mean())
            row_out[band] = {"ratio": mae_fit / mae_bic, "pixels": int(r.size)}
            pooled[b] += [np.abs(r - x @ w).sum(), np.abs(r).sum()]
        per[name] = row_out
        print(f"{name:16s} oracle V {row_out['tb_v']['ratio']:.3f}  H {row_out['tb_h']['ratio']:.3f}")
    out = {"regions": per, "pooled": {"tb_v": pooled[0, 0] / pooled[0, 1], "tb_h": pooled[1, 0] / pooled[1, 1]},
           "what": run_cover_oracle.__doc__.split("\n\n")[0]}
    print(f"pooled oracle V {out['pooled']['tb_v']:.3f}  H {out['pooled']['tb_h']:.3f}")
    return out
