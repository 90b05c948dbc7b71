"""Validation during training: whole validation images through the tiled inference, per output band in
physical units, beside the residual input (the bicubic baseline); shared out between the processes of a DDP job.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core.feedback import Feedback
from .card import ModelCard
from .dataset import CASE1_FACTOR, TrainingData
from .inference import predict_tiled, upsample_bicubic
from .network import DownscaleCNN

__all__ = ["validate", "validate_shared"]


class CancelOnly(Feedback):
    """Forwards cancellation but not progress (validation inside an epoch)."""

    def __init__(self, outer: Feedback) -> None:
        self.outer = outer

    def canceled(self) -> bool:
        return self.outer.canceled()


def validate(model: DownscaleCNN, card: ModelCard, val: TrainingData, device: torch.device, tile: int,
              feedback: Feedback, bf16: bool = False) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Whole-image MAE per output band (physical units) of the CNN and of the residual input.

    Pixels count where the target and the prediction (hence the mask inputs) are valid; the baseline is
    measured on the very same pixels. Returns (cnn_mae, baseline_mae or None, pixel counts).
    """
    k = model.out_channels
    err, base, cnt = np.zeros(k), np.zeros(k), np.zeros(k)
    for d in range(val.inputs.shape[0]):
        pred = predict_tiled(model, card, val.inputs[d], tile=tile, device=str(device),
                             feedback=CancelOnly(feedback), bf16=bf16)
        target = val.targets[d].astype(np.float64)
        ok = np.isfinite(target) & np.isfinite(pred)
        if model.residual:  # the baseline is always bicubic (nearest inputs: from the 36 km block values)
            resid = val.inputs[d, :k].astype(np.float64)
            if val.upsampling == "nearest":
                resid = upsample_bicubic(resid[:, ::CASE1_FACTOR, ::CASE1_FACTOR], CASE1_FACTOR).astype(np.float64)
            ok &= np.isfinite(resid)
            base += np.where(ok, np.abs(resid - target), 0.0).sum(axis=(1, 2))
        err += np.where(ok, np.abs(pred - target), 0.0).sum(axis=(1, 2))
        cnt += ok.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return err / cnt, (base / cnt if model.residual else None), cnt


def validate_shared(model: DownscaleCNN, card: ModelCard, val: TrainingData, device: torch.device, tile: int,
                     feedback: Feedback, bf16: bool, rank: int, world: int
                     ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """:func:`_validate` with the validation days shared out between the processes of a DDP job."""
    if world <= 1:
        return validate(model, card, val, device, tile, feedback, bf16)
    import torch.distributed as dist

    k = model.out_channels
    mine = list(range(rank, val.inputs.shape[0], world))
    sums = np.zeros(3 * k)
    if mine:
        mae, base, cnt = validate(model, card, val.subset(mine), device, tile, feedback, bf16)
        sums = np.concatenate([np.where(cnt > 0, mae * cnt, 0.0),
                               np.where(cnt > 0, base * cnt, 0.0) if base is not None else np.zeros(k), cnt])
    t = torch.from_numpy(sums.astype(np.float64))
    dist.all_reduce(t)
    tot = t.numpy()
    cnt = tot[2 * k:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return tot[:k] / cnt, (tot[k:2 * k] / cnt if model.residual else None), cnt
