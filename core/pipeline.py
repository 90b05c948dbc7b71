"""The plugin's jobs as QGIS-free functions: downscale TB, estimate soil moisture, compare rasters,
and assemble training pairs from product files.

Reads through the core readers, runs the model package (torch, imported lazily), returns arrays on
EASE-Grid 2.0 windows plus metrics. Writing files is the caller's (atomic GeoTIFFs via core.raster).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import smap
from .errors import InputError, NoDataError
from .feedback import SILENT, Feedback
from .grid import GRIDS, Grid
from .metrics import compare
from .raster import read_ease_raster
from .scene import STATIC_BANDS, Scene, Variable

MODEL_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "model")
DEFAULT_TB_MODEL = os.path.join(MODEL_DIR, "tb_general.pt")
DEFAULT_SM_MODEL = os.path.join(MODEL_DIR, "sm_general.pt")
RASTER_EXT = (".tif", ".tiff", ".vrt", ".img")


# --- reading inputs -------------------------------------------------------------------------------
def is_raster(path: str) -> bool:
    """Whether ``path`` is taken as a GDAL raster (by extension) rather than a SMAP product."""
    return path.lower().endswith(RASTER_EXT)


def _raster_scene(path: str, roles: Sequence[str], extent=None, extent_crs=None, named: Sequence[str] = ()) -> Scene:
    """``roles`` from a raster: a band of that name, else the band at the role's position; the roles in
    ``named`` must be a band of that name."""
    rd = read_ease_raster(path)
    names = [n.lower() for n in rd.names]
    missing = [r for r in named if r not in names]
    if missing:
        raise InputError(f"{path}: the model needs 36 km {', '.join(missing)} as inputs; this raster has bands "
                         f"{', '.join(names)} (use an SPL2SMP or SPL3SMP file, which carries them)")
    variables: dict[str, Variable] = {}
    for i, role in enumerate(roles):
        j = names.index(role) if role in names else i
        if j >= len(rd.arrays):
            raise InputError(f"{path}: needs {len(roles)} bands ({', '.join(roles)}), has {len(rd.arrays)}")
        variables[role] = Variable(role, rd.arrays[j], rd.units[j], rd.names[j], role, f"band {j + 1}")
    grid = rd.grid
    scene = Scene(rd.metadata.get("product", "raster"), grid, variables, path=path,
                  date=_parse_date(rd.metadata.get("date")), pass_=rd.metadata.get("pass") or None)
    if extent is not None:
        sub = grid.subset(extent, extent_crs)
        scene = crop_scene(scene, sub)
    return scene


def _parse_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def crop_scene(scene: Scene, window: Grid) -> Scene:
    """The part of ``scene`` inside ``window`` (same grid)."""
    r, c = window.offset_in(scene.grid)
    sl = (slice(r, r + window.rows), slice(c, c + window.cols))
    variables = {k: Variable(v.name, v.data[sl], v.units, v.long_name, v.role, v.source)
                 for k, v in scene.variables.items()}
    return Scene(scene.product, window, variables, scene.path, scene.date, scene.pass_, scene.attrs)


def scene_on(scene: Scene, grid: Grid) -> Scene:
    """``scene`` with every variable brought onto ``grid`` (NaN outside the scene's window)."""
    if scene.grid == grid:
        return scene
    variables = {k: Variable(v.name, regrid(v.data, scene.grid, grid), v.units, v.long_name, v.role, v.source)
                 for k, v in scene.variables.items()}
    return Scene(scene.product, grid, variables, scene.path, scene.date, scene.pass_, scene.attrs)


def read_tb36(path: str, extent=None, extent_crs: str | None = None, pass_: str | None = None,
              ancillary: Sequence[str] = ()) -> Scene:
    """36 km TB V and H from a SMAP product (L1C/L2/L3) or a 2-band raster on the M36 grid.

    ``ancillary``: further 36 km roles to read with the TB (``soil_moisture``, ``vegetation_water_content``,
    ``surface_temperature``, as L2/L3 radiometer products carry them; a raster needs bands of those names).
    """
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    ancillary = list(ancillary)
    if is_raster(path):
        scene = _raster_scene(path, ["tb_v", "tb_h", *ancillary], extent, extent_crs, named=ancillary)
    else:
        try:
            scene = smap.read_smap(path, variables=["tb_v", "tb_h", *ancillary], pass_=pass_, extent=extent,
                                   extent_crs=extent_crs)
        except NoDataError:
            raise
        except InputError as exc:
            if not ancillary or "no variable" not in str(exc):
                raise
            raise InputError(f"{exc} — the model needs the 36 km {', '.join(ancillary)} of an SPL2SMP or "
                             "SPL3SMP product as inputs besides TB") from None
    if scene.grid.name != "M36":
        raise InputError(f"{path}: holds TB on the {scene.grid.name} grid; downscaling needs 36 km (M36) "
                         "brightness temperature (SPL1CTB, SPL2SMP, SPL3SMP or a 2-band M36 raster)")
    tb = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data])
    if not np.isfinite(tb).any():
        raise NoDataError(f"{path}: no valid 36 km brightness temperature in the chosen extent")
    return scene if extent is not None else crop_to_data(scene)


def crop_to_data(scene: Scene) -> Scene:
    """``scene`` on the smallest window holding every cell where some variable has data.

    A global file that holds a region (a subset, a simulation) is then worked on and written at the size
    of its data; a scene without any data is returned unchanged.
    """
    valid = np.zeros(scene.grid.shape, bool)
    for v in scene.variables.values():
        valid |= np.isfinite(v.data)
    return crop_scene(scene, valid_window(scene.grid, valid)) if valid.any() else scene


def valid_window(grid: Grid, valid: np.ndarray) -> Grid:
    """The smallest window of ``grid`` holding every True cell of ``valid``."""
    rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    return grid.window(int(rows[0]), int(cols[0]), int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1))


def regrid(array: np.ndarray, src: Grid, dst: Grid) -> np.ndarray:
    """An array on window ``src`` brought onto window ``dst`` of any nested EASE2 grid.

    Finer → coarser: mean of valid fine cells in each block; coarser → finer: each fine cell takes
    its covering coarse cell's value; cells outside ``src`` are NaN.
    """
    if src.name != dst.name:
        us, ud = GRIDS[src.name][0], GRIDS[dst.name][0]
        if us < ud:  # src finer: average into the dst grid
            coarse_src = src.coarsen(dst.name)
            f = coarse_src.factor_to(src.name)
            pad = np.full(coarse_src.refine(src.name).shape, np.nan, np.float32)
            r, c = src.offset_in(coarse_src.refine(src.name))
            pad[r:r + src.rows, c:c + src.cols] = array
            blocks = pad.reshape(coarse_src.rows, f, coarse_src.cols, f)
            with np.errstate(invalid="ignore"), _quiet():
                mean = np.nanmean(blocks, axis=(1, 3)).astype(np.float32)
            return regrid(mean, coarse_src, dst)
        f = src.factor_to(dst.name)
        return regrid(np.repeat(np.repeat(array, f, 0), f, 1), src.refine(dst.name), dst)
    out = np.full(dst.shape, np.nan, np.float32)
    r0, c0 = max(src.row_off, dst.row_off), max(src.col_off, dst.col_off)
    r1 = min(src.row_off + src.rows, dst.row_off + dst.rows)
    c1 = min(src.col_off + src.cols, dst.col_off + dst.cols)
    if r1 > r0 and c1 > c0:
        out[r0 - dst.row_off:r1 - dst.row_off, c0 - dst.col_off:c1 - dst.col_off] = \
            array[r0 - src.row_off:r1 - src.row_off, c0 - src.col_off:c1 - src.col_off]
    return out


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' warnings inside a with-block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def read_reference(path: str, grid: Grid, roles: Sequence[str]) -> tuple[np.ndarray, str]:
    """Reference fields (one per role) from a SMAP product or a raster, on ``grid``; and a label."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    if is_raster(path):
        rd = read_ease_raster(path)
        names = [n.lower() for n in rd.names]
        arrays = []
        for i, role in enumerate(roles):
            j = names.index(role) if role in names else i
            if j >= len(rd.arrays):
                raise InputError(f"{path}: reference needs bands {', '.join(roles)}")
            arrays.append(regrid(rd.arrays[j], rd.grid, grid))
        label = f"{os.path.basename(path)} ({rd.metadata.get('product', 'raster')})"
    else:
        scene = smap.read_smap(path, variables=list(roles), extent=grid.bounds(), extent_crs="EPSG:6933",
                               grid_name=grid.name if grid.name in ("M03", "M01") else None)
        arrays = [regrid(scene.by_role(role).data, scene.grid, grid) for role in roles]
        label = f"{os.path.basename(path)} ({scene.product}{', simulated' if _simulated(scene) else ''})"
    ref = np.stack(arrays).astype(np.float32)
    if not np.isfinite(ref).any():
        raise InputError(f"{path}: the reference has no valid cell over the output area")
    return ref, label


def _simulated(scene: Scene) -> bool:
    return str(scene.attrs.get("simulated", "")).lower() == "true"


# --- downscaling (case 1) -------------------------------------------------------------------------
@dataclass
class DownscaleResult:
    """Outputs of :func:`downscale`, all on ``grid`` (M09), bands (V, H), NaN = no data."""

    grid: Grid
    cnn: np.ndarray
    baseline: np.ndarray
    device: str
    model_card: dict
    uncertainty: np.ndarray | None = None
    reference: np.ndarray | None = None
    reference_label: str = ""
    metrics: dict = field(default_factory=dict)


def model_origin(model, card: dict, grid: Grid, path: str) -> tuple[int, int]:
    """(row, col) of ``grid``'s first cell in a location-specific model's region; (0, 0) otherwise.

    Raises InputError when the input does not overlap the region the model was trained for.
    """
    if getattr(model, "location", None) is None:
        return (0, 0)
    loc = card.get("location") or {}
    try:
        region = Grid(loc["grid"], loc["row_off"], loc["col_off"], loc["rows"], loc["cols"])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{path}: location-specific model without a valid 'location' in its card") from None
    if region.name != grid.name:
        raise InputError(f"{path}: the model was trained on the {region.name} grid, the output is {grid.name}")
    r, c = grid.offset_in(region)
    if r >= region.rows or c >= region.cols or r + grid.rows <= 0 or c + grid.cols <= 0:
        lon, lat = region.lonlat(np.array([region.rows - 1, 0]), np.array([0, region.cols - 1]))
        raise InputError(f"{path}: this location-specific model knows only its training region "
                         f"(lon {lon[0]:.2f}..{lon[1]:.2f}, lat {lat[0]:.2f}..{lat[1]:.2f}); the input does "
                         "not overlap it. Use a general model or train one for this region.")
    return (r, c)


TB_BOUNDS = (50.0, 340.0)  # K: below calm water at 40° (TB_H ≈ 70 K), above any land TB; SMAP's valid max is 340


def physical_tb(fine: np.ndarray, coarse: np.ndarray | None, factor: int = 4) -> tuple[np.ndarray, int]:
    """Keep 9 km TB within physical bounds and, with ``coarse``, preserve the 36 km block means exactly.

    Each block gets the one shift s for which mean(clip(x + s)) equals its 36 km value (found by
    bisection; it exists whenever that value lies inside the bounds), so detail is kept, the radiometer's
    mean is reproduced and no pixel leaves the bounds. Returns the field and how many pixels the CNN put
    outside the bounds (a sign of inputs unlike the training data, e.g. unusual coasts in real files).
    """
    lo, hi = TB_BOUNDS
    clipped = int(np.count_nonzero((fine < lo) | (fine > hi)))
    if coarse is None:
        return np.clip(fine, lo, hi), clipped
    c, h, w = coarse.shape
    b = fine.astype(np.float64).reshape(c, h, factor, w, factor)
    target = np.clip(coarse.astype(np.float64), lo, hi)[:, :, None, :, None]
    with _quiet():
        shift = target - np.nanmean(b, axis=(2, 4), keepdims=True)  # plain mean preservation
        moved = b + shift
        hard = np.isfinite(shift) & np.any((moved < lo) | (moved > hi), axis=(2, 4), keepdims=True)
        if hard.any():  # only blocks that would leave the bounds need the bisection
            idx = np.nonzero(hard[:, :, 0, :, 0])
            bb = b.transpose(0, 1, 3, 2, 4)[idx]  # (n, factor, factor)
            tt = target[:, :, 0, :, 0][idx][:, None, None]
            s_lo = np.full(tt.shape, -(hi - lo))
            s_hi = np.full(tt.shape, hi - lo)
            for _ in range(36):  # (hi - lo) * 2 / 2**36 < 1e-8 K
                mid = (s_lo + s_hi) / 2
                too_high = np.nanmean(np.clip(bb + mid, lo, hi), axis=(1, 2), keepdims=True) > tt
                s_hi = np.where(too_high, mid, s_hi)
                s_lo = np.where(too_high, s_lo, mid)
            sh = shift[:, :, 0, :, 0]
            sh[idx] = ((s_lo + s_hi) / 2)[:, 0, 0]
            shift = sh[:, :, None, :, None]
    shift = np.where(np.isfinite(shift), shift, 0.0)
    out = np.clip(b + shift, lo, hi).reshape(fine.shape).astype(np.float32)
    return np.where(np.isfinite(fine), out, np.nan), clipped


def block_mean_error(fine: np.ndarray, coarse: np.ndarray, factor: int) -> float:
    """Largest |mean of a valid fine block − its coarse value| (K), over blocks valid in both."""
    c, h, w = fine.shape
    blocks = fine.reshape(c, h // factor, factor, w // factor, factor)
    with _quiet():
        m = np.nanmean(blocks, axis=(2, 4))
    d = np.abs(m - coarse)
    d = d[np.isfinite(d)]
    return float(d.max()) if d.size else float("nan")


def downscale(scene36: Scene, model_path: str | None = None, device: str = "auto",
              mean_preserve: bool = True, reference: str | None = None, uncertainty: bool = False,
              tile: int = 256, feedback: Feedback = SILENT, bf16: bool = False,
              static_path: str | None = None) -> DownscaleResult:
    """36 km TB (V, H) → 9 km with the CNN; the bicubic baseline, optional TTA spread and metrics.

    ``static_path``: a static ancillary raster (``static_*`` bands), needed by models trained with one."""
    from ..model.inference import predict_tiled, resolve_device, upsample, upsample_bicubic
    from ..model.io import load_model

    path = model_path or DEFAULT_TB_MODEL
    dev = resolve_device(device)
    model, card = load_model(path, device=str(dev))
    outputs = [o.get("name") for o in card.get("outputs", [])]
    if outputs[:2] != ["tb_v", "tb_h"]:
        raise InputError(f"{path}: this model predicts {outputs}, not TB V and H (is it a soil-moisture "
                         "model? use 'Estimate soil moisture')")
    grid9 = scene36.grid.refine("M09")
    tb36 = np.stack([scene36.by_role("tb_v").data, scene36.by_role("tb_h").data]).astype(np.float32)
    feedback.info(f"Upsampling {scene36.grid.rows} x {scene36.grid.cols} cells of 36 km TB to 9 km")
    base = upsample_bicubic(tb36, 4)
    method = card.get("input_upsampling", "bicubic")
    x = base if method == "bicubic" else upsample(tb36, 4, method)
    extra = [i.get("name", "") for i in card.get("inputs", [])][2:]
    if extra:
        if not all(n.startswith("static_") for n in extra):
            raise InputError(f"{path}: inputs {', '.join(extra)} beyond TB V/H are not static ancillary bands")
        x = np.concatenate([x, static_inputs(static_path, grid9, extra, np.isfinite(x[:2]).all(axis=0), path)[1]])
    elif static_path:
        feedback.info(f"{path} reads no static inputs: STATIC ({static_path}) is not used")
    feedback.info(f"Running the CNN on {dev} over {grid9.rows} x {grid9.cols} pixels (tiles of {tile}; "
                  f"{method} inputs)")
    origin = model_origin(model, card, grid9, path)
    cnn = predict_tiled(model, card, x, tile=tile, device=str(dev), feedback=feedback, origin=origin, bf16=bf16)
    raw_err = block_mean_error(cnn, tb36, 4)
    cnn, clipped = physical_tb(cnn, tb36 if mean_preserve else None)
    spread = None
    if uncertainty:
        with model.without_location():  # the static map is the same under every flip: no spread from it
            spread = _tta_spread(model, card, x, tile, str(dev), feedback, tb36 if mean_preserve else None)
    result = DownscaleResult(grid9, cnn, base, str(dev), card, uncertainty=spread)
    result.metrics["mean_preservation"] = {
        "max_abs_block_mean_minus_36km_K_without": raw_err,
        "applied": mean_preserve,
        "max_abs_block_mean_minus_36km_K_output": block_mean_error(cnn, tb36, 4),
        "pixels_clipped_to_physical_bounds": clipped, "physical_bounds_K": list(TB_BOUNDS),
    }
    if reference:
        ref, label = read_reference(reference, grid9, ["tb_v", "tb_h"])
        result.reference, result.reference_label = ref, label
        result.metrics.update(tb_metrics(cnn, base, ref, label, upsample(tb36, 4, "nearest")))
    return result


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


def _tta_spread(model, card, base, tile, device, feedback, tb36) -> np.ndarray:
    """Per-pixel std (K) over the 8 flips/rotations of the input (test-time augmentation)."""
    from ..model.inference import mean_preserve as preserve
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
            if tb36 is not None:
                y = preserve(np.ascontiguousarray(y), tb36, 4)
            preds.append(np.ascontiguousarray(y))
            feedback.check()
    return np.std(np.stack(preds), axis=0).astype(np.float32)


# --- soil moisture (case 2) -----------------------------------------------------------------------
@dataclass
class SoilMoistureResult:
    """Outputs of :func:`estimate_soil_moisture` on ``grid`` (M09 or M03), m³/m³, NaN = no data."""

    grid: Grid
    sm: np.ndarray
    device: str
    model_card: dict
    reference: np.ndarray | None = None
    reference_label: str = ""
    metrics: dict = field(default_factory=dict)


FROZEN_K = 273.15  # soil moisture is left empty where the 36 km surface temperature is below this
SM_BASE_INPUTS = ("tb_v", "tb_h", "lst")
#: 36 km inputs of case 2 besides TB: the product's own retrieval and the ancillary it used
SM_ANCILLARY = ("soil_moisture", "vegetation_water_content", "surface_temperature")
SM_INPUTS = SM_BASE_INPUTS + tuple(f"{a}_36km" for a in SM_ANCILLARY)
_SM_UNITS = {"tb_v": "K", "tb_h": "K", "lst": "K", "soil_moisture_36km": "m3/m3",
             "vegetation_water_content_36km": "kg/m2", "surface_temperature_36km": "K"}


def read_static(path: str, grid: Grid) -> dict[str, np.ndarray]:
    """The bands of a static ancillary raster (soil texture, land-cover and water fractions; band names
    ``static_*``) on ``grid``, by name."""
    rd = read_ease_raster(path)
    names = [n.lower() for n in rd.names]
    if not any(n.startswith("static_") for n in names):
        raise InputError(f"{path}: not a static ancillary raster (no band named static_*; bands: "
                         f"{', '.join(names)})")
    return {n: regrid(a, rd.grid, grid) for n, a in zip(names, rd.arrays, strict=True) if n.startswith("static_")}


def static_inputs(path: str | None, grid: Grid, names: Sequence[str] | None, valid: np.ndarray,
                  model_path: str | None = None) -> tuple[list[str], np.ndarray]:
    """The ``static_*`` bands ``names`` (None: every one of the raster, in :data:`STATIC_BANDS` order) of a
    static ancillary raster on ``grid``: (names, a (len(names), H, W) stack). InputError naming the file when it
    is not given, lacks a band or leaves a ``valid`` pixel uncovered (a raster of another area must not pass
    silently as the band means)."""
    who = f"the model {model_path}" if model_path else "the model"
    if not path:
        raise InputError(f"{who} also reads a static ancillary raster (bands {', '.join(names or [])}); give it "
                         "as STATIC")
    static = read_static(path, grid)
    if names is None:
        names = sorted(static, key=lambda n: (STATIC_BANDS.index(n) if n in STATIC_BANDS else 99, n))
    missing = [n for n in names if n not in static]
    if missing:
        raise InputError(f"{path}: lacks the band(s) {', '.join(missing)} that {who} reads")
    arr = np.stack([static[n] for n in names]).astype(np.float32)
    uncovered = valid & ~np.isfinite(arr).all(axis=0)
    if uncovered.any():
        share = 100.0 * uncovered.sum() / max(int(valid.sum()), 1)
        raise InputError(f"{path}: the static ancillary raster leaves {share:.0f} % of the pixels to process "
                         "uncovered (is it for another area?)")
    return list(names), arr


def sm_ancillary(names: Sequence[str]) -> list[str]:
    """The 36 km roles (besides TB) that a case-2 model with input ``names`` reads from the SMAP file."""
    return [n[:-len("_36km")] for n in names if n.endswith("_36km")]


def sm_model_ancillary(model_path: str | None) -> list[str]:
    """The 36 km roles besides TB that the case-2 model at ``model_path`` (None: the bundled one) reads."""
    from ..model.io import read_card

    card = read_card(model_path or DEFAULT_SM_MODEL)
    return sm_ancillary([i.get("name", "") for i in card.get("inputs", [])])


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


def read_lst_on(path: str, grid: Grid, feedback: Feedback = SILENT) -> np.ndarray:
    """LST (K) from a MODIS file or an LST raster, area-averaged onto ``grid``."""
    from . import modis

    return modis.read_lst(path, target=grid, feedback=feedback).by_role("lst").data


def estimate_soil_moisture(scene36: Scene, lst_path: str, model_path: str | None = None,
                           grid_name: str = "M03", device: str = "auto", reference: str | None = None,
                           tile: int = 256, feedback: Feedback = SILENT, bf16: bool = False,
                           static_path: str | None = None) -> SoilMoistureResult:
    """Soil moisture on M09/M03 from 36 km TB and MODIS LST (and, as the model card asks, the product's
    36 km retrieval and a static ancillary raster) with the case-2 CNN; metrics vs a reference."""
    from ..model.inference import predict_tiled, resolve_device
    from ..model.io import load_model

    if grid_name not in ("M09", "M03"):
        raise InputError(f"soil moisture grid must be M09 or M03, not {grid_name}")
    path = model_path or DEFAULT_SM_MODEL
    dev = resolve_device(device)
    model, card = load_model(path, device=str(dev))
    outputs = [o.get("name") for o in card.get("outputs", [])]
    if outputs != ["soil_moisture"]:
        raise InputError(f"{path}: this model predicts {outputs}, not soil moisture (is it a TB model? "
                         "use 'Downscale SMAP brightness temperature')")
    trained_grid = card.get("training", {}).get("grid")
    if trained_grid and trained_grid != grid_name:
        feedback.info(f"Note: the model was trained on the {trained_grid} grid, output is {grid_name}")
    grid = scene36.grid.refine(grid_name)
    lst = read_lst_on(lst_path, grid, feedback)
    if not np.isfinite(lst).any():
        raise InputError(f"{lst_path}: no valid land surface temperature over the SMAP scene's area")
    names = [i.get("name") for i in card.get("inputs", [])]
    snames = [n for n in names if n.startswith("static_")]
    static = None
    if snames:
        valid = regrid(np.isfinite(scene36.by_role("tb_v").data).astype(np.float32), scene36.grid, grid) > 0
        static = dict(zip(*static_inputs(static_path, grid, snames, valid, path), strict=True))
    elif static_path:
        feedback.info(f"{path} reads no static inputs: STATIC ({static_path}) is not used")
    x = sm_inputs(scene36, lst, grid, names, static)
    feedback.info(f"Running the soil-moisture CNN on {dev} over {grid.rows} x {grid.cols} pixels")
    sm = predict_tiled(model, card, x, tile=tile, device=str(dev), feedback=feedback,
                       origin=model_origin(model, card, grid, path), bf16=bf16)[0]
    sm = np.clip(sm, 0.0, 0.6)
    no_retrieval = 0
    if "soil_moisture_36km" in names:  # no estimate where the product itself retrieved nothing (water, flags)
        gap = np.isfinite(sm) & ~np.isfinite(x[names.index("soil_moisture_36km")])
        no_retrieval = int(gap.sum())
        sm[gap] = np.nan
        if no_retrieval:
            feedback.info(f"{no_retrieval} pixels left empty: the product has no 36 km soil-moisture retrieval there")
    frozen = 0
    if scene36.has_role("surface_temperature"):  # no L-band soil moisture on frozen ground (as SMAP flags it)
        ts = regrid(scene36.by_role("surface_temperature").data, scene36.grid, grid)
        cold = np.isfinite(sm) & np.isfinite(ts) & (ts < FROZEN_K)
        frozen = int(cold.sum())
        sm[cold] = np.nan
        if frozen:
            feedback.info(f"{frozen} pixels left empty: the 36 km surface temperature is below {FROZEN_K} K "
                          "(frozen ground)")
    result = SoilMoistureResult(grid, sm.astype(np.float32), str(dev), card)
    result.metrics["frozen_pixels_masked"] = frozen
    result.metrics["pixels_without_36km_retrieval"] = no_retrieval
    if reference:
        ref, label = read_reference(reference, grid, ["soil_moisture"])
        result.reference, result.reference_label = ref[0], label
        result.metrics.update({"reference": label, "bands": {"soil_moisture": {"cnn": compare(sm, ref[0], 0.5)}}})
    return result


# --- comparing any two rasters ----------------------------------------------------------------------
def difference(input_path: str, reference_path: str) -> tuple[Grid, np.ndarray, list[str], dict]:
    """Input − reference per band on the input's grid, with metrics; the reference is regridded
    (block mean when finer, nearest covering cell when coarser) when the grids differ."""
    a = read_ease_raster(input_path)
    b = read_ease_raster(reference_path)
    n = min(len(a.arrays), len(b.arrays))
    method = "same grid" if a.grid.name == b.grid.name else (
        "reference block-averaged onto the input grid" if GRIDS[b.grid.name][0] < GRIDS[a.grid.name][0]
        else "reference cells replicated onto the finer input grid")
    diffs, report = [], {"input": input_path, "reference": reference_path, "resampling": method, "bands": {}}
    for i in range(n):
        ref = regrid(b.arrays[i], b.grid, a.grid)
        diffs.append(a.arrays[i] - ref)
        report["bands"][a.names[i]] = compare(a.arrays[i], ref)
    if not any(np.isfinite(d).any() for d in diffs):
        raise InputError(f"{input_path} and {reference_path} have no valid cell in common")
    return a.grid, np.stack(diffs), a.names[:n], report


# --- training pairs -----------------------------------------------------------------------------------
def _by_date(paths: Sequence[str], read, feedback: Feedback = SILENT) -> dict[dt.date, Scene]:
    """Scenes by date; files without valid data (swath gaps, frozen soil) are skipped with a log line."""
    out: dict[dt.date, Scene] = {}
    for p in paths:
        try:
            s = read(p)
        except NoDataError as exc:
            feedback.info(f"skipped: {exc}")
            continue
        if s.date is None:
            raise InputError(f"{p}: no observation date in the file's metadata")
        out[s.date] = s
    return out


def list_files(spec: str | Sequence[str], exts: Sequence[str], accept=None) -> list[str]:
    """Files from folders, paths, or ';'-separated strings, filtered by extension.

    ``accept(path) -> bool`` filters the contents of folders (so one folder can hold every product);
    files named explicitly are kept, and a wrong one fails later with a clear message.
    """
    items = [spec] if isinstance(spec, str) else list(spec)
    files: list[str] = []
    for item in items:
        for part in str(item).split(";"):
            part = part.strip()
            if not part:
                continue
            if os.path.isdir(part):
                files += [f for f in sorted(os.path.join(part, n) for n in os.listdir(part)
                                            if n.lower().endswith(tuple(exts)))
                          if accept is None or accept(f)]
            elif os.path.isfile(part):
                files.append(part)
            else:
                raise InputError(f"{part}: no such file or folder")
    return files


TB36_PRODUCTS = {"SPL1CTB", "SPL2SMP", "SPL2SMP_NRT", "SPL3SMP"}
TB9_PRODUCTS = {"SPL3SMAP", "SPL2SMAP"}


def product_kind(path: str) -> str:
    """What a file offers for training: 'tb36', 'tb9', 'sm_fine', 'lst' or '' (from its contents)."""
    try:
        if is_raster(path):
            rd = read_ease_raster(path)
            names = [n.lower() for n in rd.names]
            if "lst" in names:
                return "lst"
            if {"tb_v", "tb_h"} <= set(names):
                return {"M36": "tb36", "M09": "tb9"}.get(rd.grid.name, "")
            return ""
        if path.lower().endswith((".hdf", ".hdf4")):
            return "lst"
        product = smap.identify(path)
    except InputError:
        return ""
    if product in TB36_PRODUCTS:
        return "tb36"
    if product in TB9_PRODUCTS:
        return "tb9"
    return "sm_fine" if product == "SPL2SMAP_S" else ""


def kind_filter(kind: str):
    """An ``accept`` function for :func:`list_files` keeping files of one kind."""
    return lambda path: product_kind(path) == kind


def tb_training_data(low: Sequence[str], high: Sequence[str], extent=None, extent_crs: str | None = None,
                     start: dt.date | None = None, end: dt.date | None = None,
                     feedback: Feedback = SILENT, upsampling: str = "bicubic", static_path: str | None = None):
    """Pairs (upsampled 36 km TB [+ static maps] → 9 km target TB) on the days both sides have, as model
    TrainingData. ``static_path``: every ``static_*`` band of that raster (:func:`read_static`) on M09
    becomes an input after TB V and H (high-resolution static inputs: water, land cover, soil).

    ``upsampling``: 'bicubic' (smooth) or 'nearest' (each 36 km value over its 4 x 4 block: the network's
    residual then starts from the observation itself, which suits a location-specific model whose
    static map carries the sub-cell pattern)."""
    from ..model.inference import upsample
    from ..model.train import TrainingData

    lows = _by_date(low, lambda p: read_tb36(p, extent, extent_crs), feedback)
    if not lows:
        raise InputError("none of the 36 km files has valid brightness temperature in the region")
    grid36 = _common_window([s.grid for s in lows.values()])
    grid9 = grid36.refine("M09")
    dates = sorted(d for d in lows if (start is None or d >= start) and (end is None or d <= end))
    highs = _by_date(high, lambda p: _raster_scene(p, ["tb_v", "tb_h"]) if is_raster(p) else
                     smap.read_smap(p, variables=["tb_v", "tb_h"], extent=grid9.bounds(), extent_crs="EPSG:6933"),
                     feedback)
    dates = [d for d in dates if d in highs]
    if not dates:
        raise InputError("no date has both a 36 km input file and a 9 km target file "
                         f"(36 km dates: {_span(lows)}; 9 km dates: {_span(highs)})")
    xs, ys = [], []
    for i, d in enumerate(dates):
        s = lows[d]
        tb36 = np.stack([regrid(s.by_role(r).data, s.grid, grid36) for r in ("tb_v", "tb_h")])
        xs.append(upsample(tb36.astype(np.float32), 4, upsampling))
        h = highs[d]
        ys.append(np.stack([regrid(h.by_role(r).data, h.grid, grid9) for r in ("tb_v", "tb_h")]))
        feedback.progress(100.0 * (i + 1) / len(dates))
    snames: list[str] = []
    if static_path:  # the same static bands every day, over every pixel some day's target covers
        covered = np.isfinite(np.stack(ys)).any(axis=(0, 1))
        snames, fixed = static_inputs(static_path, grid9, None, covered)
        xs = [np.concatenate([x, fixed]) for x in xs]
    data = TrainingData(np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32), dates,
                        ["tb_v", "tb_h", *snames], ["tb_v", "tb_h"], ["K", "K"] + ["1"] * len(snames), ["K", "K"],
                        upsampling)
    return data, grid9, provenance(grid36, dates, {"input": [lows[d] for d in dates],
                                                   "target": [highs[d] for d in dates]})


def sm_training_data(low: Sequence[str], lst: Sequence[str], target: Sequence[str], grid_name: str = "M03",
                     extent=None, extent_crs: str | None = None, start: dt.date | None = None,
                     end: dt.date | None = None, feedback: Feedback = SILENT, ancillary: bool = True,
                     static_path: str | None = None):
    """Pairs (TB V, H, LST [, the 36 km retrieval, VWC, temperature] [, static maps] → soil moisture on
    M09/M03) on the days all three sides have. ``ancillary``: also the 36 km fields of :data:`SM_ANCILLARY`
    as inputs; ``static_path``: also every ``static_*`` band of that raster (:func:`read_static`)."""
    from ..model.train import TrainingData
    from . import modis

    names = list(SM_INPUTS if ancillary else SM_BASE_INPUTS)
    anc = sm_ancillary(names)
    lows = _by_date(low, lambda p: read_tb36(p, extent, extent_crs, ancillary=anc), feedback)
    if not lows:
        raise InputError("none of the 36 km files has valid brightness temperature in the region")
    grid36 = _common_window([s.grid for s in lows.values()])
    grid = grid36.refine(grid_name)
    lsts = _by_date(lst, lambda p: modis.read_lst(p, target=grid), feedback)
    tgts = _by_date(target, lambda p: _raster_scene(p, ["soil_moisture"]) if is_raster(p) else
                    smap.read_smap(p, variables=["soil_moisture"], extent=grid.bounds(), extent_crs="EPSG:6933",
                                   grid_name=grid_name if grid_name in ("M03", "M01") else None), feedback)
    dates = [d for d in sorted(lows) if d in lsts and d in tgts
             and (start is None or d >= start) and (end is None or d <= end)]
    if not dates:
        raise InputError("no date has a 36 km TB file, an LST file and a soil-moisture target file")
    ys = [regrid(tgts[d].by_role("soil_moisture").data, tgts[d].grid, grid)[None] for d in dates]
    static = None
    if static_path:  # every pixel some day's target covers must have static values
        snames, arr = static_inputs(static_path, grid, None, np.isfinite(np.stack(ys)).any(axis=(0, 1)))
        names += snames
        static = dict(zip(snames, arr, strict=True))
    xs = []
    for i, d in enumerate(dates):
        xs.append(sm_inputs(scene_on(lows[d], grid36), lsts[d].by_role("lst").data, grid, names, static))
        feedback.progress(100.0 * (i + 1) / len(dates))
    data = TrainingData(np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32), dates,
                        list(names), ["soil_moisture"], [_SM_UNITS.get(n, "1") for n in names], ["m3/m3"])
    return data, grid, provenance(grid36, dates, {"input": [lows[d] for d in dates],
                                                  "lst": [lsts[d] for d in dates],
                                                  "target": [tgts[d] for d in dates]})


def provenance(grid36: Grid, dates: Sequence[dt.date], sides: dict[str, list[Scene]]) -> dict:
    """What a model card says about its training data: products, region, dates, simulated or real."""
    lon, lat = grid36.lonlat(np.array([grid36.rows - 1, 0]), np.array([0, grid36.cols - 1]))
    simulated = all(_simulated(s) for scenes in sides.values() for s in scenes)
    real = not any(_simulated(s) for scenes in sides.values() for s in scenes)
    seeds = sorted({s.attrs.get("seed") for scenes in sides.values() for s in scenes if s.attrs.get("seed")})
    return {
        "data": "simulated" if simulated else ("real" if real else "mixed simulated and real"),
        "products": {k: sorted({s.product for s in v}) for k, v in sides.items()},
        "region": {"grid": grid36.name, "row_off": grid36.row_off, "col_off": grid36.col_off,
                   "rows": grid36.rows, "cols": grid36.cols,
                   "lon_min": round(float(lon[0]), 3), "lat_min": round(float(lat[0]), 3),
                   "lon_max": round(float(lon[1]), 3), "lat_max": round(float(lat[1]), 3)},
        "dates": [str(min(dates)), str(max(dates))], "days": len(dates),
        "simulation_seeds": seeds,
        "climates": sorted({s.attrs.get("climate") for v in sides.values() for s in v if s.attrs.get("climate")}),
    }


def _span(d: dict) -> str:
    return f"{min(d)}..{max(d)}" if d else "none"


def _common_window(grids: Sequence[Grid]) -> Grid:
    """The window covering every day's cells with data (days with swath gaps leave NaN, not a smaller region)."""
    g0 = grids[0]
    r0 = min(g.row_off for g in grids)
    c0 = min(g.col_off for g in grids)
    r1 = max(g.row_off + g.rows for g in grids)
    c1 = max(g.col_off + g.cols for g in grids)
    window = Grid(g0.name, r0, c0, r1 - r0, c1 - c0)
    if window.rows * window.cols > 4 * sum(g.rows * g.cols for g in grids) / len(grids):
        raise InputError("the 36 km files cover different regions; choose an EXTENT for training")
    return window
