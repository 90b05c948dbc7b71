"""Training data-parallel under torchrun (2 CPU processes, gloo) matches one process; divergence and cancel
keep the previous model file."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from smapdown.core import simulate
from smapdown.core.errors import Canceled
from smapdown.core.feedback import Feedback
from smapdown.model.train import DivergedError, TrainConfig, TrainingData, train

ROOT = Path(__file__).resolve().parents[1]
#: 1 vs 2 processes differ only in float summation order (the gradient of a batch is summed in two parts);
#: measured 7.5e-9 after 2 epochs of this case, weights up to 0.24
WEIGHT_TOLERANCE = 1e-5
TINY = ["--validation-days", "2", "--epochs", "2", "--features", "8", "--groups", "2", "--patches", "32",
        "--patch", "16", "--batch-size", "8", "--seed", "1"]


@pytest.fixture(scope="module")
def products(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ddp-in")
    series = simulate.simulate_region(simulate.default_region(), dt.date(2015, 4, 1), 6, seed=9)
    simulate.write_series(series, str(folder))
    return folder


def _run(args: list[str], nproc: int = 1) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "build" / "pkg"))
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
                "--master_port", str(29500 + os.getpid() % 1000)] if nproc > 1 else [sys.executable]
    return subprocess.run([*launcher, "-m", "smapdown.workflows.train", *args], env=env, capture_output=True,
                          text=True, timeout=600)


def test_two_processes_train_the_same_model_as_one(products, tmp_path):
    from smapdown.model.io import load_model

    common = ["--low", str(products), "--high", str(products), *TINY]
    one = _run([*common, "-o", str(tmp_path / "one.pt")])
    assert one.returncode == 0, one.stderr[-3000:]
    two = _run([*common, "-o", str(tmp_path / "two.pt")], nproc=2)
    assert two.returncode == 0, two.stderr[-3000:]
    a, card_a = load_model(tmp_path / "one.pt")
    b, card_b = load_model(tmp_path / "two.pt")
    assert card_a.training.processes == 1 and card_b.training.processes == 2
    # a location-specific model (the default): its window is the training grid's, as big as its static map
    assert card_a.location == card_b.location and card_a.location_specific
    assert [card_a.location.rows, card_a.location.cols] == list(a.config["location_shape"])
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    diff = max(float((sa[k] - sb[k]).abs().max()) for k in sa)
    assert diff <= WEIGHT_TOLERANCE, diff
    for band, mae in card_a.validation.mae.items():
        assert abs(mae - card_b.validation.mae[band]) < 1e-4
    # the 2-process run really trained: the weights moved from their initialisation like the 1-process ones
    assert card_b.training.epochs_done == 2


def _tiny_data(days: int = 4) -> TrainingData:
    rng = np.random.default_rng(0)
    x = (250 + 5 * rng.standard_normal((days, 2, 24, 24))).astype(np.float32)
    y = x + rng.standard_normal(x.shape).astype(np.float32)
    return TrainingData(x, y, [dt.date(2015, 4, 1 + i) for i in range(days)], ["tb_v", "tb_h"], ["tb_v", "tb_h"],
                        ["K", "K"], ["K", "K"])


def test_divergence_raises_and_the_command_keeps_the_previous_model(products, tmp_path, capsys):
    from smapdown.workflows import train as train_command

    with pytest.raises(DivergedError, match="diverged"):
        train(_tiny_data(), None, TrainConfig(epochs=3, lr=1e30, features=4, groups=1, patches_per_epoch=32,
                                              patch=16, batch_size=8, device="cpu"))
    model = tmp_path / "model.pt"
    args = ["--low", str(products), "--high", str(products), *TINY, "--epochs", "1", "-o", str(model)]
    assert train_command.main(args) == 0
    before = hashlib.sha256(model.read_bytes()).hexdigest()
    assert train_command.main([*args, "--lr", "1e30"]) == 1
    assert "diverged" in capsys.readouterr().err
    assert hashlib.sha256(model.read_bytes()).hexdigest() == before


def test_cancel_without_partial_training_keeps_nothing_and_says_so():
    class StopAfterFirstEpoch(Feedback):
        calls = 0

        def progress(self, percent: float) -> None:
            self.calls += 1

        def canceled(self) -> bool:
            return self.calls >= 4  # 4 batches = the first epoch

    config = TrainConfig(epochs=3, features=4, groups=1, patches_per_epoch=32, patch=16, batch_size=8, device="cpu",
                         keep_partial=False)
    with pytest.raises(Canceled, match="after 1 of 3 epochs; no model was written"):
        train(_tiny_data(), None, config, StopAfterFirstEpoch())
    kept = train(_tiny_data(), None, TrainConfig(**{**config.__dict__, "keep_partial": True}), StopAfterFirstEpoch())
    assert kept.canceled and len(kept.history) == 1
