"""Downscaling 36 km TB (V, H) to 9 km with the CNN (case 1): the bicubic baseline, the physical bounds and
36 km block means, the test-time-augmentation spread, metrics against a reference.

Works on a loaded :class:`core.scene.Scene`; the model package (torch) is imported inside the functions, so this
module loads where torch is absent. Writing files is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from ..core.feedback import SILENT, Feedback
from ..core.files import DEFAULT_TB_MODEL
from ..core.grid import Grid
from ..core.inputs import read_reference_checked, static_inputs
from ..core.metrics import compare
from ..core.provenance import model_origin
from ..core.scene import Scene
from ..core.tb_bounds import TB_CEILING, TB_FLOOR, block_mean_error, bounded_tb36, physical_tb

if TYPE_CHECKING:  # annotations only: the model package (torch) is imported inside the functions
    from ..model.card import ModelCard


@dataclass
class DownscaleResult:
    """Outputs of :func:`downscale`, all on ``grid`` (M09), bands (V, H), NaN = no data."""

    grid: Grid
    cnn: np.ndarray
    baseline: np.ndarray
    device: str
    model_card: ModelCard
    uncertainty: np.ndarray | None = None
    reference: np.ndarray | None = None
    reference_label: str = ""
    metrics: dict = field(default_factory=dict)


def downscale(scene36: Scene, model_path: str | None = None, device: str = "auto",
              mean_preserve: bool = True, reference: str | None = None, uncertainty: bool = False,
              tile: int = 256, feedback: Feedback = SILENT, bf16: bool = False,
              static_path: str | None = None, max_days_apart: int = 0,
              regrid_reference: bool = False, loaded: tuple | None = None) -> DownscaleResult:
    """36 km TB (V, H) → 9 km with the CNN; the bicubic baseline, optional TTA spread and metrics.

    ``static_path``: a static ancillary raster (``static_*`` bands), needed by models trained with one.
    ``max_days_apart``: how many days the reference's date may differ from the input's (0: the same day;
    the gap is reported in ``metrics["dates"]``); ``regrid_reference``: resample a reference on another
    grid (else refused; the method is reported in ``metrics["reference_resampling"]``). ``loaded``: the
    (model, card) of ``model_path`` already loaded on ``device`` (an archive worker's cache), else read here."""
    from ..model.inference import predict_tiled, resolve_device, upsample
    from ..model.io import load_model

    path = model_path or DEFAULT_TB_MODEL
    dev = resolve_device(device)
    model, card = loaded if loaded is not None else load_model(path, device=str(dev))
    if card.case != "tb":
        raise InputError(f"{path}: this model predicts {card.output_names}, not TB V and H (is it a soil-moisture "
                         "model? use 'Estimate soil moisture')")
    grid9 = scene36.grid.refine("M09")
    tb36, base, x = _model_inputs(scene36, card, path, static_path, feedback)
    feedback.info(f"Running the CNN on {dev} over {grid9.rows} x {grid9.cols} pixels (tiles of {tile}; "
                  f"{card.upsampling} inputs)")
    origin = model_origin(model, card.location, grid9, path, np.isfinite(x[:2]).all(axis=0))
    cnn = predict_tiled(model, card, x, tile=tile, device=str(dev), feedback=feedback, origin=origin, bf16=bf16)
    raw_err = block_mean_error(cnn, tb36, 4)
    cnn, clipped = physical_tb(cnn, tb36 if mean_preserve else None)
    spread = None
    if uncertainty:
        with model.without_location():  # the static map is the same under every flip: no spread from it
            spread = tta_spread(model, card, x, tile, str(dev), feedback, tb36 if mean_preserve else None)
    result = DownscaleResult(grid9, cnn, base, str(dev), card, uncertainty=spread)
    result.metrics["mean_preservation"] = mean_preservation_report(cnn, tb36, raw_err, clipped, mean_preserve)
    result.metrics["input_pixels_out_of_physical_range"] = scene36.out_of_range()
    if reference:
        ref, label, checks = read_reference_checked(reference, grid9, ["tb_v", "tb_h"], regrid_reference,
                                                    {"input": (scene36.path, scene36.date)}, max_days_apart)
        result.metrics.update(checks)
        result.reference, result.reference_label = ref, label
        result.metrics.update(tb_metrics(cnn, base, ref, label, upsample(tb36, 4, "nearest")))
    return result


def _model_inputs(scene36: Scene, card: ModelCard, path: str, static_path: str | None,
                  feedback: Feedback) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(36 km TB (2, h, w) in K, its bicubic 9 km upsampling, the network's input stack on M09): TB upsampled as
    the card says (``input_upsampling``), then the card's ``static_*`` bands of ``static_path``."""
    from ..model.inference import upsample, upsample_bicubic

    grid9 = scene36.grid.refine("M09")
    tb36 = np.stack([scene36.by_role("tb_v").data, scene36.by_role("tb_h").data]).astype(np.float32)
    feedback.info(f"Upsampling {scene36.grid.rows} x {scene36.grid.cols} cells of 36 km TB to 9 km")
    base = upsample_bicubic(tb36, 4)
    x = base if card.upsampling == "bicubic" else upsample(tb36, 4, card.upsampling)
    extra = card.extra_input_names
    if extra:
        if not all(n.startswith("static_") for n in extra):
            raise InputError(f"{path}: inputs {', '.join(extra)} beyond TB V/H are not static ancillary bands")
        x = np.concatenate([x, static_inputs(static_path, grid9, extra, np.isfinite(x[:2]).all(axis=0), path)[1]])
    elif static_path:
        feedback.info(f"{path} reads no static inputs: STATIC ({static_path}) is not used")
    return tb36, base, x


def mean_preservation_report(cnn: np.ndarray, tb36: np.ndarray, raw_err: float, clipped: int,
                             applied: bool) -> dict:
    """What the report says about the 36 km block means (K) and the physical bounds of the output ``cnn``."""
    bounded, outside = bounded_tb36(tb36)
    return {
        "max_abs_block_mean_minus_36km_K_without": raw_err,
        "applied": applied,
        "max_abs_block_mean_minus_36km_K_output": block_mean_error(cnn, bounded, 4),
        "input_36km_cells_outside_physical_bounds": outside,
        "pixels_clipped_to_physical_bounds": clipped, "physical_bounds_K":
        f"V {TB_FLOOR[0]:g}–{TB_CEILING:g}, H {TB_FLOOR[1]:g}–{TB_CEILING:g}",
    }


def tb_metrics(cnn: np.ndarray, base: np.ndarray, ref: np.ndarray, label: str,
               nearest: np.ndarray | None = None) -> dict:
    """Metrics per polarisation for the CNN and the bicubic baseline against one reference (and for the
    36 km value repeated over its block, when given: the radar-guided 9 km TB is built on that)."""
    out: dict = {"reference": label, "bands": {}}
    for i, band in enumerate(("tb_v", "tb_h")):
        ok = np.isfinite(cnn[i]) & np.isfinite(base[i]) & np.isfinite(ref[i])
        c = np.where(ok, cnn[i], np.nan)
        b = np.where(ok, base[i], np.nan)
        out["bands"][band] = {"cnn": compare(c, ref[i], 150.0), "bicubic": compare(b, ref[i], 150.0)}
        if nearest is not None:
            out["bands"][band]["nearest_36km"] = compare(np.where(ok, nearest[i], np.nan), ref[i], 150.0)
        m = out["bands"][band]
        m["mae_ratio_cnn_to_bicubic"] = m["cnn"]["mae"] / m["bicubic"]["mae"] if m["bicubic"]["mae"] else None
    return out


def tta_spread(model, card: ModelCard, base, tile, device, feedback, tb36) -> np.ndarray:
    """Per-pixel std (K) over the 8 flips/rotations of the input (test-time augmentation), each prediction
    bounded and mean-preserved exactly as the output is (:func:`physical_tb`)."""
    from ..model.inference import predict_tiled

    preds = []
    for k in range(4):
        for flip in (False, True):
            x = np.rot90(base, k, axes=(1, 2))
            if flip:
                x = x[:, :, ::-1]
            y = predict_tiled(model, card, np.ascontiguousarray(x), tile=tile, device=device)
            if flip:
                y = y[:, :, ::-1]
            y = np.rot90(y, -k, axes=(1, 2))
            y, _ = physical_tb(np.ascontiguousarray(y), tb36)
            preds.append(y)
            feedback.check()
    return np.std(np.stack(preds), axis=0).astype(np.float32)
