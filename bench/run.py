"""smapdown benchmark: this machine's GEMM ceiling, then the CNN's inference, a global 9 km day and training,
each as a fraction of the ceiling measured in the same run.

usage: bench/run.py [--quick | --tiny] [--global {fp32,bf16,both,none}] [--json PATH]   (or: make bench)

Prints an aligned table and writes the numbers to build/bench-results.json. See bench/README.md for what
each row means. Timings on a shared 2-core machine are noisy: the ceiling is measured at the start and at
the end of the run and the load average is printed with it, so a disturbed run shows.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np
import torch

from smapdown.model.io import Band, ModelCard, Normalisation, code_version, save_model
from smapdown.model.network import DownscaleCNN, use_all_cores

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

GEMM_N = 4096
RESULTS = os.path.join(ROOT, "build", "bench-results.json")


@dataclasses.dataclass(frozen=True)
class Sizes:
    """What each section runs on. The defaults are the benchmark; ``TINY`` (``--tiny``) runs every code path
    on toy sizes in seconds, for tests/test_scripts_bench.py: its rates say nothing about this machine."""

    gemm_n: int = GEMM_N
    infer_size: int = 512  # px, square input of predict_tiled
    infer_tile: int = 256
    infer_features: int = 64
    train_days: int = 4
    train_size: int = 128  # px, square days of synthetic training data
    train_patches: int = 32  # per epoch
    train_batch: int = 16
    train_patch: int = 32
    train_features: int = 64
    global_window: tuple[int, int, int, int] | None = None  # (row, col, rows, cols) of M36; None: the globe
    global_tile: int = 256


TINY = Sizes(gemm_n=256, infer_size=48, infer_tile=32, infer_features=4, train_days=2, train_size=32,
             train_patches=8, train_batch=4, train_patch=16, train_features=4, global_window=(80, 207, 8, 8),
             global_tile=32)


# --------------------------------------------------------------------------------------------- helpers
def make_card(model: DownscaleCNN) -> ModelCard:
    """A valid model card for a randomly initialised TB network (what predict_tiled / load_model need)."""
    n_in, n_out = model.in_channels, model.out_channels
    names = ["tb_v", "tb_h"] + [f"aux{i}" for i in range(n_in - 2)]
    mean = (255.0, 195.0) + (0.0,) * (n_in - 2)
    std = (15.0, 20.0) + (1.0,) * (n_in - 2)
    return ModelCard.for_network(
        model.config, inputs=[Band(n, "K", "residual" if i < n_out else "predictor") for i, n in enumerate(names)],
        outputs=[Band(n, "K", "target") for n in names[:n_out]], input_norm=Normalisation(mean, std),
        output_norm=Normalisation(mean[:n_out], std[:n_out]), code_version=code_version(),
        training={"note": "random initialisation (benchmark)"})


def make_net(features: int = 64) -> DownscaleCNN:
    torch.manual_seed(0)
    return DownscaleCNN(features=features).eval()


def net_label(features: int) -> str:
    return "poster net (f=64, 7 groups)" if features == 64 else f"small net (f={features}, 7 groups)"


def timed(fn, reps: int, warmup: int = 1) -> float:
    """Best wall time of ``reps`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def gemm_rate(dtype: torch.dtype, reps: int, n: int = GEMM_N) -> float:
    """GFLOP/s of an n x n x n matmul, best of ``reps``."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g).to(dtype)
    b = torch.randn(n, n, generator=g).to(dtype)
    t = timed(lambda: torch.mm(a, b), reps)
    return 2.0 * n ** 3 / t / 1e9


def ceilings(quick: bool, n: int = GEMM_N) -> dict:
    with Others() as o:
        out = {"fp32": gemm_rate(torch.float32, 2 if quick else 4, n),
               "bf16": gemm_rate(torch.bfloat16, 4 if quick else 8, n)}
    return {**out, "loadavg_1min": os.getloadavg()[0], "others": o.value}


class Others:
    """Cores kept busy by OTHER processes over an interval: all busy CPU time (/proc/stat) minus this
    process's and its children's CPU time, per second of wall time. NaN where /proc is missing."""

    def __init__(self) -> None:
        self.value = float("nan")

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:8]]
        busy = (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
        own = sum(getattr(resource.getrusage(w), k) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for k in ("ru_utime", "ru_stime"))
        return busy, own, time.perf_counter()

    def __enter__(self) -> Others:
        try:
            self._start = self._sample()
        except (OSError, ValueError, IndexError):
            self._start = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._start is not None:
            b1, o1, t1 = self._sample()
            b0, o0, t0 = self._start
            self.value = max(0.0, ((b1 - b0) - (o1 - o0)) / max(t1 - t0, 1e-9))


def other_load(seconds: float = 1.0) -> float:
    """Cores kept busy by other processes while this one sleeps for ``seconds``."""
    with Others() as o:
        time.sleep(seconds)
    return o.value


def rss_now_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return ""
    return " ".join(flag for flag in ("avx512f", "avx512_bf16", "amx_bf16") if f" {flag}" in text)


# ------------------------------------------------------------------------------------------- inference
def bench_inference(quick: bool, size: int = 512, tile: int = 256, features: int = 64) -> list[dict]:
    """predict_tiled on a size x size input with the poster net (or ``features``), fp32 then bf16."""
    from smapdown.model.inference import predict_tiled

    net = make_net(features)
    card = make_card(net)
    rng = np.random.default_rng(0)
    x = (np.array([255.0, 195.0])[:, None, None]
         + rng.normal(0, 10, (2, size, size))).astype(np.float32)
    halo = net.receptive_radius + 1
    executed = 0
    for r0 in range(0, size, tile):
        for c0 in range(0, size, tile):
            executed += ((min(size, r0 + tile + halo) - max(0, r0 - halo))
                         * (min(size, c0 + tile + halo) - max(0, c0 - halo)))
    flop_px = 2.0 * net.macs_per_pixel
    rows = []
    for bf16 in (False, True):
        with Others() as o:
            t = timed(lambda bf16=bf16: predict_tiled(net, card, x, tile=tile, device="cpu", bf16=bf16),
                      reps=1 if quick else (2 if not bf16 else 3))
        rows.append({"precision": "bf16" if bf16 else "fp32", "seconds": t, "out_pixels": size * size,
                     "others": o.value,
                     "executed_pixels": executed, "mpx_s": size * size / t / 1e6,
                     "gflop_s": executed * flop_px / t / 1e9, "config": f"{net_label(features)}, {size}x{size}, "
                     f"tile {tile} (+{halo} halo)"})
    return rows


# -------------------------------------------------------------------------------------------- training
def bench_training(quick: bool, sizes: Sizes = Sizes()) -> list[dict]:
    """model.train.train on synthetic days, default poster net, batch 16 x 32^2, fp32 then bf16."""
    from smapdown.model.train import TrainConfig, TrainingData, train

    rng = np.random.default_rng(0)
    days, size = sizes.train_days, sizes.train_size
    x = (np.array([255.0, 195.0])[None, :, None, None]
         + rng.normal(0, 10, (days, 2, size, size))).astype(np.float32)
    y = (x + rng.normal(0, 2, x.shape)).astype(np.float32)
    dates = [datetime.date(2020, 1, 1) + datetime.timedelta(days=i) for i in range(days)]
    data = TrainingData(x, y, dates, ["tb_v", "tb_h"], ["tb_v", "tb_h"], ["K", "K"], ["K", "K"])
    per_epoch, epochs = sizes.train_patches, (3 if quick else 5)  # the best epoch after the first counts
    batch, patch, features = sizes.train_batch, sizes.train_patch, sizes.train_features
    flop_px = 2.0 * make_net(features).macs_per_pixel
    rows = []
    for bf16 in (False, True):
        cfg = TrainConfig(epochs=epochs, patches_per_epoch=per_epoch, batch_size=batch, patch=patch, device="cpu",
                          bf16=bf16, features=features)
        with Others() as o:
            res = train(data, None, cfg)
        t = min(h["seconds"] for h in res.history[1:])  # skip epoch 1: oneDNN primitive creation
        px = per_epoch * patch * patch
        rows.append({"precision": "bf16" if bf16 else "fp32", "seconds": t, "patches": per_epoch, "others": o.value,
                     "step_seconds": t / (per_epoch / batch), "patches_s": per_epoch / t, "mpx_s": px / t / 1e6,
                     "gflop_s": 3.0 * px * flop_px / t / 1e9,
                     "config": f"{net_label(features)}, epoch of {per_epoch // batch} Adam steps of "
                               f"{batch}x{patch}^2, best of {epochs - 1}"})
    return rows


# -------------------------------------------------------------------------------------- global 9 km day
def global_scene(seed: int = 0):
    """A synthetic global M36 TB scene: ~30 % land from a smooth random field, ocean NaN, swath gaps."""
    from smapdown.core.grid import Grid
    from smapdown.core.scene import Scene, Variable

    grid = Grid.global_grid("M36")
    rows, cols = grid.shape
    rng = np.random.default_rng(seed)

    def smooth(scale: float) -> np.ndarray:
        spec = np.fft.rfft2(rng.standard_normal((rows, cols)))
        ky = np.fft.fftfreq(rows)[:, None]
        kx = np.fft.rfftfreq(cols)[None, :]
        f = np.fft.irfft2(spec * np.exp(-(kx ** 2 + ky ** 2) * (scale ** 2)), s=(rows, cols))
        return (f - f.mean()) / f.std()

    # continent-sized blobs (~100 M36 cells across) with rough coasts; the top 30 % is land, as on Earth
    field = smooth(120.0) + 0.15 * smooth(8.0)
    land = field > np.quantile(field, 0.70)
    wet = smooth(6.0)
    tb_v = np.clip(255.0 + 12.0 * wet, 200.0, 290.0)
    tb_h = np.clip(tb_v - 25.0 - 8.0 * smooth(4.0), 200.0, 290.0)
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    # SMAP-like diagonal swath gaps between orbits at low latitudes (one 6-cell stripe every 60 columns)
    gap = (np.abs(r - rows / 2) < rows * 0.3) & (((c + 0.5 * r) % 60) < 6)
    nodata = ~land | gap
    tb_v[nodata], tb_h[nodata] = np.nan, np.nan
    variables = {k: Variable(k, v.astype(np.float32), "K", k, k, "synthetic")
                 for k, v in (("tb_v", tb_v), ("tb_h", tb_h))}
    scene = Scene("synthetic-global", grid, variables, date=datetime.date(2020, 6, 1), pass_="AM")
    return scene, float(land.mean()), float((~nodata).mean())


def window_scene(scene, window: tuple[int, int, int, int] | None):
    """``scene`` cut to ``window`` = (row, col, rows, cols) of its grid; the scene itself when None."""
    if window is None:
        return scene
    from smapdown.core.scene import Scene

    r, c, h, w = window
    grid = scene.grid.window(r, c, h, w)
    variables = {k: dataclasses.replace(v, data=v.data[r:r + h, c:c + w].copy()) for k, v in scene.variables.items()}
    return Scene(scene.product, grid, variables, date=scene.date, pass_=scene.pass_)


class _Clock:
    """Feedback that timestamps downscale's phases (its info lines and the CNN's last tile)."""

    def __init__(self) -> None:
        from smapdown.core.feedback import Feedback

        outer = self

        class F(Feedback):
            def info(self, message: str) -> None:
                outer.marks.append((message.split(" ")[0], time.perf_counter()))

            def progress(self, percent: float) -> None:
                outer.last_progress = time.perf_counter()

        self.marks: list[tuple[str, float]] = []
        self.last_progress = float("nan")
        self.feedback = F()

    def at(self, word: str) -> float:
        return next((t for w, t in self.marks if w == word), float("nan"))


def global_child(cfg: dict) -> dict:
    """Run in a fresh process so its peak RSS is the job's own: downscale + write one global 9 km day."""
    from smapdown.core.raster import BandSpec, write_geotiff
    from smapdown.workflows.downscale import downscale

    threads = use_all_cores()
    scene, land_frac, valid_frac = global_scene()
    scene = window_scene(scene, cfg.get("window"))
    net = make_net(cfg["features"])
    tile = cfg["tile"]
    with tempfile.TemporaryDirectory(prefix="smapdown-bench-") as tmp:
        model_path = os.path.join(tmp, "bench_tb.pt")
        save_model(model_path, net, make_card(net))
        rss_base = rss_now_mb()
        tracemalloc.start()
        clock = _Clock()
        t0 = time.perf_counter()
        res = downscale(scene, model_path=model_path, device="cpu", tile=tile, feedback=clock.feedback,
                        bf16=bool(cfg["bf16"]))
        t1 = time.perf_counter()
        numpy_peak_downscale = tracemalloc.get_traced_memory()[1] / 2 ** 20
        rss_after_downscale = peak_rss_mb()
        out = os.path.join(tmp, "global_tb9.tif")
        bands = [BandSpec("tb_v", "K", "brightness temperature, V"), BandSpec("tb_h", "K", "brightness temperature, H")]
        write_geotiff(out, res.grid, list(res.cnn), bands, {"product": "benchmark"})
        t2 = time.perf_counter()
        numpy_peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
        tif_mb = os.path.getsize(out) / 2 ** 20
    H, W = res.grid.shape
    halo = net.receptive_radius + 1
    from smapdown.model.inference import plan_cells

    # the tiles predict_tiled ran (adaptive: shrunk to the valid pixels and split), with their halos; the
    # shrinking layers compute less than this (bench/scale.py estimates that)
    cells = plan_cells(np.isfinite(res.cnn).all(axis=0), tile, halo)
    total = len(cells)
    computed = sum(1 for cell in cells if cell)
    executed = sum((min(H, r1 + halo) - max(0, r0 - halo)) * (min(W, c1 + halo) - max(0, c0 - halo))
                   for cell in cells for r0, r1, c0, c1 in cell)
    t_up, t_cnn = clock.at("Upsampling"), clock.at("Running")
    cnn_s = clock.last_progress - t_cnn
    return {
        "config": f"{net_label(cfg['features'])}, {'bf16' if cfg['bf16'] else 'fp32'}, tile {tile}",
        "features": cfg["features"], "precision": "bf16" if cfg["bf16"] else "fp32", "tile": tile,
        "threads": threads,
        "grid_m09": [H, W], "land_fraction": land_frac, "valid_fraction_m36": valid_frac,
        "valid_pixels_m09": int(np.isfinite(res.cnn[0]).sum()),
        "tiles_total": total, "tiles_computed": computed, "tiles_skipped_fraction": 1 - computed / total,
        "executed_pixels": executed,
        "seconds_downscale": t1 - t0, "seconds_write": t2 - t1, "seconds_total": t2 - t0,
        "seconds_load_and_upsample": t_cnn - t0, "seconds_upsample": t_cnn - t_up, "seconds_cnn": cnn_s,
        "seconds_mean_preserve_and_metrics": t1 - clock.last_progress,
        "cnn_gflop_s": executed * 2.0 * net.macs_per_pixel / cnn_s / 1e9,
        "cnn_mpx_s": H * W / cnn_s / 1e6,
        "rss_baseline_mb": rss_base, "rss_peak_after_downscale_mb": rss_after_downscale,
        "rss_peak_mb": peak_rss_mb(), "numpy_peak_downscale_mb": numpy_peak_downscale,
        "numpy_peak_mb": numpy_peak, "geotiff_mb": tif_mb,
    }


def bench_global(features: int, bf16: bool, tile: int = 256,
                 window: tuple[int, int, int, int] | None = None) -> dict:
    cfg = {"features": features, "bf16": bf16, "tile": tile, "window": window}
    with Others() as o:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child-global", json.dumps(cfg)],
                              capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"global-day child failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "others": o.value}


# ---------------------------------------------------------------------------------------------- output
def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    right = {3, 4, 5, 6, 7}

    def fmt(r: list[str]) -> str:
        return "  ".join(str(v).rjust(w) if i in right else str(v).ljust(w)
                         for i, (v, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep] + [fmt(r) for r in rows])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer repetitions and a small net (f=16, fp32) for the global day")
    ap.add_argument("--tiny", action="store_true",
                    help="every section on toy sizes in seconds (a test of this script, not a benchmark: "
                         "implies --quick; the global day is an 8 x 8 cell window with a f=4 net)")
    ap.add_argument("--global", dest="global_", choices=["fp32", "bf16", "both", "none"], default=None,
                    help="precision(s) of the global-day run (default: bf16 with the poster net, fp32 with the "
                         "small net under --quick; 'both' adds the fp32 poster net, the path downscale() takes "
                         "today, ~2-4x longer)")
    ap.add_argument("--threads", type=int, default=None,
                    help="restrict this run (and its global-day child) to N cores via CPU affinity; torch then "
                         "uses N threads (default: every core, as the plugin does)")
    ap.add_argument("--json", default=RESULTS, help=f"where to write the results (default {RESULTS})")
    ap.add_argument("--child-global", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.quick = args.quick or args.tiny
    return args


def print_header(threads: int, busy0: float) -> None:
    print(f"smapdown benchmark {code_version()} | torch {torch.__version__}, {threads} threads on "
          f"{os.cpu_count()} cores | {cpu_name()} [{cpu_flags()}]", flush=True)
    print("NOTE: timings are noisy (a shared small machine); every rate is compared with the GEMM ceiling "
          "measured in this same run.", flush=True)
    print(f"  other processes keep {busy0:.2f} of {os.cpu_count()} cores busy", flush=True)
    if busy0 > 0.3 and threads >= (os.cpu_count() or 1):
        print("  WARNING: a core is taken by another process and torch runs one thread per core: OpenMP "
              "threads wait for the descheduled one at every barrier, so small-kernel work (training on "
              "32x32 patches) can run several times slower than on an idle machine. Rerun when idle, or "
              "compare with --threads 1.", flush=True)


def run_sections(args: argparse.Namespace, sizes: Sizes) -> dict:
    """Ceiling at start, inference, training, the global day(s), ceiling at end: the raw measurements."""
    c0 = ceilings(args.quick, sizes.gemm_n)
    print(f"  ceiling at start: fp32 {c0['fp32']:.0f}, bf16 {c0['bf16']:.0f} GFLOP/s "
          f"(load {c0['loadavg_1min']:.2f})", flush=True)
    inf = bench_inference(args.quick, sizes.infer_size, sizes.infer_tile, sizes.infer_features)
    print("  inference done", flush=True)
    trn = bench_training(args.quick, sizes)
    print("  training done", flush=True)
    which = args.global_ or ("fp32" if args.quick else "bf16")
    features = 4 if args.tiny else (16 if args.quick else 64)
    glob = []
    for bf16 in {"fp32": [False], "bf16": [True], "both": [False, True], "none": []}[which]:
        glob.append(bench_global(features, bf16, sizes.global_tile, sizes.global_window))
        print(f"  global day ({glob[-1]['config']}) done", flush=True)
    c1 = ceilings(args.quick, sizes.gemm_n)
    print(f"  ceiling at end:   fp32 {c1['fp32']:.0f}, bf16 {c1['bf16']:.0f} GFLOP/s "
          f"(load {c1['loadavg_1min']:.2f})", flush=True)
    return {"c0": c0, "c1": c1, "inf": inf, "trn": trn, "glob": glob}


def _others(v: float) -> str:
    return f"{v:.2f}" + (" !" if v > 0.3 else "")


def result_rows(m: dict, ceil: dict[str, float], gemm_n: int) -> list[list[str]]:
    """The table's rows: ceilings, inference, the global day(s) with phases, tiles and memory, training."""
    c0, c1 = m["c0"], m["c1"]

    def frac(gflop: float, prec: str) -> str:
        return f"{gflop / ceil[prec]:.2f} of {prec}"

    rows = [
        ["ceiling", f"fp32 GEMM {gemm_n}^2", "torch.mm, best of run start/end",
         f"{2 * gemm_n ** 3 / ceil['fp32'] / 1e9:.3f} s", "", f"{ceil['fp32']:.0f}", "1.00 of fp32",
         f"{_others(c0['others'])} / {_others(c1['others'])}"],
        ["ceiling", f"bf16 GEMM {gemm_n}^2", "torch.mm, best of run start/end",
         f"{2 * gemm_n ** 3 / ceil['bf16'] / 1e9:.3f} s", "", f"{ceil['bf16']:.0f}", "1.00 of bf16", ""],
    ]
    for r in m["inf"]:
        rows.append(["inference", f"predict_tiled {r['precision']}", r["config"], f"{r['seconds']:.2f} s",
                     f"{r['mpx_s']:.3f} Mpx/s", f"{r['gflop_s']:.0f}", frac(r["gflop_s"], r["precision"]),
                     _others(r["others"])])
    for g in m["glob"]:
        rows.append(["global 9km day", f"downscale {g['precision']}", g["config"],
                     f"{g['seconds_downscale']:.1f} s", f"{g['cnn_mpx_s']:.3f} Mpx/s", f"{g['cnn_gflop_s']:.0f}",
                     frac(g["cnn_gflop_s"], g["precision"]), _others(g["others"])])
        rows.append(["", "  phases", "load+upsample / CNN / mean-pres.+metrics / write",
                     f"{g['seconds_load_and_upsample']:.1f}/{g['seconds_cnn']:.1f}/"
                     f"{g['seconds_mean_preserve_and_metrics']:.1f}/{g['seconds_write']:.1f} s", "", "", "", ""])
        rows.append(["", "  tiles", f"{g['grid_m09'][0]}x{g['grid_m09'][1]} px, land {g['land_fraction']:.0%}, "
                     f"valid {g['valid_pixels_m09'] / (g['grid_m09'][0] * g['grid_m09'][1]):.0%} of px",
                     f"{g['tiles_computed']}/{g['tiles_total']} run", f"{g['tiles_skipped_fraction']:.0%} skipped",
                     "", "", ""])
        rows.append(["", "  memory", f"peak RSS (baseline {g['rss_baseline_mb']:.0f} MB: python+torch+scene)",
                     f"{g['rss_peak_mb']:.0f} MB", f"numpy {g['numpy_peak_mb']:.0f} MB", "",
                     "target < 2048 MB", ""])
    for r in m["trn"]:
        rows.append(["training", f"train() {r['precision']}", r["config"], f"{r['step_seconds']:.3f} s/step",
                     f"{r['patches_s']:.1f} patch/s", f"{r['gflop_s']:.0f}", frac(r["gflop_s"], r["precision"]),
                     _others(r["others"])])
        rows[-1][4] += f", {r['mpx_s']:.3f} Mpx/s"
    return rows


def print_notes(m: dict, rows: list[list[str]], spread: dict[str, float], busy: tuple[float, float],
                speed: tuple[float, float]) -> None:
    """The lines under the table: bf16 speed-ups, drift of the ceiling, what the columns count, warnings."""
    c0, c1 = m["c0"], m["c1"]
    print(f"bf16 speed-up: inference {speed[0]:.2f}x, training {speed[1]:.2f}x (fp32 time / bf16 time).")
    print(f"Ceiling drift between run start and end: fp32 {spread['fp32']:.0%}, bf16 {spread['bf16']:.0%}; "
          f"load average {c0['loadavg_1min']:.2f} -> {c1['loadavg_1min']:.2f}; other processes' cores busy "
          f"{busy[0]:.2f} -> {busy[1]:.2f}. Fractions use the higher ceiling.")
    print("others: cores kept busy by other processes during the row (ceiling: at start / at end); '!' marks a "
          "row measured while another process held a core (see bench/README.md, Noise).")
    print("GFLOP/s counts FLOPs executed (2 x macs_per_pixel per pixel, halo included; training 3x forward); "
          "Mpx/s counts output pixels.")
    flagged = [f"{r[0]} {r[1].strip()}" for r in rows if "!" in r[-1]]
    if flagged:
        print(f"WARNING: {len(flagged)} row(s) ran while another process held a core ({', '.join(flagged)}); "
              "their rates and fractions understate this machine. Rerun when it is idle, or with --threads 1.")


def main() -> None:
    args = parse_args()
    if args.child_global:
        print(json.dumps(global_child(json.loads(args.child_global))))
        return
    if args.threads:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, cpus[:max(1, args.threads)])
        torch.set_num_threads(len(os.sched_getaffinity(0)))
    sizes = TINY if args.tiny else Sizes()
    threads = use_all_cores()
    t_start = time.perf_counter()
    busy0 = other_load()
    print_header(threads, busy0)
    m = run_sections(args, sizes)
    busy1 = other_load()
    ceil = {k: max(m["c0"][k], m["c1"][k]) for k in ("fp32", "bf16")}
    spread = {k: abs(m["c0"][k] - m["c1"][k]) / ceil[k] for k in ("fp32", "bf16")}
    rows = result_rows(m, ceil, sizes.gemm_n)
    print()
    print(table(rows, ["section", "row", "config", "time", "throughput", "GFLOP/s", "fraction of ceiling",
                       "others"]))
    print()
    inf, trn = m["inf"], m["trn"]
    speed_inf = inf[0]["seconds"] / inf[1]["seconds"]
    speed_trn = trn[0]["seconds"] / trn[1]["seconds"]
    print_notes(m, rows, spread, (busy0, busy1), (speed_inf, speed_trn))
    results = {"when": datetime.datetime.now().isoformat(timespec="seconds"), "quick": args.quick,
               "tiny": args.tiny,
               "torch": torch.__version__, "threads": threads, "cpu": cpu_name(), "cpu_flags": cpu_flags(),
               "ceiling_gflop_s": ceil, "ceiling_start": m["c0"], "ceiling_end": m["c1"], "inference": inf,
               "training": trn, "global_day": m["glob"], "seconds": time.perf_counter() - t_start,
               "other_processes_cores_busy": [busy0, busy1], "bf16_speedup": {"inference": speed_inf,
                                                                              "training": speed_trn},
               "note": "timings are noisy: shared machine; compare fractions of the ceiling, not raw rates"}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
    print(f"Results written to {os.path.relpath(args.json, ROOT)} ({time.perf_counter() - t_start:.0f} s in all).")


if __name__ == "__main__":
    main()
