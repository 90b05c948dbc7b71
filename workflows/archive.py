"""Archive runs: downscale (or estimate soil moisture for) many SMAP products, one Dask task per product.

In: a folder, a list or a date range of SMAP products (36 km TB: SPL1CTB, SPL2SMP(_NRT), SPL3SMP or M36 V/H
rasters). Out, in one folder:

* a Cloud-Optimised GeoTIFF per product, pass and quantity, named by date: ``<key>_<quantity>.tif`` where
  ``key`` is ``YYYYMMDD_<pass>`` for daily products (SPL3SMP AM/PM) and ``YYYYMMDDTHHMMSS_<A|D>`` for
  half-orbit products (the time in the file name), e.g. ``20150401_AM_tb_v.tif``;
* a GDAL VRT per quantity (``tb_v.vrt``, ``tb_h.vrt`` / ``soil_moisture.vrt``), one band per product in date
  order (band description ``<date> <pass>``), so a GIS opens the whole series as one layer;
* ``manifest.csv``: one row per product and pass with file, date, pass, status, seconds, the largest
  |4x4 block mean - 36 km TB| in K (case 1), device, worker, output files with their sizes and SHA-256.

Resumable: a rerun skips a product the manifest marks complete when its outputs still have the recorded size
(and checksum, by default) and were made with the same settings; anything else is redone. Outputs are
written to a temporary file and renamed into place, and a product counts as done only once its row is in the
manifest, so a run killed at any moment leaves no partial file under a final name, and the next run removes
the temporary files the killed one left.

Scheduling (``scheduler``): ``local`` (default of the command line) starts a ``distributed.LocalCluster`` of
worker processes, one per core; ``threads`` runs a Dask cluster inside this process with one thread per core
(what QGIS uses: its Python cannot start worker processes); ``serial`` runs the products one after another
without Dask; an address (``tcp://host:8786``) sends the tasks to an existing cluster (``dask scheduler`` on
one machine, ``dask worker tcp://host:8786 --nworkers <cores> --nthreads 1`` on each machine that sees the
input and output folders under the same paths; the scheduler and the workers must import smapdown, e.g. run
from the project's venv, where ``make setup`` links the checkout, or every task fails with a deserialization
error). Every product is
computed with the same number of torch threads (``threads``, default 1: one product per core is the fastest way
through an archive), so the files are the same bits whichever scheduler and however many workers made them. The
model is loaded once per worker process (a cache keyed by file, size, modification time and device).

Run ``python -m smapdown.workflows.archive --help`` for the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

from ..core.errors import Canceled, InputError, NoDataError, SmapdownError
from ..core.feedback import SILENT, Feedback, PrintFeedback
from .archive_plan import Job, Settings, _default_model, plan_jobs
from .archive_store import (
    DONE,
    FINAL,
    MANIFEST,
    QUANTITIES,
    build_vrts,
    clean_temporaries,
    folder_lock,
    read_manifest,
    sha256,
    verify,
    write_cogs,
    write_manifest,
)
from .archive_store import LOCK as LOCK  # re-exported: the lock file's name
from .cli import date_arg

SCHEDULERS = ("local", "threads", "serial")



# --- the task (runs on a worker) -----------------------------------------------------------------------
_MODELS: dict[tuple, tuple] = {}
_MODEL_LOCK = threading.RLock()
_LOADS = [0]


def cached_model(path: str, device: str = "auto") -> tuple:
    """(model, card) of ``path`` on ``device`` through this process's cache: an archive worker reads a model
    file once, not once per product (keyed by real path, size, mtime and device; thread-safe). The cached
    network is only used for inference, which leaves it as it found it."""
    from ..model.inference import resolve_device
    from ..model.io import load_model

    dev = str(resolve_device(device))
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns, dev)
    with _MODEL_LOCK:
        if key not in _MODELS:
            _MODELS[key] = load_model(path, device=dev)
            _LOADS[0] += 1
        return _MODELS[key]


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def run_product(job: Job, settings: Settings) -> dict:
    """Process one product (one Dask task): read, run the network, write the COGs; return its manifest row.

    Errors of the product (unreadable file, no LST of its date) become a row with status ``failed`` /
    ``missing_input`` and a message; a product without valid data in the extent is ``empty``.
    """
    from ..core.inputs import read_tb36
    from .downscale import downscale
    from .soil_moisture import estimate_soil_moisture

    t0 = time.perf_counter()
    row = {"key": job.key, "file": job.path, "date": job.date, "pass": job.pass_label, "status": "failed",
           "worker": _worker_name(), "settings": settings.fingerprint(), "message": ""}
    try:
        from ..model.inference import fixed_threads

        with fixed_threads(settings.threads):
            if settings.case == "sm" and not job.lst:
                row["status"] = "missing_input"
                raise InputError(f"no LST file of {job.date or 'this date'} for {job.path}")
            scene = read_tb36(job.path, settings.extent, settings.extent_crs, job.pass_,
                              ancillary=settings.ancillary)
            md = {"source_file": os.path.basename(job.path), "product": scene.product,
                  "date": (scene.date.isoformat() if scene.date else job.date), "pass": scene.pass_ or job.pass_label,
                  "model": os.path.basename(settings.model) if settings.model else "bundled",
                  "training_data": "simulated (see the model card)"}
            if settings.case == "tb":
                res = downscale(scene, settings.model, settings.device, settings.mean_preserve,
                                tile=settings.tile, bf16=settings.bf16, static_path=settings.static,
                                loaded=cached_model(settings.model or _default_model("tb"),
                                                             settings.device))
                arrays, grid, device = list(res.cnn), res.grid, res.device
                err = res.metrics["mean_preservation"]["max_abs_block_mean_minus_36km_K_output"]
                row["mean_preservation_error_K"] = f"{err:.6f}" if err == err else ""
            else:
                res = estimate_soil_moisture(scene, job.lst, settings.model, settings.grid,
                                             settings.device, tile=settings.tile, bf16=settings.bf16,
                                             static_path=settings.static,
                                             loaded=cached_model(settings.model or _default_model("sm"),
                                                                          settings.device))
                arrays, grid, device = [res.sm], res.grid, res.device
                md["lst_file"] = os.path.basename(job.lst)
                row["mean_preservation_error_K"] = ""
            outputs = write_cogs(settings.output, job.key, grid, arrays, QUANTITIES[settings.case], md)
        row.update(status="complete", device=device, outputs=";".join(os.path.basename(p) for p in outputs),
                   bytes=";".join(str(os.path.getsize(p)) for p in outputs),
                   sha256=";".join(sha256(p) for p in outputs))
    except NoDataError as exc:
        row.update(status="empty", message=str(exc))
    except SmapdownError as exc:
        row["message"] = str(exc)
    row["seconds"] = f"{time.perf_counter() - t0:.3f}"
    row["model_loads"] = str(_LOADS[0])
    row["computed_utc"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return row


# --- running ------------------------------------------------------------------------------------------
@dataclass
class Summary:
    """What an archive run did."""

    output: str
    manifest: str
    vrts: list[str]
    total: int
    complete: int
    skipped: int
    empty: int
    failed: int
    missing_input: int
    seconds: float
    workers: int
    scheduler: str
    products_per_hour: float
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One sentence for a log."""
        return (f"{self.total} products: {self.complete} computed, {self.skipped} skipped (done before), "
                f"{self.empty} without data, {self.missing_input} without LST, {self.failed} failed; "
                f"{self.seconds:.1f} s on {self.workers} worker(s) ({self.scheduler}), "
                f"{self.products_per_hour:.0f} products/hour computed")


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@contextlib.contextmanager
def _client(scheduler: str, workers: int) -> Iterator[object]:
    """A distributed Client for ``scheduler`` (closed, with its local cluster, on exit)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("Dask (packages dask and distributed) is not installed in this Python; install them "
                         "or use the scheduler 'serial'") from None
    if scheduler in ("local", "threads"):
        cluster = LocalCluster(n_workers=workers if scheduler == "local" else 1,
                               threads_per_worker=1 if scheduler == "local" else workers,
                               processes=scheduler == "local", dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        try:
            yield client
        finally:
            client.close()


def _results(jobs: Sequence[Job], settings: Settings, scheduler: str, workers: int,
             feedback: Feedback, info: dict | None = None) -> Iterator[dict]:
    """Rows of ``jobs`` as they finish, on the chosen scheduler; cancelling stops after the running tasks.
    ``info`` receives the number of workers that served them (``workers``)."""
    info = {} if info is None else info
    info["workers"] = 1 if scheduler == "serial" else workers
    if not jobs:
        return
    if scheduler == "serial":
        for job in jobs:
            feedback.check()
            yield run_product(job, settings)
        return
    with _client(scheduler, workers) as client:
        from distributed import as_completed

        if "://" in scheduler:
            info["workers"] = len(client.scheduler_info().get("workers", {}))
            feedback.info(f"Dask cluster at {scheduler}: {info['workers']} worker(s)")

        futures = {client.submit(run_product, job, settings, key=f"smapdown-{job.key}-{settings.fingerprint()}",
                                 pure=False): job for job in jobs}
        pending = as_completed(list(futures))
        try:
            while not pending.is_empty():
                if feedback.canceled():
                    raise Canceled("archive run cancelled; finished products are kept in the manifest and a "
                                   "rerun continues with the rest")
                if not pending.has_ready():
                    time.sleep(0.1)
                    continue
                fut = next(pending)
                job = futures[fut]
                try:
                    yield fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker, an unexpected error: recorded, not fatal
                    yield {"key": job.key, "file": job.path, "date": job.date, "pass": job.pass_label,
                           "status": "failed", "settings": settings.fingerprint(),
                           "message": f"{type(exc).__name__}: {exc}"}
        finally:
            client.cancel(list(futures))


def _check_options(case: str, lst, scheduler: str, grid: str, workers: int | None, threads: int) -> int:
    """The options of :func:`run_archive` that do not need a file; returns the number of workers."""
    if case not in QUANTITIES:
        raise InputError(f"case must be 'tb' or 'sm', not {case!r}")
    if case == "sm" and not lst:
        raise InputError("the soil-moisture case needs LST files (a folder or list) paired by date")
    if scheduler not in SCHEDULERS and "://" not in scheduler:
        raise InputError(f"scheduler must be one of {', '.join(SCHEDULERS)} or a Dask scheduler address "
                         f"like tcp://host:8786, not {scheduler!r}")
    if grid not in ("M03", "M09"):
        raise InputError(f"the soil-moisture grid must be M03 or M09, not {grid!r}")
    workers = int(workers or _default_workers())
    if workers < 1 or int(threads) < 1:
        raise InputError(f"workers and threads per product must be at least 1, got {workers} and {threads}")
    return workers


def _resume(jobs: Sequence[Job], old: dict[str, dict], output: str, fingerprint: str, checksum: bool,
            feedback: Feedback) -> tuple[dict[str, dict], list[Job]]:
    """The manifest rows to keep (other products', and this run's finished and verified ones, as ``skipped``)
    and the jobs still to compute."""
    rows: dict[str, dict] = {k: r for k, r in old.items() if k not in {j.key for j in jobs}}
    todo: list[Job] = []
    for job in jobs:
        r = old.get(job.key)
        if r and r.get("status") in FINAL:
            why = ("made with other settings or another model file" if r.get("settings") != fingerprint else
                   f"made from {r.get('file')}" if r.get("file") != job.path else
                   verify(r, output, checksum) if r["status"] in DONE else None)
            if why is None:
                rows[job.key] = dict(r, status="skipped" if r["status"] in DONE else r["status"])
                continue
            feedback.info(f"{job.key}: redone ({why})")
        todo.append(job)
    return rows, todo


def _compute(todo: list[Job], total: int, rows: dict[str, dict], settings: Settings, scheduler: str, workers: int,
             manifest: str, manifest_interval: float, feedback: Feedback) -> int:
    """Run ``todo``, putting each finished row into ``rows`` and the manifest (at most every ``manifest_interval``
    seconds, and always at the end); returns the number of workers that served them."""
    last_write = 0.0
    done = total - len(todo)
    info: dict = {"workers": 1 if scheduler == "serial" else workers}
    feedback.progress(100.0 * done / total)
    try:
        for row in _results(todo, settings, scheduler, workers, feedback, info):
            rows[row["key"]] = row
            done += 1
            msg = f"[{done}/{total}] {row['key']}: {row['status']}"
            if row.get("seconds"):
                msg += f" in {float(row['seconds']):.1f} s"
            if row.get("message"):
                msg += f" ({row['message']})"
            feedback.info(msg)
            feedback.progress(100.0 * done / total)
            if time.perf_counter() - last_write >= manifest_interval:
                write_manifest(manifest, list(rows.values()))
                last_write = time.perf_counter()
    finally:
        write_manifest(manifest, list(rows.values()))
    return info["workers"]


def _summary(this: list[dict], output: str, manifest: str, vrts: list[str], secs: float, workers: int,
             scheduler: str) -> Summary:
    count = {s: sum(r.get("status") == s for r in this) for s in ("complete", "skipped", "empty", "failed",
                                                                   "missing_input")}
    return Summary(output, manifest, vrts, len(this), count["complete"], count["skipped"], count["empty"],
                   count["failed"], count["missing_input"], round(secs, 3), workers, scheduler,
                   3600.0 * count["complete"] / secs if count["complete"] and secs > 0 else 0.0,
                   [f"{r['key']}: {r.get('message', '')}" for r in this if r.get("status") == "failed"])


def run_archive(inputs: str | os.PathLike | Sequence[str], output: str | os.PathLike, *, start: dt.date | None = None,
                end: dt.date | None = None, passes: Sequence[str] = ("AM", "PM"), case: str = "tb",
                lst: str | Sequence[str] | None = None, model: str | None = None, device: str = "auto",
                bf16: bool = False, tile: int = 256, mean_preserve: bool = True, extent=None,
                extent_crs: str | None = None, grid: str = "M03", static: str | None = None,
                scheduler: str = "local", workers: int | None = None, threads: int = 1, checksum: bool = True,
                manifest_interval: float = 1.0, feedback: Feedback = SILENT) -> Summary:
    """Run (or resume) an archive job; see the module docstring. Returns a :class:`Summary`.

    ``manifest_interval`` (s): the manifest is rewritten at most this often while products finish (and
    always at the end); a product finished but not yet in it when the run is killed is redone. Raises
    :class:`InputError` after writing the manifest and VRTs when some product failed (a rerun retries it).
    """
    from .soil_moisture import sm_model_ancillary

    t0 = time.perf_counter()
    workers = _check_options(case, lst, scheduler, grid, workers, threads)
    output = os.path.abspath(output)
    ancillary = tuple(sm_model_ancillary(model)) if case == "sm" else ()
    settings = Settings(output, case, os.path.abspath(model) if model else None, device, bool(bf16), int(tile),
                        bool(mean_preserve), tuple(extent) if extent else None, extent_crs, grid, static, ancillary,
                        int(threads))
    jobs = plan_jobs(inputs, start, end, passes, lst if case == "sm" else None, feedback)
    if not jobs:
        raise InputError(f"{inputs}: no product in the date range {start or '…'} to {end or '…'}")
    inside = [j.path for j in jobs if os.path.realpath(os.path.dirname(j.path)) == os.path.realpath(output)]
    if inside:
        raise InputError(f"{output}: holds the input {inside[0]}; write the archive outputs to a folder of their own")
    fingerprint = settings.fingerprint()
    manifest = os.path.join(output, MANIFEST)
    with folder_lock(output):
        left = clean_temporaries(output)
        if left:
            feedback.info(f"Removed {len(left)} temporary file(s) an interrupted run left in {output}")
        rows, todo = _resume(jobs, read_manifest(manifest), output, fingerprint, checksum, feedback)
        n_skip = len(jobs) - len(todo)
        where = scheduler if scheduler == "serial" or "://" in scheduler else f"{scheduler}, {workers} worker(s)"
        feedback.info(f"{len(jobs)} products: {n_skip} done before and verified, {len(todo)} to compute ({where})")
        served = _compute(todo, len(jobs), rows, settings, scheduler, workers, manifest, manifest_interval, feedback)
        # the VRTs stack every finished product in the folder, earlier runs' date ranges included
        vrts = build_vrts(output, [r for r in rows.values() if r.get("settings") == fingerprint and all(
            os.path.isfile(os.path.join(output, n)) for n in r.get("outputs", "").split(";") if n)],
                          QUANTITIES[case])
        clean_temporaries(output)
    this = [rows[j.key] for j in jobs]
    summary = _summary(this, output, manifest, vrts, time.perf_counter() - t0, served, scheduler)
    feedback.info(summary.line())
    computed = sum(float(r.get("seconds") or 0) for r in this if r.get("status") == "complete")
    if computed:
        feedback.info(f"Task time {computed:.1f} s in total, {computed / max(summary.complete, 1):.2f} s per product")
    if summary.failed:
        raise InputError(f"{summary.failed} of {summary.total} products failed (first: {summary.failures[0]}); "
                         f"the others are in {manifest}; run again to retry the failed ones")
    return summary


# --- command line -------------------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m smapdown.workflows.archive``."""
    p = argparse.ArgumentParser(
        prog="python -m smapdown.workflows.archive",
        description="Downscale an archive of SMAP products (or estimate soil moisture) into a folder of "
                    "Cloud-Optimised GeoTIFFs, a VRT per quantity and a manifest; resumable; on Dask.")
    p.add_argument("inputs", nargs="+", help="folders, product files, or @list.txt (one path a line)")
    p.add_argument("-o", "--output", required=True, help="output folder (created; a rerun resumes)")
    p.add_argument("--start", type=date_arg, help="first date (YYYY-MM-DD), inclusive")
    p.add_argument("--end", type=date_arg, help="last date (YYYY-MM-DD), inclusive")
    p.add_argument("--passes", default="AM,PM", help="passes of daily products: AM,PM (default), AM or PM")
    p.add_argument("--case", choices=("tb", "sm"), default="tb",
                   help="tb: 36 km TB -> 9 km TB (default); sm: soil moisture from TB + LST")
    p.add_argument("--lst", action="append", help="case sm: LST files or folders (paired by date)")
    p.add_argument("--grid", choices=("M03", "M09"), default="M03", help="case sm: output grid")
    p.add_argument("--model", help="model file (default: the bundled general model of the case)")
    p.add_argument("--static", help="static ancillary raster, for models trained with one")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (on every worker)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster; ~0.01 K)")
    p.add_argument("--tile", type=int, default=256, help="inference tile size in pixels")
    p.add_argument("--no-mean-preserve", action="store_true", help="case tb: skip 36 km mean preservation")
    p.add_argument("--extent", help="xmin,ymin,xmax,ymax limiting every product")
    p.add_argument("--extent-crs", default="EPSG:4326", help="CRS of --extent (default EPSG:4326)")
    p.add_argument("--scheduler", default="local",
                   help="local (worker processes on this machine, default), threads, serial, or the address "
                        "of a running Dask scheduler (tcp://host:8786)")
    p.add_argument("--workers", type=int, help="local/threads: number of workers (default: one per core)")
    p.add_argument("--threads-per-product", type=int, default=1,
                   help="torch threads per product (default 1; another value may change outputs by ~1e-5 K)")
    p.add_argument("--verify", choices=("checksum", "size"), default="checksum",
                   help="how a rerun checks earlier outputs before skipping them")
    p.add_argument("--manifest-interval", type=float, default=1.0,
                   help="seconds between manifest rewrites while running (0: after every product)")
    return p


def main(argv: Sequence[str] | None = None, feedback_factory: Callable[[], Feedback] = PrintFeedback) -> int:
    """Command-line entry point; returns the exit status (0 done, 1 bad input or failed products)."""
    args = parser().parse_args(argv)
    extent = None
    if args.extent:
        try:
            extent = tuple(float(v) for v in args.extent.split(","))
        except ValueError:
            extent = ()
        if len(extent) != 4:
            print(f"error: --extent needs xmin,ymin,xmax,ymax, got {args.extent!r}", file=sys.stderr)
            return 1
    try:
        summary = run_archive(
            args.inputs, args.output, start=args.start, end=args.end, passes=args.passes.split(","),
            case=args.case, lst=args.lst, model=args.model, device=args.device, bf16=args.bf16, tile=args.tile,
            mean_preserve=not args.no_mean_preserve, extent=extent, extent_crs=args.extent_crs if extent else None,
            grid=args.grid, static=args.static, scheduler=args.scheduler, workers=args.workers,
            threads=args.threads_per_product, checksum=args.verify == "checksum",
            manifest_interval=args.manifest_interval,
            feedback=feedback_factory())
    except SmapdownError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"summary": asdict(summary)}, indent=1))
    return 0


if __name__ == "__main__":
    # run from the module under its package name, so Dask ships tasks as references to
    # smapdown.workflows.archive.run_product (importable on every worker), not as copies of __main__
    from importlib import import_module

    sys.exit(import_module(f"{__package__}.archive").main())
