"""Training arrays: co-registered fine-grid stacks per day, the split by date, and the patch sampling rules.

What :func:`smapdown.model.train.train` trains on (see its module docstring for the recipe); numpy only.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import InputError

__all__ = ["CASE1_FACTOR", "TrainingData", "band_stats", "normalise_batch", "patch_origins", "split_by_date"]

CASE1_FACTOR = 4  # 36 km → 9 km: the only case with a residual (TB) input


@dataclass
class TrainingData:
    """Co-registered fine-grid stacks, one per day: NaN marks invalid pixels.

    ``inputs`` is (N_days, C_in, H, W) float32 (for case 1 the bicubically upsampled 36 km TB first),
    ``targets`` (N_days, C_out, H, W) float32; ``dates`` has one date per day (dates may repeat, e.g.
    morning and evening passes). Units may be left empty.
    """

    inputs: np.ndarray
    targets: np.ndarray
    dates: list[datetime.date]
    input_names: list[str]
    output_names: list[str]
    input_units: list[str] = field(default_factory=list)
    output_units: list[str] = field(default_factory=list)
    upsampling: str = "bicubic"
    """How the coarse inputs were brought onto the fine grid ('bicubic' or 'nearest'); stored in the card
    so that inference prepares inputs the same way."""

    def __post_init__(self) -> None:
        self.inputs = np.asarray(self.inputs, dtype=np.float32)
        self.targets = np.asarray(self.targets, dtype=np.float32)
        x, y = self.inputs, self.targets
        if x.ndim != 4 or y.ndim != 4:
            raise InputError(f"Training inputs and targets must be (days, bands, rows, cols) stacks, got "
                             f"shapes {x.shape} and {y.shape}.")
        if x.shape[0] != y.shape[0] or x.shape[2:] != y.shape[2:]:
            raise InputError(f"Training inputs {x.shape} and targets {y.shape} differ in days or grid size.")
        if len(self.dates) != x.shape[0]:
            raise InputError(f"There are {len(self.dates)} dates for {x.shape[0]} days of training data.")
        self.input_units = list(self.input_units) or [""] * x.shape[1]
        self.output_units = list(self.output_units) or [""] * y.shape[1]
        for what, names, n in (("input names", self.input_names, x.shape[1]),
                               ("output names", self.output_names, y.shape[1]),
                               ("input units", self.input_units, x.shape[1]),
                               ("output units", self.output_units, y.shape[1])):
            if len(names) != n:
                raise InputError(f"There are {len(names)} {what} for {n} bands.")

    def subset(self, index: list[int]) -> TrainingData:
        """The days at ``index`` (a copy)."""
        return TrainingData(self.inputs[index], self.targets[index], [self.dates[i] for i in index],
                            list(self.input_names), list(self.output_names), list(self.input_units),
                            list(self.output_units), self.upsampling)


def split_by_date(data: TrainingData, validation_days: int) -> tuple[TrainingData, TrainingData]:
    """Split by time: the last ``validation_days`` distinct dates validate, the rest train.

    Never random pixels: neighbouring pixels of one day are strongly correlated, so a pixel split would
    report an optimistic error.
    """
    distinct = sorted(set(data.dates))
    if not 1 <= int(validation_days) < len(distinct):
        raise InputError(f"Cannot keep {validation_days} of {len(distinct)} distinct dates for validation: "
                         "at least one must validate and one must train.")
    val_dates = set(distinct[-int(validation_days):])
    val = [i for i, d in enumerate(data.dates) if d in val_dates]
    tr = [i for i, d in enumerate(data.dates) if d not in val_dates]
    return data.subset(tr), data.subset(val)


def band_stats(stack: np.ndarray, names: list[str]) -> tuple[list[float], list[float]]:
    """Mean and std of the valid pixels of each band of an (N, C, H, W) stack, one day at a time."""
    c = stack.shape[1]
    s, s2, n = np.zeros(c), np.zeros(c), np.zeros(c)
    for day in stack:
        d = day.astype(np.float64)
        ok = np.isfinite(d)
        v = np.where(ok, d, 0.0)
        s += v.sum(axis=(1, 2))
        s2 += (v * v).sum(axis=(1, 2))
        n += ok.sum(axis=(1, 2))
    if (n == 0).any():
        empty = [names[i] for i in np.flatnonzero(n == 0)]
        raise InputError(f"Band(s) {', '.join(empty)} have no valid pixel in the training days.")
    mean = s / n
    std = np.sqrt(np.maximum(s2 / n - mean * mean, 0.0))
    # a constant band (a static mask, say) would divide by ~0: leave it unscaled
    std = np.where(std > 1e-6 * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return [float(v) for v in mean], [float(v) for v in std]


def patch_origins(data: TrainingData, mask: list[int], p: int, min_frac: float) -> np.ndarray:
    """(K, 3) int array of (day, row, col) patch origins with >= min_frac valid pixels, on a p/4 stride."""
    _, _, H, W = data.inputs.shape
    stride = max(1, p // 4)
    rows = np.unique(np.r_[np.arange(0, H - p + 1, stride), H - p])
    cols = np.unique(np.r_[np.arange(0, W - p + 1, stride), W - p])
    need = math.ceil(min_frac * p * p)
    out = []
    for d in range(data.inputs.shape[0]):
        ok = (np.all(np.isfinite(data.targets[d]), axis=0)
              & np.all(np.isfinite(data.inputs[d, mask]), axis=0)).astype(np.int64)
        ii = np.zeros((H + 1, W + 1), dtype=np.int64)
        ii[1:, 1:] = ok.cumsum(0).cumsum(1)
        r, c = rows[:, None], cols[None, :]
        count = ii[r + p, c + p] - ii[r, c + p] - ii[r + p, c] + ii[r, c]
        rr, cc = np.nonzero(count >= max(need, 1))
        out.append(np.stack([np.full(rr.size, d), rows[rr], cols[cc]], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 3), dtype=np.int64)


def normalise_batch(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(B, C, h, w) standardised per band with NaN set to 0."""
    out = (x - mean[None, :, None, None]) / std[None, :, None, None]
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
