"""Faults: a downscale run SIGKILLed at random points leaves its outputs all written or none (and an earlier
run's outputs intact), and the temporaries it could not remove are swept by the next run in that folder;
cancelling through the core Feedback stops every long core job within 2 s.

The killed process runs the core pipeline and writes its outputs as the algorithms do, through
core.atomic.OutputSet (GeoTIFFs and a JSON/HTML report staged, published together).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from osgeo import gdal

from smapdown.core.atomic import TEMP_PREFIX, OutputSet, leftover_temps, sweep_stale
from smapdown.core.errors import Canceled
from smapdown.core.feedback import Feedback

gdal.UseExceptions()
ROOT = Path(__file__).resolve().parents[1]
DAY = "20150406"
KILL_POINTS = 6
RUNNER = r'''
import sys, time
from smapdown.core.inputs import read_tb36
from smapdown.workflows.downscale import downscale
from smapdown.core.atomic import OutputSet
from smapdown.core.raster import BandSpec, write_geotiff
from smapdown.core.report import write_report
low, folder, tag = sys.argv[1], sys.argv[2], sys.argv[3]
print("start", flush=True)
scene = read_tb36(low)
res = downscale(scene, device="cpu", tile=32)
bands = [BandSpec("tb_v", "K"), BandSpec("tb_h", "K")]
with OutputSet(inputs={"INPUT": low}) as out:
    for name, arr in (("tb9", res.cnn), ("baseline", res.baseline), ("cnn_again", res.cnn)):
        write_geotiff(out.stage(f"{folder}/{name}.tif"), res.grid, list(arr), bands, {"run": tag})
        time.sleep(0.05)
    write_report(f"{folder}/report.json", "run " + tag, {"run": tag}, out=out)
print("done", flush=True)
'''
OUTPUTS = ("tb9.tif", "baseline.tif", "cnn_again.tif", "report.json", "report.html")


def _run_tag(folder: Path, name: str) -> str | None:
    p = folder / name
    if not p.exists():
        return None
    if name.endswith(".json"):
        return json.loads(p.read_text())["run"]
    if name.endswith(".html"):
        import re

        return re.search(r"<title>run (\w+)</title>", p.read_text()).group(1)
    ds = gdal.Open(str(p))
    tag = ds.GetMetadataItem("run")
    a = ds.GetRasterBand(1).ReadAsArray()
    assert a.shape[0] > 0  # a complete, readable raster
    return tag


def _start(script: Path, low: str, folder: Path, tag: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), low, str(folder), tag],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_during_downscale_leaves_all_or_nothing(sim, tmp_path):
    folder_sim, _ = sim
    low = str(folder_sim / f"SMAP_L3_SM_P_{DAY}_SIM.h5")
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    out = tmp_path / "out"
    out.mkdir()
    # a complete earlier run, and how long a run takes
    t0 = time.monotonic()
    p = _start(script, low, out, "old")
    stdout, stderr = p.communicate(timeout=300)
    assert p.returncode == 0, stderr
    duration = time.monotonic() - t0
    assert {_run_tag(out, n) for n in OUTPUTS} == {"old"}
    assert not leftover_temps([str(out)])  # a finished run leaves nothing hidden
    rng = random.Random(11)
    tried = []
    for i in range(KILL_POINTS):
        delay = rng.uniform(0.05, 1.0) * duration
        p = _start(script, low, out, f"new{i}")
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        tags = {_run_tag(out, n) for n in OUTPUTS}
        tried.append((round(delay, 2), sorted(t or "-" for t in tags)))
        # all of one run: never a mix, never a file missing
        assert len(tags) == 1 and None not in tags, tried
        # the killed process could not clean up; the next run in this folder sweeps what it left
        sweep_stale(str(out), min_age_s=0)
        assert not leftover_temps([str(out)]), tried
    print(f"\nkill points tried: {len(tried)}: {tried}")


def test_output_set_rolls_back_on_failure_and_protects_inputs(tmp_path):
    from smapdown.core.errors import InputError

    (tmp_path / "a.tif").write_text("old a")
    (tmp_path / "in.h5").write_text("input")
    with pytest.raises(RuntimeError), OutputSet() as out:
        Path(out.stage(str(tmp_path / "a.tif"))).write_text("new a")
        Path(out.stage(str(tmp_path / "b.tif"))).write_text("new b")
        raise RuntimeError("the second output failed")
    assert (tmp_path / "a.tif").read_text() == "old a" and not (tmp_path / "b.tif").exists()
    assert not leftover_temps([str(tmp_path)])
    with pytest.raises(InputError, match="OUTPUT.*INPUT"), OutputSet(inputs={"INPUT": str(tmp_path / "in.h5")}) as out:
        out.stage(str(tmp_path / "sub" / ".." / "in.h5"), name="OUTPUT")
    assert (tmp_path / "in.h5").read_text() == "input"
    # a destination that cannot be written: nothing is published, the earlier file stays
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "c.tif").write_text("old c")
    with OutputSet() as out:
        Path(out.stage(str(tmp_path / "a.tif"))).write_text("new a")
        Path(out.stage(str(ro / "c.tif"))).write_text("new c")
        os.chmod(ro, 0o500)
        if os.access(ro, os.W_OK):  # root ignores the mode: nothing to test here
            os.chmod(ro, 0o700)
            return
        with pytest.raises(InputError):
            out.commit()
    os.chmod(ro, 0o700)
    assert (tmp_path / "a.tif").read_text() == "old a" and (ro / "c.tif").read_text() == "old c"
    assert not leftover_temps([str(tmp_path), str(ro)])


def test_sweep_keeps_live_and_recent_temporaries(tmp_path):
    live = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-abc.tif"
    live.write_text("x")
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    dead = tmp_path / f"{TEMP_PREFIX}{dead_pid}-abc.tif"
    dead.write_text("x")
    old_unknown = tmp_path / f"{TEMP_PREFIX}legacy.tif"
    old_unknown.write_text("x")
    os.utime(old_unknown, (time.time() - 3600, time.time() - 3600))
    recent_unknown = tmp_path / f"{TEMP_PREFIX}recent.tif"
    recent_unknown.write_text("x")
    removed = sweep_stale(str(tmp_path), min_age_s=60)
    assert sorted(Path(p).name for p in removed) == sorted([old_unknown.name])
    os.utime(dead, (time.time() - 3600, time.time() - 3600))
    assert [Path(p).name for p in sweep_stale(str(tmp_path), min_age_s=60)] == [dead.name]
    assert live.exists() and recent_unknown.exists()


def test_staged_folder_is_all_or_nothing_and_keeps_earlier_runs(tmp_path):
    from smapdown.core.atomic import MANIFEST, staged_folder
    from smapdown.core.errors import InputError

    target = tmp_path / "series"
    with pytest.raises(Canceled), staged_folder(str(target)) as stage:
        Path(stage, "day1.h5").write_text("1")
        raise Canceled("cancelled by the user")
    assert not target.exists() and not leftover_temps([str(tmp_path)])
    from smapdown.core.atomic import moved

    with staged_folder(str(target), manifest={"days": 2}) as stage:
        Path(stage, "day1.h5").write_text("1")
        os.makedirs(Path(stage, "truth"))
        Path(stage, "truth", "t1.tif").write_text("t")
        written = [str(Path(stage, "day1.h5")), str(Path(stage, "truth", "t1.tif"))]
    assert moved(written, stage, str(target)) == [str(target / "day1.h5"), str(target / "truth" / "t1.tif")]
    assert all(Path(p).exists() for p in moved(written, stage, str(target)))
    manifest = json.loads((target / MANIFEST).read_text())
    assert manifest["complete"] and manifest["files"] == ["day1.h5", "truth/t1.tif"] and manifest["days"] == 2
    with pytest.raises(InputError, match="earlier run"), staged_folder(str(target)) as stage:
        Path(stage, "day1.h5").write_text("other")
    assert (target / "day1.h5").read_text() == "1" and not leftover_temps([str(tmp_path), str(target)])
    with staged_folder(str(target), replace=True) as stage:
        Path(stage, "day1.h5").write_text("2")
    assert (target / "day1.h5").read_text() == "2"


# ---------------------------------------------------------------- cancellation within 2 s
class CancelAt(Feedback):
    """Cancels once the job has reported ``after`` progress calls (or at once with after=0); records when."""

    def __init__(self, after: int = 1) -> None:
        self.after = after
        self.calls = 0
        self.when: float | None = None

    def progress(self, percent: float) -> None:
        self.calls += 1
        if self.when is None and self.calls >= self.after:
            self.when = time.monotonic()

    def canceled(self) -> bool:
        if self.after == 0 and self.when is None:
            self.when = time.monotonic()
        return self.when is not None


def _stops_within(job, fb: CancelAt, limit: float = 2.0) -> float:
    with pytest.raises(Canceled):
        job(fb)
    assert fb.when is not None
    took = time.monotonic() - fb.when
    assert took <= limit, f"stopped {took:.2f} s after the cancel"
    return took


def test_cancel_downscale_within_2s(sim):
    from smapdown.core.inputs import read_tb36
    from smapdown.workflows.downscale import downscale

    folder, _ = sim
    scene = read_tb36(str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"))
    _stops_within(lambda fb: downscale(scene, device="cpu", tile=32, feedback=fb, uncertainty=True),
                  CancelAt(1))


def test_cancel_soil_moisture_within_2s(sim):
    from smapdown.core.inputs import read_tb36
    from smapdown.workflows.soil_moisture import SM_ANCILLARY, estimate_soil_moisture

    folder, _ = sim
    scene = read_tb36(str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"), ancillary=SM_ANCILLARY)
    _stops_within(lambda fb: estimate_soil_moisture(scene, str(folder / f"LST_{DAY}_SIM.tif"), tile=32,
                                                    feedback=fb), CancelAt(1))


def test_cancel_lst_reader_within_2s(sim):
    from smapdown.core import modis

    folder, _ = sim
    _stops_within(lambda fb: modis.read_lst(str(folder / f"LST_{DAY}_SIM.tif"), grid_name="M01", feedback=fb),
                  CancelAt(0))


def test_cancel_simulate_within_2s():
    import datetime as dt

    from smapdown.core import simulate
    from smapdown.core.grid import Grid

    _stops_within(lambda fb: simulate.simulate_region(Grid("M36", 100, 200, 3, 3), dt.date(2015, 4, 1), 30, 1,
                                                      feedback=fb), CancelAt(1))


def test_cancel_training_set_assembly_within_2s(sim):
    from smapdown.workflows.training_data import tb_training_data

    folder, _ = sim
    files = sorted(str(folder / n) for n in os.listdir(folder))
    low = [f for f in files if "SM_P_" in f]
    high = [f for f in files if "SM_AP_" in f]

    _stops_within(lambda fb: tb_training_data(low, high, feedback=fb), CancelAt(1))


def test_cancel_from_another_thread_stops_downscale_within_2s(sim):
    """A cancel arriving from the GUI thread while the CNN runs."""
    from smapdown.core.inputs import read_tb36
    from smapdown.workflows.downscale import downscale

    folder, _ = sim
    scene = read_tb36(str(folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5"))

    class Flag(Feedback):
        def __init__(self):
            self.event = threading.Event()
            self.when = None

        def canceled(self):
            return self.event.is_set()

    fb = Flag()

    def later():
        time.sleep(0.3)
        fb.when = time.monotonic()
        fb.event.set()

    threading.Thread(target=later, daemon=True).start()
    try:
        for _ in range(50):  # keep it busy until the cancel arrives
            downscale(scene, device="cpu", tile=32, feedback=fb, uncertainty=True)
    except Canceled:
        pass
    assert fb.when is not None
    assert time.monotonic() - fb.when <= 2.0


# ---------------------------------------------------------------- killing simulate and train
SIM_RUNNER = r'''
import sys, datetime as dt
from smapdown.core import simulate
from smapdown.core.atomic import staged_folder
from smapdown.core.grid import Grid
folder = sys.argv[1]
series = simulate.simulate_region(Grid("M36", 80, 218, 2, 2), dt.date(2015, 4, 1), 6, 5)
with staged_folder(folder, manifest={"days": 6}) as stage:
    simulate.write_series(series, stage)
print("done", flush=True)
'''

TRAIN_RUNNER = r'''
import sys, datetime as dt
import numpy as np
from smapdown.model.io import save_model
from smapdown.model.train import TrainConfig, TrainingData, train
rng = np.random.default_rng(int(sys.argv[2]))
x = (250 + 10 * rng.standard_normal((4, 2, 24, 24))).astype(np.float32)
y = x + rng.standard_normal(x.shape).astype(np.float32)
dates = [dt.date(2015, 4, 1) + dt.timedelta(days=i) for i in range(4)]
data = TrainingData(x, y, dates, ["tb_v", "tb_h"], ["tb_v", "tb_h"], ["K", "K"], ["K", "K"])
res = train(data, None, TrainConfig(epochs=int(sys.argv[3]), features=4, patches_per_epoch=16, patch=8,
                                    seed=int(sys.argv[2])))
card = res.card.merged({"training": {"run": sys.argv[4]}})
save_model(sys.argv[1], res.model, card)
print("done", flush=True)
'''


def _timed_kills(script: Path, args: list[str], points: int, seed: int, check) -> list[float]:
    """Run ``script`` once to time it, then SIGKILL it ``points`` times at random moments; ``check()`` after
    each kill. Returns the kill delays (s)."""
    cmd = [sys.executable, str(script), *args]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    duration = time.monotonic() - t0
    check()
    rng = random.Random(seed)
    delays = []
    for _ in range(points):
        d = rng.uniform(0.1, 1.0) * duration
        q = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(d)
        q.send_signal(signal.SIGKILL)
        q.communicate(timeout=60)
        delays.append(round(d, 2))
        check()
    return delays


def test_sigkill_during_simulate_leaves_a_complete_day_set_or_none(tmp_path):
    """simulate's day set written through core.atomic.staged_folder: after a kill each output folder is absent or
    holds a complete set listed in its manifest; what the killed run staged is swept by the next run."""
    from smapdown.core.atomic import MANIFEST

    script = tmp_path / "sim_runner.py"
    script.write_text(SIM_RUNNER)
    cmd = [sys.executable, str(script)]
    t0 = time.monotonic()
    p = subprocess.run([*cmd, str(tmp_path / "series0")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    duration = time.monotonic() - t0
    rng = random.Random(5)
    outcomes = []
    for i in range(1, 4):
        folder = tmp_path / f"series{i}"
        d = rng.uniform(0.3, 1.0) * duration
        q = subprocess.Popen([*cmd, str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(d)
        q.send_signal(signal.SIGKILL)
        q.communicate(timeout=60)
        if folder.exists():
            manifest = json.loads((folder / MANIFEST).read_text())
            files = sorted(str(x.relative_to(folder)) for x in folder.rglob("*") if x.is_file())
            assert sorted([*manifest["files"], MANIFEST]) == files and len(files) > 6
        outcomes.append((round(d, 2), "complete" if folder.exists() else "absent"))
        sweep_stale(str(tmp_path), min_age_s=0)
        assert not leftover_temps([str(tmp_path)])
    print(f"\nsimulate kill points tried: {len(outcomes)}: {outcomes}")


def test_sigkill_during_training_keeps_a_loadable_model(tmp_path):
    from smapdown.model.io import load_model

    script = tmp_path / "train_runner.py"
    script.write_text(TRAIN_RUNNER)
    model = tmp_path / "m.pt"
    seen = set()

    def check():
        _, card = load_model(model)  # always a complete model file, the previous or the new one
        seen.add(card.training.details["run"])
        sweep_stale(str(tmp_path), min_age_s=0)
        assert not leftover_temps([str(tmp_path)])

    delays = _timed_kills(script, [str(model), "1", "3", "first"], 4, 7, check)
    print(f"\ntrain kill points tried: {len(delays)}: {delays}; runs seen: {sorted(seen)}")


# ---------------------------------------------------------------- cancel through processing.run, every algorithm
ALG_RUNS = {
    "loadsmap": lambda f, o: {"INPUT": str(f / f"SMAP_L3_SM_P_{DAY}_SIM.h5"), "OUTPUT": str(o / "x.tif")},
    "loadmodis": lambda f, o: {"INPUT": str(f / f"LST_{DAY}_SIM.tif"), "GRID": 3, "OUTPUT": str(o / "x.tif")},
    "downscale": lambda f, o: {"INPUT": str(f / f"SMAP_L3_SM_P_{DAY}_SIM.h5"), "TILE": 32,
                               "OUTPUT_UNCERTAINTY": str(o / "u.tif"), "OUTPUT": str(o / "x.tif")},
    "soilmoisture": lambda f, o: {"INPUT": str(f / f"SMAP_L3_SM_P_{DAY}_SIM.h5"), "LST": str(f / f"LST_{DAY}_SIM.tif"),
                                  "OUTPUT": str(o / "x.tif")},
    "difference": lambda f, o: {"INPUT": str(f / "STATIC_M03_SIM.tif"), "REFERENCE": str(f / "STATIC_M03_SIM.tif"),
                                "OUTPUT": str(o / "x.tif")},
    "train": lambda f, o: {"INPUT_LOW": [str(f)], "INPUT_HIGH": [str(f)], "VALIDATION_DAYS": 1, "EPOCHS": 20,
                           "FEATURES": 8, "PATCHES_PER_EPOCH": 64, "PATCH": 16, "OUTPUT_MODEL": str(o / "m.pt")},
    "simulate": lambda f, o: {"EXTENT": "-98.3,-96.7,36.0,37.2 [EPSG:4326]", "START": "2015-04-01", "DAYS": 20,
                              "SEED": 2, "OUTPUT_FOLDER": str(o / "series")},
}


@pytest.mark.parametrize("alg", sorted(ALG_RUNS))
def test_cancel_every_algorithm_within_2s(alg, sim, run_alg, tmp_path):
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    folder, _ = sim

    class CancelOnProgress(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.when = None
            self.progressChanged.connect(self._on)

        def _on(self, value):
            if self.when is None and value > 0:
                self.when = time.monotonic()
                self.cancel()

    fb = CancelOnProgress()
    out = tmp_path / "out"
    out.mkdir()
    try:
        run_alg(alg, ALG_RUNS[alg](folder, out), feedback=fb)
        finished = True
    except QgsProcessingException as exc:
        assert "cancel" in str(exc).lower(), str(exc)
        finished = False
    end = time.monotonic()
    if fb.when is not None:
        assert end - fb.when <= 2.0, f"{alg} went on for {end - fb.when:.1f} s after the cancel"
    if not finished:  # cancelled: nothing of this run is left, temporaries included
        assert not [str(p) for p in out.rglob("*")]


def test_sweep_restores_an_earlier_version_a_killed_commit_moved_aside(tmp_path):
    dead = 2**22 + 4321
    (tmp_path / f"{TEMP_PREFIX}{dead}-old-ab12~was~tb9.tif").write_text("previous run")
    (tmp_path / f"{TEMP_PREFIX}{dead}-old-cd34~was~base.tif").write_text("previous base")
    (tmp_path / "base.tif").write_text("new base")  # that one had been published before the kill
    sweep_stale(str(tmp_path), min_age_s=0)
    assert (tmp_path / "tb9.tif").read_text() == "previous run"
    assert (tmp_path / "base.tif").read_text() == "new base"
    assert not leftover_temps([str(tmp_path)])
