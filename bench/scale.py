"""smapdown at scale: area scaling, the global 9 km day against its ideal, tiling tries, archive throughput
on 1 vs 2 Dask workers, and data-parallel training on 1 vs 2 processes; each against this machine's GEMM
ceiling measured in the same run.

usage: .venv/bin/python bench/scale.py [--quick | --tiny] [--json build/bench-scale.json]   (or: make bench-scale)

"Ideal" for a TB downscaling run is the FLOPs its VALID output pixels need (2 x macs_per_pixel each) at the
bf16 GEMM rate measured in this run; ``time / ideal`` is the target ratio (<= 2). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from run import RESULTS, Others, cpu_flags, cpu_name, gemm_rate, global_scene, other_load  # bench/, the script folder

from smapdown.core.files import DEFAULT_TB_MODEL
from smapdown.model import inference
from smapdown.model.io import code_version, load_model

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

OUT = os.path.join(os.path.dirname(RESULTS), "bench-scale.json")
#: windows of the synthetic global M36 scene (rows, cols of 36 km cells), about the size named
AREAS = {"100 km": (slice(80, 83), slice(184, 187)), "1 000 km": (slice(80, 108), slice(207, 235)),
         "continent": (slice(80, 220), slice(506, 646)), "globe": (slice(0, 406), slice(0, 964))}
#: --tiny (tests/test_scripts_bench.py): every row on toy windows in seconds; its rates say nothing
TINY_AREAS = {"100 km": AREAS["100 km"], "300 km": (slice(80, 88), slice(207, 215))}


def ceilings(reps: int, n: int = 4096) -> dict:
    """GEMM ceilings (n x n x n matmul, GFLOP/s) while noting what other processes keep busy."""
    with Others() as o:
        return {"fp32": gemm_rate(torch.float32, reps, n), "bf16": gemm_rate(torch.bfloat16, 2 * reps, n),
                "others": o.value, "threads": torch.get_num_threads()}


def crop(scene, rows: slice, cols: slice):
    from smapdown.core.regrid import crop_scene

    return crop_scene(scene, scene.grid.window(rows.start, cols.start, rows.stop - rows.start,
                                               cols.stop - cols.start))


def executed(valid: np.ndarray, tile: int, halo: int, radius: int, shrink: bool) -> int:
    """Pixel-layers the network computes for ``valid`` (per layer, averaged as pixels of the full net)."""
    H, W = valid.shape
    total = 0
    for r0, r1, c0, c1 in inference.plan_tiles(valid, tile, halo):
        h = min(H, r1 + halo) - max(0, r0 - halo)
        w = min(W, c1 + halo) - max(0, c0 - halo)
        if not shrink:
            total += h * w
            continue
        # each of the 7 dual layers shrinks 2 px a side inside the image (head: 1); average over layers
        inner_r = (r0 - halo > 0) + (r1 + halo < H)
        inner_c = (c0 - halo > 0) + (c1 + halo < W)
        steps = [2 * (k + 1) for k in range(7)]
        total += int(np.mean([(h - inner_r * s) * (w - inner_c * s) for s in steps]))
    return total


def downscale_row(scene, label: str, bf16: bool, tile: int = 256, threads: int | None = None) -> dict:
    """workflows.downscale.downscale with the bundled poster net on ``scene``; seconds and valid pixels."""
    from smapdown.workflows.downscale import downscale

    ctx = inference.fixed_threads(threads) if threads else contextlib.nullcontext()
    with Others() as o, ctx:
        t = time.perf_counter()
        res = downscale(scene, device="cpu", tile=tile, bf16=bf16)
        secs = time.perf_counter() - t
    valid = int(np.isfinite(res.cnn[0]).sum())
    return {"area": label, "precision": "bf16" if bf16 else "fp32", "seconds": secs, "valid_px": valid,
            "grid": list(res.grid.shape), "others": o.value, "threads": threads or torch.get_num_threads(),
            "cnn": res.cnn}


def globe_child(cfg: dict) -> dict:
    """A global 9 km day through workflows.downscale in this fresh process: seconds, peak RSS, pixels."""
    from smapdown.model.network import use_all_cores
    from smapdown.workflows.downscale import downscale

    use_all_cores()
    scene, land, _ = global_scene()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    res = downscale(scene, device="cpu", tile=cfg["tile"], bf16=True)
    secs = time.perf_counter() - t
    valid = np.isfinite(res.cnn).all(axis=0)
    return {"seconds": secs, "valid_px": int(valid.sum()), "grid": list(res.grid.shape), "land_fraction": land,
            "rss_before_mb": rss0, "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "threads": torch.get_num_threads(),
            "executed_px_shrink": executed(valid, cfg["tile"], 16, 15, True),
            "executed_px_tiles": executed(valid, cfg["tile"], 16, 15, False),
            "executed_px_grid_tiles": int(sum(
                (min(valid.shape[0], r + cfg["tile"] + 16) - max(0, r - 16))
                * (min(valid.shape[1], c + cfg["tile"] + 16) - max(0, c - 16))
                for r in range(0, valid.shape[0], cfg["tile"]) for c in range(0, valid.shape[1], cfg["tile"])
                if valid[r:r + cfg["tile"], c:c + cfg["tile"]].any()))}


def tries(scene, model, card, flop_px: float, window: int = 288) -> list[dict]:
    """The same continent through predict_tiled in bf16, one change at a time; then one ``window``^2 input
    (288: a 256 px tile with its halo) in two memory layouts."""
    from smapdown.model.inference import predict_tiled, upsample_bicubic

    tb = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data]).astype(np.float32)
    x = upsample_bicubic(tb, 4)
    valid = np.isfinite(x).all(axis=0)
    grid_cells = inference.plan_cells

    def grid_tiles(v, tile, halo, min_tile=0):  # the tiling before adaptive tiles: whole cells
        H, W = v.shape
        return [[(r, min(r + tile, H), c, min(c + tile, W))] if v[r:r + tile, c:c + tile].any() else []
                for r in range(0, H, tile) for c in range(0, W, tile)]

    rows = []
    plans = [("grid tiles 256 (before)", 256, False, grid_tiles, None),
             ("adaptive tiles 256", 256, False, grid_cells, None),
             ("adaptive tiles 256 + shrinking layers", 256, True, grid_cells, None),
             ("adaptive tiles 128 + shrinking layers", 128, True, grid_cells, None),
             ("adaptive tiles 512 + shrinking layers", 512, True, grid_cells, None),
             ("adaptive 256 + shrinking, 1 thread", 256, True, grid_cells, 1)]
    predict_tiled(model, card, x[:, :64, :64], tile=64, device="cpu", bf16=True)  # warm-up
    for name, tile, shrink, planner, threads in plans:
        inference.plan_cells = planner
        try:
            ctx = inference.fixed_threads(threads) if threads else contextlib.nullcontext()
            with Others() as o, ctx:
                t = time.perf_counter()
                predict_tiled(model, card, x, tile=tile, device="cpu", bf16=True, shrink=shrink)
                secs = time.perf_counter() - t
            tiles = [t for cell in planner(valid, tile, 16, inference.MIN_TILE) for t in cell]
        finally:
            inference.plan_cells = grid_cells
        ex = executed(valid, tile, 16, 15, shrink) if planner is grid_cells else sum(
            (min(valid.shape[0], r1 + 16) - max(0, r0 - 16)) * (min(valid.shape[1], c1 + 16) - max(0, c0 - 16))
            for r0, r1, c0, c1 in tiles)
        rows.append({"try": name, "seconds": secs, "tiles": len(tiles), "valid_px": int(valid.sum()),
                     "executed_px": ex, "gflop_s_executed": ex * flop_px / secs / 1e9, "others": o.value,
                     "threads": threads or torch.get_num_threads()})
    # memory layout of one 288 x 288 window (a 256 px tile with its halo): NCHW vs channels-last
    t = torch.randn(1, 2, window, window)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for name, inp in ((f"one {window}^2 window, NCHW input", t),
                          (f"one {window}^2 window, channels-last input",
                           t.contiguous(memory_format=torch.channels_last))):
            model(inp)
            with Others() as o:
                best = min(_time(lambda inp=inp: model(inp)) for _ in range(2))
            rows.append({"try": name, "seconds": best, "tiles": 1, "valid_px": window * window,
                         "executed_px": window * window, "gflop_s_executed": window * window * flop_px / best / 1e9,
                         "others": o.value, "threads": torch.get_num_threads()})
    return rows


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def archive_rows(tmp: str, products: int) -> list[dict]:
    """workflows.archive over ``products`` continent-sized SPL3SMP-layout files (AM+PM each) on a local
    Dask cluster of 1 and of 2 workers (one torch thread per product)."""
    from smapdown.core.grid import Grid
    from smapdown.core.smap_write import write_product
    from smapdown.workflows.archive import run_archive

    scene, _, _ = global_scene()
    folder = os.path.join(tmp, "products")
    os.makedirs(folder, exist_ok=True)
    g = Grid.global_grid("M36")
    rows, cols = AREAS["continent"]
    keep = np.zeros(g.shape, bool)
    keep[rows, cols] = True
    for i in range(products):
        fields = {k: np.where(keep, scene.by_role(k).data, np.nan).astype(np.float32) for k in ("tb_v", "tb_h")}
        write_product(os.path.join(folder, f"SMAP_L3_SM_P_{20200601 + i}_SYN.h5"), "SPL3SMP", g, fields,
                      date=dt.date(2020, 6, 1 + i), pm_fields=fields)
    out = []
    for workers in (1, 2):
        with Others() as o:
            s = run_archive(folder, os.path.join(tmp, f"out{workers}"), scheduler="local", workers=workers,
                            bf16=True)
        out.append({"workers": workers, "products": s.total, "seconds": s.seconds,
                    "products_per_hour": 3600.0 * s.complete / s.seconds, "others": o.value})
    return out


def ddp_rows(tmp: str) -> list[dict]:
    """workflows.train (poster net, batch 16 of 32^2 patches) on 1 and 2 processes (torchrun, gloo)."""
    from smapdown.core import simulate

    folder = os.path.join(tmp, "sim")
    series = simulate.simulate_region(simulate.default_region(), dt.date(2015, 4, 1), 4, seed=3)
    simulate.write_series(series, folder)
    out = []
    for n in (1, 2):
        report = os.path.join(tmp, f"ddp{n}.json")
        launcher = [sys.executable] if n == 1 else [sys.executable, "-m", "torch.distributed.run",
                                                    "--nproc_per_node", "2", "--master_port", "29655"]
        cmd = [*launcher, "-m", "smapdown.workflows.train", "--low", folder, "--high", folder,
               "--validation-days", "0", "--epochs", "3", "--patches", "64", "--batch-size", "16",
               "--patch", "32", "--seed", "1", "-o", os.path.join(tmp, f"ddp{n}.pt"), "--report", report]
        with Others() as o:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        with open(report) as fh:
            hist = json.load(fh)["history"]
        secs = min(h["seconds"] for h in hist[1:])  # epoch 1 creates oneDNN's kernels
        out.append({"processes": n, "epoch_seconds": secs, "patches_per_s": 64 / secs, "others": o.value})
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the globe, the archive and DDP rows")
    ap.add_argument("--tiny", action="store_true", help="toy windows (100 and 300 km) instead of the areas, the "
                    "comparisons and tries on the 300 km one; implies --quick (a test of this script, not a "
                    "benchmark)")
    ap.add_argument("--products", type=int, default=3, help="archive rows: product files (x2 passes)")
    ap.add_argument("--threads", type=int, help="pin this run (and the globe's child) to N cores, torch N threads "
                    "(the ceiling is then N cores' too; the archive and DDP rows use their own processes)")
    ap.add_argument("--no-scaleout", action="store_true", help="skip the archive and DDP rows")
    ap.add_argument("--json", default=OUT)
    ap.add_argument("--child-globe", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.quick = args.quick or args.tiny
    return args


def precision_rows(scene, area: list[dict], label: str, rows: slice, cols: slice) -> dict:
    """bf16 vs fp32 on one area (the bf16 row is in ``area`` already): the differences and the fp32 time."""
    fp32 = downscale_row(crop(scene, rows, cols), label, False)
    bf16 = next(a for a in area if a["area"] == label)
    diff = np.abs(bf16["cnn"] - fp32["cnn"])
    diff = diff[np.isfinite(diff)]
    err = float(diff.max())
    print(f"  bf16 vs fp32 on the {label}: max |diff| {err:.4f} K", flush=True)
    return {"bf16_vs_fp32_max_abs_K_continent": err, "bf16_vs_fp32_rms_K_continent": float(np.sqrt(np.mean(diff ** 2))),
            "bf16_vs_fp32_p999_K_continent": float(np.quantile(diff, 0.999)), "fp32_continent_seconds": fp32["seconds"],
            "compare_area": label}


def globe_row() -> dict:
    """The global day in a fresh process (its own peak RSS)."""
    with Others() as o:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child-globe", json.dumps({"tile": 256})],
                           capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-3000:])
    globe = json.loads(p.stdout.strip().splitlines()[-1])
    return {"area": "globe", "precision": "bf16", **globe, "others": o.value}


def add_ratios(res: dict, area: list[dict], flop_px: float) -> None:
    """Ideal times, time / ideal, fractions of the ceiling and scaling efficiencies, into ``res``."""
    ceil = res["ceiling"]
    for a in area:
        a.pop("cnn", None)
        a["ideal_seconds"] = a["valid_px"] * flop_px / (ceil["bf16"] * 1e9)
        a["time_over_ideal"] = a["seconds"] / a["ideal_seconds"]
        a["mpx_s_valid"] = a["valid_px"] / a["seconds"] / 1e6
    res["area"] = area
    for t in res["tries"]:
        t["fraction_of_bf16_ceiling"] = t["gflop_s_executed"] / ceil["bf16"]
        t["time_over_ideal"] = t["seconds"] / (t["valid_px"] * flop_px / (ceil["bf16"] * 1e9))
    if "archive" in res:
        one, two = res["archive"]
        res["archive_scaling_efficiency"] = two["products_per_hour"] / (2 * one["products_per_hour"])
    if "ddp" in res:
        one, two = res["ddp"]
        res["ddp_scaling_efficiency"] = two["patches_per_s"] / (2 * one["patches_per_s"])


def main() -> None:
    args = parse_args()
    if args.child_globe:
        print(json.dumps(globe_child(json.loads(args.child_globe))))
        return
    if args.threads:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:max(1, args.threads)])
        torch.set_num_threads(len(os.sched_getaffinity(0)))
    t_start = time.perf_counter()
    busy0 = other_load()
    print(f"smapdown scale benchmark {code_version()} | torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads on {os.cpu_count()} cores | {cpu_name()} [{cpu_flags()}]", flush=True)
    print(f"  other processes keep {busy0:.2f} of {os.cpu_count()} cores busy (a SHARED machine: rates are "
          "compared with the ceiling measured in this run)", flush=True)
    c0 = ceilings(2, 512 if args.tiny else 4096)
    print(f"  ceiling at start: fp32 {c0['fp32']:.0f}, bf16 {c0['bf16']:.0f} GFLOP/s", flush=True)
    model, card = load_model(DEFAULT_TB_MODEL)
    flop_px = 2.0 * model.macs_per_pixel
    scene, _, _ = global_scene()
    res: dict = {"when": dt.datetime.now().isoformat(timespec="seconds"), "cpu": cpu_name(), "flags": cpu_flags(),
                 "torch": torch.__version__, "flop_per_px": flop_px, "ceiling_start": c0, "tiny": args.tiny}
    areas, compare = (TINY_AREAS, "300 km") if args.tiny else (AREAS, "continent")
    area = []
    for label, (r, c) in areas.items():
        if label != "globe":
            area.append(downscale_row(crop(scene, r, c), label, True))
            print(f"  area {label} done", flush=True)
    res.update(precision_rows(scene, area, compare, *areas[compare]))
    res["tries"] = tries(crop(scene, *areas[compare]), model, card, flop_px, 48 if args.tiny else 288)
    print("  tries done", flush=True)
    if not args.quick:
        area.append(globe_row())
        print("  globe done", flush=True)
    if not args.quick and not args.no_scaleout:
        with tempfile.TemporaryDirectory(prefix="smapdown-scale-") as tmp:
            res["archive"] = archive_rows(tmp, args.products)
            print("  archive done", flush=True)
            res["ddp"] = ddp_rows(tmp)
            print("  ddp done", flush=True)
    c1 = ceilings(2, 512 if args.tiny else 4096)
    res["ceiling_end"] = c1
    res["ceiling"] = {k: max(c0[k], c1[k]) for k in ("fp32", "bf16")}
    add_ratios(res, area, flop_px)
    res["other_processes_cores_busy"] = [busy0, other_load()]
    res["seconds"] = time.perf_counter() - t_start
    print(report(res))
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as fh:
        json.dump(res, fh, indent=1)
    print(f"Results written to {args.json} ({res['seconds']:.0f} s in all).")


def report(r: dict) -> str:
    """The table the README quotes."""
    c = r["ceiling"]
    lines = [f"ceiling (best of run start/end): fp32 {c['fp32']:.0f}, bf16 {c['bf16']:.0f} GFLOP/s; other "
             f"processes kept {r['other_processes_cores_busy'][0]:.2f} / {r['other_processes_cores_busy'][1]:.2f} "
             "cores busy (start / end)", "",
             "| area (bf16, bundled poster net, downscale incl. mean preservation) | valid 9 km px | time | "
             "ideal | time / ideal | others |", "|---|---|---|---|---|---|"]
    for a in r["area"]:
        extra = f", peak RSS {a['rss_peak_mb']:.0f} MB" if "rss_peak_mb" in a else ""
        lines.append(f"| {a['area']} ({a['grid'][0]} x {a['grid'][1]} px{extra}) | {a['valid_px']:,} | "
                     f"{a['seconds']:.2f} s | {a['ideal_seconds']:.3f} s | {a['time_over_ideal']:.1f} | "
                     f"{a['others']:.2f} |")
    where = r.get("compare_area", "continent")
    lines += ["", f"bf16 vs fp32 ({where}, after mean preservation): rms "
              f"{r['bf16_vs_fp32_rms_K_continent']:.4f} K, 99.9th percentile {r['bf16_vs_fp32_p999_K_continent']:.4f}"
              f" K, max {r['bf16_vs_fp32_max_abs_K_continent']:.4f} K", "",
              f"| try ({where}, predict_tiled bf16) | tiles | executed / valid px | time | GFLOP/s executed | "
              "fraction of bf16 ceiling | time / ideal | others |", "|---|---|---|---|---|---|---|---|"]
    for t in r["tries"]:
        lines.append(f"| {t['try']} ({t['threads']} thr) | {t['tiles']} | {t['executed_px'] / t['valid_px']:.2f} | "
                     f"{t['seconds']:.2f} s | {t['gflop_s_executed']:.0f} | {t['fraction_of_bf16_ceiling']:.2f} | "
                     f"{t['time_over_ideal']:.1f} | {t['others']:.2f} |")
    if "archive" in r:
        lines += ["", "| archive (continent-sized SPL3SMP files, AM+PM, bf16, 1 torch thread/product) | products | "
                  "time | products/hour | others |", "|---|---|---|---|---|"]
        for a in r["archive"]:
            lines.append(f"| {a['workers']} Dask worker(s) | {a['products']} | {a['seconds']:.1f} s | "
                         f"{a['products_per_hour']:.0f} | {a['others']:.2f} |")
        lines.append(f"scaling efficiency 2 vs 1 workers: {r['archive_scaling_efficiency']:.2f}")
    if "ddp" in r:
        lines += ["", "| DDP training (poster net, batch 16 x 32^2, gloo) | epoch of 4 steps | patches/s | others |",
                  "|---|---|---|---|"]
        for d in r["ddp"]:
            lines.append(f"| {d['processes']} process(es) | {d['epoch_seconds']:.2f} s | {d['patches_per_s']:.1f} | "
                         f"{d['others']:.2f} |")
        lines.append(f"scaling efficiency 2 vs 1 processes: {r['ddp_scaling_efficiency']:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
