"""Archive runs (workflows.archive, smapdown:downscalearchive) on simulated products: the same bits on one
process and on a two-worker Dask cluster, resume after SIGKILL without recomputing, the algorithm."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from smapdown.core import simulate
from smapdown.core.atomic import leftover_temps
from smapdown.core.errors import InputError
from smapdown.core.feedback import Feedback
from smapdown.core.files import DEFAULT_TB_MODEL
from smapdown.core.inputs import read_tb36
from smapdown.workflows import archive
from smapdown.workflows.downscale import downscale

gdal.UseExceptions()
ROOT = Path(__file__).resolve().parents[1]


def _simulate(folder: Path, days: int, seed: int) -> Path:
    series = simulate.simulate_region(simulate.default_region(), dt.date(2015, 4, 1), days, seed=seed)
    simulate.write_series(series, str(folder))
    return folder


@pytest.fixture(scope="module")
def products(tmp_path_factory) -> Path:
    """Three simulated days over 3 x 3 cells of 36 km (SPL3SMP with AM and PM, LST rasters)."""
    return _simulate(tmp_path_factory.mktemp("archive-in"), 3, 21)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    """A private copy of the bundled TB model: a rerun skips only outputs of the same model file, and the
    bundled one may be rewritten (retrained) while the tests run."""
    import shutil

    folder = tmp_path_factory.mktemp("archive-model")
    for ext in (".pt", ".json"):
        shutil.copy2(DEFAULT_TB_MODEL[:-3] + ext, folder / f"tb{ext}")
    return str(folder / "tb.pt")


@pytest.fixture(scope="module")
def serial_run(products, model, tmp_path_factory):
    out = tmp_path_factory.mktemp("archive-serial")
    return archive.run_archive(products, out, scheduler="serial", manifest_interval=0, model=model), out


def _tifs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.tif"))}


def _manifest(folder: Path) -> dict[str, dict]:
    with open(folder / archive.MANIFEST, newline="") as fh:
        return {r["key"]: r for r in csv.DictReader(fh)}


def test_serial_run_writes_cogs_vrts_and_manifest(serial_run, products, model):
    summary, out = serial_run
    jobs = archive.plan_jobs(products)
    assert summary.total == len(jobs) == summary.complete >= 4 and summary.failed == 0
    rows = _manifest(out)
    assert set(rows) == {j.key for j in jobs}
    assert {r["pass"] for r in rows.values()} == {"AM", "PM"}
    for key, r in rows.items():
        assert r["status"] == "complete" and r["device"] == "cpu" and float(r["seconds"]) > 0
        assert abs(float(r["mean_preservation_error_K"])) < 1e-3
        names = r["outputs"].split(";")
        assert names == [f"{key}_tb_v.tif", f"{key}_tb_h.tif"]
        for name, size, digest in zip(names, r["bytes"].split(";"), r["sha256"].split(";"), strict=True):
            data = (out / name).read_bytes()
            assert len(data) == int(size) and hashlib.sha256(data).hexdigest() == digest
    # each file is a COG on the EASE2 9 km grid holding exactly what the single-product pipeline gives
    job = jobs[1]
    ds = gdal.Open(str(out / f"{job.key}_tb_v.tif"))
    assert ds.GetMetadata("IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert ds.GetMetadataItem("EASE2_GRID") == "M09" and ds.GetRasterBand(1).GetDescription() == "tb_v"
    from smapdown.model.inference import fixed_threads

    with fixed_threads(1):
        ref = downscale(read_tb36(job.path, pass_=job.pass_), model)
    got = ds.GetRasterBand(1).ReadAsArray()
    assert np.array_equal(np.where(got == -9999, np.nan, got), ref.cnn[0], equal_nan=True)
    # a VRT per quantity, one band per product in date order, described by date and pass
    assert sorted(Path(v).name for v in summary.vrts) == ["tb_h.vrt", "tb_v.vrt"]
    vrt = gdal.Open(str(out / "tb_v.vrt"))
    assert vrt.RasterCount == len(jobs)
    assert [vrt.GetRasterBand(i + 1).GetDescription() for i in range(len(jobs))] == \
        [f"{j.date} {j.pass_label}" for j in jobs]
    assert leftover_temps([str(out)]) == [] and not (out / archive.LOCK).exists()


def test_two_worker_cluster_gives_the_same_bits_and_loads_the_model_once_per_worker(serial_run, products, model,
                                                                                     tmp_path):
    _, serial_out = serial_run
    summary = archive.run_archive(products, tmp_path, scheduler="local", workers=2, manifest_interval=0, model=model)
    assert summary.complete == summary.total and summary.workers == 2
    assert _tifs(tmp_path) == _tifs(serial_out)
    rows = _manifest(tmp_path).values()
    loads: dict[str, int] = {}
    for r in rows:
        loads[r["worker"]] = max(loads.get(r["worker"], 0), int(r["model_loads"]))
    assert set(loads.values()) == {1}, loads  # every worker read the model file once, however many products


def test_killed_run_resumes_without_recomputing_finished_products(model, tmp_path):
    src = _simulate(tmp_path / "in", 8, 22)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "smapdown.workflows.archive", str(src), "-o", str(out), "--scheduler", "local",
           "--workers", "2", "--manifest-interval", "0", "--model", model]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    total = len(archive.plan_jobs(src))
    done: dict[str, dict] = {}
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None:
            if (out / archive.MANIFEST).exists():
                done = {k: r for k, r in _manifest(out).items() if r["status"] == "complete"}
                if len(done) >= 2:
                    break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver, its cluster and workers, mid-product
        proc.wait(timeout=60)
    for _ in range(200):  # until every process of the job is gone (the workers are reaped by init)
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    assert 2 <= len(done) < total, "the run finished before it could be killed; give it more products"
    before = {k: r["computed_utc"] for k, r in _manifest(out).items() if r["status"] == "complete"}
    stale = out / ".smapdown-999999999-stage-x.tif"  # what a killed writer on this machine leaves
    stale.write_bytes(b"partial")

    lines: list[str] = []

    class Log(Feedback):
        def info(self, message: str) -> None:
            lines.append(message)

    summary = archive.run_archive(src, out, scheduler="serial", manifest_interval=0, feedback=Log(), model=model)
    rows = _manifest(out)
    # (a simulated PM pass can miss the whole region: such a product is 'empty', done without outputs)
    assert summary.skipped == len(before) and summary.failed == 0, (summary, lines)
    assert summary.complete == total - len(before) - summary.empty
    for key, stamp in before.items():
        assert rows[key]["status"] == "skipped" and rows[key]["computed_utc"] == stamp
    assert all(r["status"] in ("complete", "skipped", "empty") for r in rows.values()) and len(rows) == total
    assert leftover_temps([str(out)]) == [] and not stale.exists(), (leftover_temps([str(out)]), lines)
    # the same files as an uninterrupted run
    clean = tmp_path / "clean"
    archive.run_archive(src, clean, scheduler="serial", manifest_interval=0, model=model)
    assert _tifs(out) == _tifs(clean)


def test_rerun_redoes_a_damaged_output_and_a_changed_setting(products, model, tmp_path):
    first = archive.run_archive(products, tmp_path, scheduler="serial", end=dt.date(2015, 4, 1), model=model)
    assert first.complete == 2 and first.total == 2  # the date range keeps one day: AM and PM
    victim = tmp_path / "20150401_AM_tb_h.tif"
    victim.write_bytes(victim.read_bytes()[:-10])
    again = archive.run_archive(products, tmp_path, scheduler="serial", end=dt.date(2015, 4, 1), model=model)
    assert (again.complete, again.skipped) == (1, 1)
    assert _manifest(tmp_path)["20150401_AM"]["status"] == "complete"
    other = archive.run_archive(products, tmp_path, scheduler="serial", end=dt.date(2015, 4, 1),
                                mean_preserve=False, model=model)
    assert (other.complete, other.skipped) == (2, 0)  # other settings: nothing is taken from the earlier run


def test_soil_moisture_archive_pairs_lst_by_date(products, tmp_path):
    lst = tmp_path / "lst"
    lst.mkdir()
    first = sorted(products.glob("LST_*_SIM.tif"))[0]  # only the first day's LST
    os.symlink(first, lst / first.name)
    summary = archive.run_archive(products, tmp_path / "out", case="sm", lst=str(lst), passes=["AM"],
                                  grid="M09", scheduler="serial")
    rows = _manifest(tmp_path / "out")
    assert summary.complete == 1 and summary.missing_input == summary.total - 1
    row = rows["20150401_AM"]
    assert row["outputs"] == "20150401_AM_soil_moisture.tif"
    sm = gdal.Open(str(tmp_path / "out" / row["outputs"])).ReadAsArray()
    valid = sm[sm != -9999]
    assert valid.size and (valid >= 0).all() and (valid <= 0.6).all()
    assert all("no LST file" in r["message"] for k, r in rows.items() if k != "20150401_AM")


def test_refuses_writing_into_the_input_folder_and_empty_ranges(products, tmp_path):
    with pytest.raises(InputError, match="folder of their own"):
        archive.run_archive(products, products, scheduler="serial")
    with pytest.raises(InputError, match="no product"):
        archive.run_archive(products, tmp_path, scheduler="serial", start=dt.date(2016, 1, 1))
    with pytest.raises(InputError, match="scheduler"):
        archive.run_archive(products, tmp_path, scheduler="yarn")


def test_algorithm_via_processing_run_resumes(run_alg, products, model, tmp_path):
    params = {"INPUT_FOLDER": str(products), "END": "2015-04-02", "WORKERS": 1, "OUTPUT_FOLDER": str(tmp_path),
              "MODEL": model}
    res = run_alg("downscalearchive", params)
    assert res["TOTAL"] == 4 and res["COMPLETE"] == 4 and res["SKIPPED"] == 0
    assert Path(res["MANIFEST"]).exists() and len(res["VRTS"].split(";")) == 2
    again = run_alg("downscalearchive", params)
    assert again["COMPLETE"] == 0 and again["SKIPPED"] == 4


def test_algorithm_cancel_keeps_finished_products_and_a_rerun_continues(run_alg, products, model, tmp_path):
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    class CancelAfterFirst(QgsProcessingFeedback):
        def setProgress(self, percent):  # noqa: N802 - QGIS's name
            super().setProgress(percent)
            if percent > 0:
                self.cancel()

    params = {"INPUT_FOLDER": str(products), "WORKERS": 1, "OUTPUT_FOLDER": str(tmp_path), "MODEL": model}
    with pytest.raises(QgsProcessingException, match="cancelled; finished products are kept"):
        run_alg("downscalearchive", params, feedback=CancelAfterFirst())
    done = [r for r in _manifest(tmp_path).values() if r["status"] == "complete"]
    assert 1 <= len(done) < len(archive.plan_jobs(products))
    assert leftover_temps([str(tmp_path)]) == []
    again = run_alg("downscalearchive", params)
    assert again["SKIPPED"] == len(done) and again["COMPLETE"] + again["SKIPPED"] + again["EMPTY"] == again["TOTAL"]


def test_a_second_date_range_adds_to_the_vrt(products, model, tmp_path):
    archive.run_archive(products, tmp_path, scheduler="serial", end=dt.date(2015, 4, 1), model=model)
    second = archive.run_archive(products, tmp_path, scheduler="serial", start=dt.date(2015, 4, 2),
                                 end=dt.date(2015, 4, 2), model=model)
    assert second.complete == 2
    vrt = gdal.Open(str(tmp_path / "tb_v.vrt"))
    assert [vrt.GetRasterBand(i + 1).GetDescription() for i in range(vrt.RasterCount)] == \
        ["2015-04-01 AM", "2015-04-01 PM", "2015-04-02 AM", "2015-04-02 PM"]
    assert len(_manifest(tmp_path)) == 4


def test_algorithm_runs_dask_inside_qgis_process(qgis_process_run, products, tmp_path):
    rc, data, log = qgis_process_run("smapdown:downscalearchive", {
        "INPUT_FOLDER": str(products), "END": "2015-04-01", "WORKERS": 2, "OUTPUT_FOLDER": str(tmp_path)})
    assert rc == 0, log[-3000:]
    assert data["results"]["COMPLETE"] == 2 and data["results"]["TOTAL"] == 2
    assert (tmp_path / "20150401_AM_tb_v.tif").exists() and (tmp_path / "tb_h.vrt").exists()
