"""Soil moisture on M09/M03 from 36 km TB, MODIS LST and (as the model card asks) the product's 36 km retrieval
and a static ancillary raster, with the case-2 CNN; frozen ground and cells without a retrieval left empty.

The model package (torch) is imported inside the functions, so the inputs' names load where torch is absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from ..core.feedback import SILENT, Feedback
from ..core.files import DEFAULT_SM_MODEL
from ..core.grid import Grid
from ..core.inputs import check_dates, read_lst_scene, read_reference_checked, static_inputs
from ..core.metrics import compare
from ..core.provenance import model_origin
from ..core.regrid import regrid
from ..core.scene import Scene

if TYPE_CHECKING:  # annotations only: the model package (torch) is imported inside the functions
    from ..model.card import ModelCard


@dataclass
class SoilMoistureResult:
    """Outputs of :func:`estimate_soil_moisture` on ``grid`` (M09 or M03), m³/m³, NaN = no data."""

    grid: Grid
    sm: np.ndarray
    device: str
    model_card: ModelCard
    reference: np.ndarray | None = None
    reference_label: str = ""
    metrics: dict = field(default_factory=dict)


FROZEN_K = 273.15  # soil moisture is left empty where the 36 km surface temperature is below this
SM_BASE_INPUTS = ("tb_v", "tb_h", "lst")
#: 36 km inputs of case 2 besides TB: the product's own retrieval and the ancillary it used
SM_ANCILLARY = ("soil_moisture", "vegetation_water_content", "surface_temperature")
SM_INPUTS = SM_BASE_INPUTS + tuple(f"{a}_36km" for a in SM_ANCILLARY)
SM_UNITS = {"tb_v": "K", "tb_h": "K", "lst": "K", "soil_moisture_36km": "m3/m3",
             "vegetation_water_content_36km": "kg/m2", "surface_temperature_36km": "K"}


def sm_ancillary(names: Sequence[str]) -> list[str]:
    """The 36 km roles (besides TB) that a case-2 model with input ``names`` reads from the SMAP file."""
    return [n[:-len("_36km")] for n in names if n.endswith("_36km")]


def sm_model_ancillary(model_path: str | None) -> list[str]:
    """The 36 km roles besides TB that the case-2 model at ``model_path`` (None: the bundled one) reads."""
    from ..model.io import read_card

    card = read_card(model_path or DEFAULT_SM_MODEL)
    return sm_ancillary(card.input_names)


def sm_inputs(scene36: Scene, lst: np.ndarray, grid: Grid, names: Sequence[str] = SM_BASE_INPUTS,
              static: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Network inputs of case 2 on ``grid``, in the order of ``names``: bicubic TB V, TB H from 36 km,
    LST (K), bicubic 36 km fields named ``<role>_36km`` (the product's soil-moisture retrieval, VWC,
    surface temperature) and ``static_*`` bands of a static ancillary raster (:func:`read_static`).

    LST gaps (clouds) are filled with the mean of the valid LST in the same 36 km cell, so the
    network sees a plausible temperature; where a whole 36 km cell is cloudy LST stays NaN and the
    network gets the training mean there.
    """
    from ..model.inference import upsample_bicubic

    f = scene36.grid.factor_to(grid.name)
    out = []
    for name in names:
        if name == "lst":
            coarse = regrid(lst, grid, scene36.grid)
            out.append(np.where(np.isfinite(lst), lst, regrid(coarse, scene36.grid, grid)).astype(np.float32))
            continue
        if name.startswith("static_"):
            if static is None or name not in static:
                raise InputError(f"the soil-moisture model needs the static ancillary band {name} (give a STATIC "
                                 f"raster with it; bands given: {', '.join(static or {}) or 'none'})")
            out.append(static[name].astype(np.float32))
            continue
        role = name[:-len("_36km")] if name.endswith("_36km") else name
        if not scene36.has_role(role):
            raise InputError(f"{scene36.path or scene36.product}: the model needs 36 km {role}, which this input "
                             "does not carry (an SPL2SMP or SPL3SMP file does)")
        out.append(upsample_bicubic(scene36.by_role(role).data.astype(np.float32), f))
    return np.stack(out).astype(np.float32)


def estimate_soil_moisture(scene36: Scene, lst_path: str, model_path: str | None = None,
                           grid_name: str = "M03", device: str = "auto", reference: str | None = None,
                           tile: int = 256, feedback: Feedback = SILENT, bf16: bool = False,
                           static_path: str | None = None, max_days_apart: int = 0,
                           regrid_reference: bool = False, loaded: tuple | None = None) -> SoilMoistureResult:
    """Soil moisture on M09/M03 from 36 km TB and MODIS LST (and, as the model card asks, the product's
    36 km retrieval and a static ancillary raster) with the case-2 CNN; metrics vs a reference.

    ``max_days_apart``: how many days the LST's and the reference's dates may differ from the TB's (0: the
    same day; inputs without a date are reported as unknown; gaps in ``metrics["dates"]``);
    ``regrid_reference``: resample a reference on another grid (else refused). ``loaded``: the (model, card)
    of ``model_path`` already loaded on ``device``, else read here."""
    from ..model.inference import predict_tiled, resolve_device
    from ..model.io import load_model

    if grid_name not in ("M09", "M03"):
        raise InputError(f"soil moisture grid must be M09 or M03, not {grid_name}")
    path = model_path or DEFAULT_SM_MODEL
    dev = resolve_device(device)
    model, card = loaded if loaded is not None else load_model(path, device=str(dev))
    if card.case != "soil moisture":
        raise InputError(f"{path}: this model predicts {card.output_names}, not soil moisture (is it a TB model? "
                         "use 'Downscale SMAP brightness temperature')")
    trained_grid = card.trained_grid
    if trained_grid and trained_grid != grid_name:
        feedback.info(f"Note: the model was trained on the {trained_grid} grid, output is {grid_name}")
    grid = scene36.grid.refine(grid_name)
    lst_scene = read_lst_scene(lst_path, grid, feedback)
    dates = check_dates({"input": (scene36.path, scene36.date), "lst": (lst_path, lst_scene.date)}, max_days_apart)
    lst = lst_scene.by_role("lst").data
    if not np.isfinite(lst).any():
        raise InputError(f"{lst_path}: no valid land surface temperature over the SMAP scene's area")
    names = card.input_names
    static = _static_bands(scene36, grid, names, static_path, path, feedback)
    x = sm_inputs(scene36, lst, grid, names, static)
    feedback.info(f"Running the soil-moisture CNN on {dev} over {grid.rows} x {grid.cols} pixels")
    origin = model_origin(model, card.location, grid, path, np.isfinite(x[:2]).all(axis=0))
    sm = predict_tiled(model, card, x, tile=tile, device=str(dev), feedback=feedback, origin=origin, bf16=bf16)[0]
    sm = np.clip(sm, 0.0, 0.6)
    no_retrieval, frozen = _mask_unretrievable(sm, x, names, scene36, grid, feedback)
    result = SoilMoistureResult(grid, sm.astype(np.float32), str(dev), card)
    result.metrics["frozen_pixels_masked"] = frozen
    result.metrics["pixels_without_36km_retrieval"] = no_retrieval
    result.metrics["input_pixels_out_of_physical_range"] = {**scene36.out_of_range(), **lst_scene.out_of_range()}
    result.metrics["dates"] = dates
    if reference:
        ref, label, checks = read_reference_checked(
            reference, grid, ["soil_moisture"], regrid_reference,
            {"input": (scene36.path, scene36.date), "lst": (lst_path, lst_scene.date)}, max_days_apart)
        result.metrics.update(checks)
        result.reference, result.reference_label = ref[0], label
        result.metrics.update({"reference": label, "bands": {"soil_moisture": {"cnn": compare(sm, ref[0], 0.5)}}})
    return result


def _static_bands(scene36: Scene, grid: Grid, names: Sequence[str], static_path: str | None, model_path: str,
                  feedback: Feedback) -> dict[str, np.ndarray] | None:
    """The ``static_*`` bands among the model's input ``names``, read from ``static_path`` on ``grid`` over
    every pixel with 36 km TB (:func:`core.inputs.static_inputs`); None when the model reads none."""
    snames = [n for n in names if n.startswith("static_")]
    if not snames:
        if static_path:
            feedback.info(f"{model_path} reads no static inputs: STATIC ({static_path}) is not used")
        return None
    valid = regrid(np.isfinite(scene36.by_role("tb_v").data).astype(np.float32), scene36.grid, grid) > 0
    return dict(zip(*static_inputs(static_path, grid, snames, valid, model_path), strict=True))


def _mask_unretrievable(sm: np.ndarray, x: np.ndarray, names: Sequence[str], scene36: Scene, grid: Grid,
                        feedback: Feedback) -> tuple[int, int]:
    """Empty (NaN, in place) the soil moisture ``sm`` (m3/m3) where the product itself retrieved nothing (water,
    flags: its 36 km retrieval is an input and NaN there) and on frozen ground (36 km surface temperature below
    :data:`FROZEN_K`, as SMAP flags it). Returns (pixels without a retrieval, frozen pixels)."""
    no_retrieval = 0
    if "soil_moisture_36km" in names:
        gap = np.isfinite(sm) & ~np.isfinite(x[list(names).index("soil_moisture_36km")])
        no_retrieval = int(gap.sum())
        sm[gap] = np.nan
        if no_retrieval:
            feedback.info(f"{no_retrieval} pixels left empty: the product has no 36 km soil-moisture retrieval there")
    frozen = 0
    if scene36.has_role("surface_temperature"):
        ts = regrid(scene36.by_role("surface_temperature").data, scene36.grid, grid)
        cold = np.isfinite(sm) & np.isfinite(ts) & (ts < FROZEN_K)
        frozen = int(cold.sum())
        sm[cold] = np.nan
        if frozen:
            feedback.info(f"{frozen} pixels left empty: the 36 km surface temperature is below {FROZEN_K} K "
                          "(frozen ground)")
    return no_retrieval, frozen
