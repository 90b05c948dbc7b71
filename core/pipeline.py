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
from dataclasses import dataclass, field, replace

import numpy as np

from . import smap
from .blocks import block_mean, place, repeat_blocks
from .errors import InputError, NoDataError
from .feedback import SILENT, Feedback
from .grid import GRIDS, Grid
from .metrics import compare
from .physical import RANGES, check_field, quantity_of
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


def raster_band(path: str, rd, role: str, position: int, what: str = "") -> tuple[np.ndarray, int, int]:
    """The band of raster ``rd`` that holds ``role``: the band of that name, else the one at ``position``.

    Returns (values with out-of-range pixels set to NaN, the band's 0-based index, how many pixels were out
    of the physical range). InputError naming the file and band when the raster has too few bands, when the
    band's name or units say it holds another quantity (a soil-moisture band where TB is expected), or when
    its values lie mostly outside the role's physical range (:mod:`core.physical`)."""
    names = [n.lower() for n in rd.names]
    j = names.index(role) if role in names else position
    if j >= len(rd.arrays):
        raise InputError(f"{path}: {what or 'needs'} a {role} band (band {j + 1}); the raster has {len(rd.arrays)} "
                         f"band(s): {', '.join(rd.names)}")
    want, have = quantity_of(role), quantity_of(names[j])
    unit_q = _UNIT_QUANTITY.get((rd.units[j] or "").strip().lower()) if j < len(rd.units) else None
    if want and ((have and have != want) or (unit_q and unit_q not in _UNIT_COMPATIBLE.get(want, ()))):
        got = f"{rd.names[j]}" + (f" in {rd.units[j]}" if rd.units[j] else "")
        raise InputError(f"{path}: band {j + 1} holds {got}, not {role} ({RANGES[want].quantity}); "
                         f"{what or 'this input'} needs {role}")
    values, check = check_field(rd.arrays[j], role, f"{path}: band {j + 1} ({rd.names[j]})")
    return values, j, check.out_of_range


# units a band may carry for each quantity (a band in m3/m3 is not TB, whatever its name)
_UNIT_QUANTITY = {"k": "kelvin", "kelvin": "kelvin", "kelvins": "kelvin", "m3/m3": "volumetric",
                  "cm**3/cm**3": "volumetric", "db": "db", "kg/m2": "areal_mass", "kg/m**2": "areal_mass"}
_UNIT_COMPATIBLE = {"tb": ("kelvin",), "temperature": ("kelvin",), "soil_moisture": ("volumetric",),
                    "sigma0": ("db",), "vegetation_water_content": ("areal_mass",), "fraction": (), "count": ()}


def _raster_scene(path: str, roles: Sequence[str], extent=None, extent_crs=None, named: Sequence[str] = ()) -> Scene:
    """``roles`` from a raster: a band of that name, else the band at the role's position; the roles in
    ``named`` must be a band of that name. Values outside a role's physical range become no data (counted
    in ``Variable.out_of_range``); a band mostly out of range is refused by name (:func:`raster_band`)."""
    rd = read_ease_raster(path)
    names = [n.lower() for n in rd.names]
    missing = [r for r in named if r not in names]
    if missing:
        raise InputError(f"{path}: the model needs 36 km {', '.join(missing)} as inputs; this raster has bands "
                         f"{', '.join(names)} (use an SPL2SMP or SPL3SMP file, which carries them)")
    variables: dict[str, Variable] = {}
    for i, role in enumerate(roles):
        if i >= len(rd.arrays) and role not in names:
            raise InputError(f"{path}: needs {len(roles)} bands ({', '.join(roles)}), has {len(rd.arrays)}")
        values, j, n_out = raster_band(path, rd, role, i)
        variables[role] = Variable(role, values, rd.units[j], rd.names[j], role, f"band {j + 1}", n_out)
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
    variables = {k: replace(v, data=v.data[sl]) for k, v in scene.variables.items()}
    return Scene(scene.product, window, variables, scene.path, scene.date, scene.pass_, scene.attrs)


def scene_on(scene: Scene, grid: Grid) -> Scene:
    """``scene`` with every variable brought onto ``grid`` (NaN outside the scene's window)."""
    if scene.grid == grid:
        return scene
    variables = {k: replace(v, data=regrid(v.data, scene.grid, grid)) for k, v in scene.variables.items()}
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
            aligned = coarse_src.refine(src.name)
            pad = place(array, (src.row_off, src.col_off), (aligned.row_off, aligned.col_off), aligned.shape)
            mean = block_mean(pad, coarse_src.factor_to(src.name), skip_nan=True).astype(np.float32)
            return regrid(mean, coarse_src, dst)
        return regrid(repeat_blocks(array, src.factor_to(dst.name)), src.refine(dst.name), dst)
    return place(array, (src.row_off, src.col_off), (dst.row_off, dst.col_off), dst.shape)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' warnings inside a with-block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def read_reference(path: str, grid: Grid, roles: Sequence[str], regrid_reference: bool = False,
                   info: dict | None = None) -> tuple[np.ndarray, str]:
    """Reference fields (one per role) from a SMAP product or a raster, on ``grid``; and a label.

    The reference must hold the quantity of each role (a soil-moisture raster is no TB reference: refused by
    name, as is one whose values lie mostly outside the physical range). A reference on another EASE2 grid
    than ``grid`` is resampled only with ``regrid_reference`` (block mean of valid cells when finer, the
    covering cell when coarser), else refused with a sentence; a window of the same grid is only cropped.
    ``info`` (a dict, optional) receives the reference's ``date`` (or None), ``grid``, ``resampling`` (how it
    was brought onto ``grid``) and ``out_of_range`` (pixels set to no data by the physical-range check)."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    n_out = 0
    if is_raster(path):
        rd = read_ease_raster(path)
        src_grid, date = rd.grid, _parse_date(rd.metadata.get("date"))
        fields = []
        for i, role in enumerate(roles):
            values, _, n = raster_band(path, rd, role, i, "the reference")
            fields.append(values)
            n_out += n
        label = f"{os.path.basename(path)} ({rd.metadata.get('product', 'raster')})"
    else:
        try:
            scene = smap.read_smap(path, variables=list(roles), extent=grid.bounds(), extent_crs="EPSG:6933",
                                   grid_name=grid.name if grid.name in ("M03", "M01") else None)
        except NoDataError:
            raise
        except InputError as exc:
            if "no variable" not in str(exc):
                raise
            raise InputError(f"{path}: is no reference for {', '.join(roles)}: {exc}") from None
        src_grid, date = scene.grid, scene.date
        fields = [scene.by_role(role).data for role in roles]
        n_out = sum(scene.by_role(role).out_of_range for role in roles)
        label = f"{os.path.basename(path)} ({scene.product}{', simulated' if _simulated(scene) else ''})"
    method = resampling_method(src_grid, grid)
    if src_grid.name != grid.name and not regrid_reference:
        raise InputError(f"{path}: the reference is on the {src_grid.name} grid, the output on {grid.name}; "
                         f"it is compared only on the same grid unless resampling is asked for ({method}; "
                         "core: regrid_reference=True)")
    ref = np.stack([regrid(f, src_grid, grid) for f in fields]).astype(np.float32)
    if not np.isfinite(ref).any():
        raise InputError(f"{path}: the reference has no valid cell over the output area")
    if info is not None:
        info.update({"date": date, "grid": src_grid.name, "resampling": method, "out_of_range": n_out})
    return ref, label


def resampling_method(src: Grid, dst: Grid) -> str:
    """How :func:`regrid` brings a field on ``src`` onto ``dst``, in words (for reports)."""
    if src.name == dst.name:
        return "same grid"
    if GRIDS[src.name][0] < GRIDS[dst.name][0]:
        return f"block mean of the valid {src.name} cells in each {dst.name} cell"
    return f"each {dst.name} cell takes its covering {src.name} cell (replicated)"


def check_dates(what: dict[str, tuple[str, dt.date | None]], max_days_apart: int = 0,
                parameter: str = "the date tolerance") -> dict:
    """Cross-check the observation dates of a run's inputs: {role: (file, date or None)}, the first the anchor.

    Returns {"<role>_date": iso or None, "<role>_gap_days": days from the anchor} for every input with a
    date (inputs without one are reported as unknown, not refused). InputError naming both files and dates
    when one lies more than ``max_days_apart`` days (default 0: the same day) from the anchor."""
    if max_days_apart < 0:
        raise InputError(f"{parameter} must be 0 or more days, got {max_days_apart}")
    items = list(what.items())
    anchor_role, (anchor_path, anchor) = items[0]
    out: dict = {f"{anchor_role}_date": anchor.isoformat() if anchor else None}
    for role, (p, d) in items[1:]:
        out[f"{role}_date"] = d.isoformat() if d else None
        if anchor is None or d is None:
            out[f"{role}_gap_days"] = None
            continue
        gap = (d - anchor).days
        out[f"{role}_gap_days"] = gap
        if abs(gap) > max_days_apart:
            raise InputError(f"{p} ({role}, {d}) is {abs(gap)} day(s) {'after' if gap > 0 else 'before'} "
                             f"{anchor_path} ({anchor_role}, {anchor}); inputs must be within {max_days_apart} "
                             f"day(s) of each other ({parameter})")
    return out


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


def model_origin(model, card: dict, grid: Grid, path: str, valid: np.ndarray | None = None) -> tuple[int, int]:
    """(row, col) of ``grid``'s first cell in a location-specific model's region; (0, 0) otherwise.

    A location-specific model knows its static sub-cell map only inside the window it was trained on: every
    pixel to process (``valid``, a boolean array on ``grid``; None: the whole of ``grid``) must lie in it.
    Raises InputError naming both windows (grid rows/cols and lon/lat) when any does not.
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
    need = grid
    if valid is not None and valid.shape == grid.shape and valid.any():
        need = valid_window(grid, valid)
    rr, cc = need.offset_in(region)
    if rr < 0 or cc < 0 or rr + need.rows > region.rows or cc + need.cols > region.cols:
        overlap = not (r >= region.rows or c >= region.cols or r + grid.rows <= 0 or c + grid.cols <= 0)
        raise InputError(f"{path}: this location-specific model knows only its training region "
                         f"{window_text(region)}; the input's pixels to process span {window_text(need)}, "
                         f"{'partly' if overlap else 'entirely'} outside it. Use EXTENT to stay inside the "
                         "training region, a general model, or train one for this region.")
    return (r, c)


def window_text(g: Grid) -> str:
    """'M09 rows 10..25, cols 40..55 (lon -98.30..-96.70, lat 36.00..37.20)' for messages."""
    lon, lat = g.lonlat(np.array([g.rows - 1, 0]), np.array([0, g.cols - 1]))
    return (f"{g.name} rows {g.row_off}..{g.row_off + g.rows - 1}, cols {g.col_off}..{g.col_off + g.cols - 1} "
            f"(lon {lon[0]:.2f}..{lon[1]:.2f}, lat {lat[0]:.2f}..{lat[1]:.2f})")


#: K, (V, H): the lowest emission of any natural surface seen by SMAP (40° incidence): calm open water,
#: minimised over salinity 0–40 psu and 271–305 K with the Klein–Swift permittivity and Fresnel's equations
#: (108.5 K V, 69.3 K H at 40 psu, 305 K; fresh water at 273 K gives 117.7 / 77.0 K). Rough water, land,
#: vegetation and the atmosphere only add emission; tests/test_physical_tb.py recomputes it.
TB_FLOOR = (108.0, 69.0)
TB_CEILING = 340.0  # K: above any land TB; SMAP's valid max is 330-340 K
TB_BOUNDS = (min(TB_FLOOR), TB_CEILING)  # the loosest bounds over both polarisations (for reports)


def physical_tb(fine: np.ndarray, coarse: np.ndarray | None, factor: int = 4) -> tuple[np.ndarray, int]:
    """Keep 9 km TB (bands V, H) between the open-water floor and the ceiling and, with ``coarse``, preserve
    the 36 km block means exactly.

    Each block gets the one shift s for which mean(clip(x + s)) equals its 36 km value (found by
    bisection; it exists whenever that value lies inside the bounds; a 36 km value below the floor — e.g. a
    water-corrected TB over open water — is raised to it), so detail is kept, the radiometer's mean is
    reproduced and no pixel leaves the bounds. Returns the field and how many pixels the CNN put outside the
    bounds (a sign of inputs unlike the training data, e.g. unusual coasts in real files).
    """
    c = fine.shape[0]
    if c != len(TB_FLOOR):
        raise InputError(f"physical_tb expects the two TB bands (V, H), got {c}")
    lo = np.asarray(TB_FLOOR, np.float64)
    hi = TB_CEILING
    lo_f = lo[:, None, None]
    with _quiet():
        clipped = int(np.count_nonzero((fine < lo_f) | (fine > hi)))
    if coarse is None:
        return np.where(np.isfinite(fine), np.clip(fine, lo_f, hi), np.nan).astype(np.float32), clipped
    _, h, w = coarse.shape
    b = fine.astype(np.float64).reshape(c, h, factor, w, factor)
    lo5 = lo[:, None, None, None, None]
    target = bounded_tb36(coarse)[0].astype(np.float64)[:, :, None, :, None]
    with _quiet():
        shift = target - block_mean(fine, factor, skip_nan=True)[:, :, None, :, None]  # plain mean preservation
        moved = b + shift
        hard = np.isfinite(shift) & np.any((moved < lo5) | (moved > hi), axis=(2, 4), keepdims=True)
        if hard.any():  # only blocks that would leave the bounds need the bisection
            idx = np.nonzero(hard[:, :, 0, :, 0])
            bb = b.transpose(0, 1, 3, 2, 4)[idx]  # (n, factor, factor)
            tt = target[:, :, 0, :, 0][idx][:, None, None]
            ll = lo[idx[0]][:, None, None]
            s_lo = ll - hi
            s_hi = hi - ll
            for _ in range(40):  # (hi - lo) * 2 / 2**40 < 1e-9 K
                mid = (s_lo + s_hi) / 2
                too_high = np.nanmean(np.clip(bb + mid, ll, hi), axis=(1, 2), keepdims=True) > tt
                s_hi = np.where(too_high, mid, s_hi)
                s_lo = np.where(too_high, s_lo, mid)
            sh = shift[:, :, 0, :, 0]
            sh[idx] = ((s_lo + s_hi) / 2)[:, 0, 0]
            shift = sh[:, :, None, :, None]
    shift = np.where(np.isfinite(shift), shift, 0.0)
    out = np.clip(b + shift, lo5, hi).reshape(fine.shape).astype(np.float32)
    return np.where(np.isfinite(fine), out, np.nan), clipped


def bounded_tb36(tb36: np.ndarray) -> tuple[np.ndarray, int]:
    """36 km TB (V, H) raised to the open-water floor / lowered to the ceiling — what the 9 km output's block
    means reproduce — and how many cells were outside (water-corrected TB over open water can fall below
    any natural emission)."""
    lo = np.asarray(TB_FLOOR, np.float64)[:, None, None]
    with _quiet():
        outside = int(np.count_nonzero((tb36 < lo) | (tb36 > TB_CEILING)))
    return np.where(np.isfinite(tb36), np.clip(tb36, lo, TB_CEILING), np.nan).astype(np.float32), outside


def block_mean_error(fine: np.ndarray, coarse: np.ndarray, factor: int) -> float:
    """Largest |mean of a valid fine block − its coarse value| (K), over blocks valid in both."""
    d = np.abs(block_mean(fine, factor, skip_nan=True) - coarse)
    d = d[np.isfinite(d)]
    return float(d.max()) if d.size else float("nan")


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
    from ..model.inference import predict_tiled, resolve_device, upsample, upsample_bicubic
    from ..model.io import load_model

    path = model_path or DEFAULT_TB_MODEL
    dev = resolve_device(device)
    model, card = loaded if loaded is not None else load_model(path, device=str(dev))
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
    origin = model_origin(model, card, grid9, path, np.isfinite(x[:2]).all(axis=0))
    cnn = predict_tiled(model, card, x, tile=tile, device=str(dev), feedback=feedback, origin=origin, bf16=bf16)
    raw_err = block_mean_error(cnn, tb36, 4)
    cnn, clipped = physical_tb(cnn, tb36 if mean_preserve else None)
    bounded, outside = bounded_tb36(tb36)
    spread = None
    if uncertainty:
        with model.without_location():  # the static map is the same under every flip: no spread from it
            spread = _tta_spread(model, card, x, tile, str(dev), feedback, tb36 if mean_preserve else None)
    result = DownscaleResult(grid9, cnn, base, str(dev), card, uncertainty=spread)
    result.metrics["mean_preservation"] = {
        "max_abs_block_mean_minus_36km_K_without": raw_err,
        "applied": mean_preserve,
        "max_abs_block_mean_minus_36km_K_output": block_mean_error(cnn, bounded, 4),
        "input_36km_cells_outside_physical_bounds": outside,
        "pixels_clipped_to_physical_bounds": clipped, "physical_bounds_K":
        f"V {TB_FLOOR[0]:g}–{TB_CEILING:g}, H {TB_FLOOR[1]:g}–{TB_CEILING:g}",
    }
    result.metrics["input_pixels_out_of_physical_range"] = scene36.out_of_range()
    if reference:
        info: dict = {}
        ref, label = read_reference(reference, grid9, ["tb_v", "tb_h"], regrid_reference, info)
        result.metrics["dates"] = check_dates({"input": (scene36.path, scene36.date),
                                               "reference": (reference, info["date"])}, max_days_apart)
        result.metrics["reference_resampling"] = info["resampling"]
        result.metrics["reference_pixels_out_of_physical_range"] = info["out_of_range"]
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
    return {n: regrid(check_field(a, n, f"{path}: band {i + 1} ({n})")[0], rd.grid, grid)
            for i, (n, a) in enumerate(zip(names, rd.arrays, strict=True)) if n.startswith("static_")}


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
    return read_lst_scene(path, grid, feedback).by_role("lst").data


def read_lst_scene(path: str, grid: Grid, feedback: Feedback = SILENT) -> Scene:
    """The LST scene (date, out-of-range counts) of a MODIS file or an LST raster on ``grid``; QC on, and no
    hint to turn it off (soil moisture has no such option)."""
    from . import modis

    return modis.read_lst(path, target=grid, feedback=feedback, qc_option=None)


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
    outputs = [o.get("name") for o in card.get("outputs", [])]
    if outputs != ["soil_moisture"]:
        raise InputError(f"{path}: this model predicts {outputs}, not soil moisture (is it a TB model? "
                         "use 'Downscale SMAP brightness temperature')")
    trained_grid = card.get("training", {}).get("grid")
    if trained_grid and trained_grid != grid_name:
        feedback.info(f"Note: the model was trained on the {trained_grid} grid, output is {grid_name}")
    grid = scene36.grid.refine(grid_name)
    lst_scene = read_lst_scene(lst_path, grid, feedback)
    dates = check_dates({"input": (scene36.path, scene36.date), "lst": (lst_path, lst_scene.date)}, max_days_apart)
    lst = lst_scene.by_role("lst").data
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
                       origin=model_origin(model, card, grid, path, np.isfinite(x[:2]).all(axis=0)), bf16=bf16)[0]
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
    result.metrics["input_pixels_out_of_physical_range"] = {**scene36.out_of_range(), **lst_scene.out_of_range()}
    result.metrics["dates"] = dates
    if reference:
        info: dict = {}
        ref, label = read_reference(reference, grid, ["soil_moisture"], regrid_reference, info)
        result.metrics["dates"] = check_dates({"input": (scene36.path, scene36.date),
                                               "lst": (lst_path, lst_scene.date),
                                               "reference": (reference, info["date"])}, max_days_apart)
        result.metrics["reference_resampling"] = info["resampling"]
        result.metrics["reference_pixels_out_of_physical_range"] = info["out_of_range"]
        result.reference, result.reference_label = ref[0], label
        result.metrics.update({"reference": label, "bands": {"soil_moisture": {"cnn": compare(sm, ref[0], 0.5)}}})
    return result


# --- comparing any two rasters ----------------------------------------------------------------------
def difference(input_path: str, reference_path: str,
               regrid_reference: bool = True) -> tuple[Grid, np.ndarray, list[str], dict]:
    """Input − reference per band on the input's grid, with metrics; the reference is regridded
    (block mean when finer, nearest covering cell when coarser) when the grids differ and ``regrid_reference``
    (the report's ``resampling`` says how), else refused with a sentence naming both grids. Both must hold the
    same quantity band for band (by band name, else by units)."""
    a = read_ease_raster(input_path)
    b = read_ease_raster(reference_path)
    if a.grid.name != b.grid.name and not regrid_reference:
        raise InputError(f"{reference_path}: the reference is on the {b.grid.name} grid, {input_path} on "
                         f"{a.grid.name}; they are compared only on the same grid unless resampling is asked for "
                         f"({resampling_method(b.grid, a.grid)})")
    n = min(len(a.arrays), len(b.arrays))
    for i in range(n):  # the same quantity in both (by band name, else by units): never TB minus soil moisture
        qa, qb = quantity_of(a.names[i]), quantity_of(b.names[i])
        ua, ub = (_UNIT_QUANTITY.get((x[i] or "").strip().lower()) for x in (a.units, b.units))
        if (qa and qb and qa != qb) or (ua and ub and ua != ub):
            raise InputError(f"{reference_path}: band {i + 1} holds {b.names[i]} ({b.units[i] or 'no units'}), "
                             f"{input_path} band {i + 1} holds {a.names[i]} ({a.units[i] or 'no units'}): a "
                             "reference must hold the quantity it is compared with")
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
        feedback.check()
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
                     feedback: Feedback = SILENT, upsampling: str = "bicubic", static_path: str | None = None,
                     static_names: Sequence[str] | None = None):
    """Pairs (upsampled 36 km TB [+ static maps] → 9 km target TB) on the days both sides have, as model
    TrainingData. ``static_path``: every ``static_*`` band of that raster (:func:`read_static`) on M09
    becomes an input after TB V and H (high-resolution static inputs: water, land cover, soil); with
    ``static_names`` only those bands, in that order.

    ``upsampling``: 'bicubic' (smooth) or 'nearest' (each 36 km value over its 4 x 4 block: the network's
    residual then starts from the observation itself, which suits a location-specific model whose
    static map carries the sub-cell pattern)."""
    from ..model.inference import upsample
    from ..model.train import TrainingData

    check_date_range(start, end)
    lows = _by_date(low, lambda p: read_tb36(p, extent, extent_crs), feedback)
    if not lows:
        raise InputError("none of the 36 km files has valid brightness temperature in the region")
    grid36 = _common_window([s.grid for s in lows.values()])
    grid9 = grid36.refine("M09")
    dates = sorted(d for d in lows if (start is None or d >= start) and (end is None or d <= end))
    highs = _by_date(high, lambda p: _target_scene(p, ["tb_v", "tb_h"], grid9, "M09", "9 km TB"), feedback)
    dates = [d for d in dates if d in highs]
    if not dates:
        raise InputError("no date has both a 36 km input file and a 9 km target file"
                         f"{_in_range_text(start, end)} (36 km dates: {_span(lows)}; 9 km dates: {_span(highs)})")
    xs, ys = [], []
    for i, d in enumerate(dates):
        s = lows[d]
        tb36 = np.stack([regrid(s.by_role(r).data, s.grid, grid36) for r in ("tb_v", "tb_h")])
        xs.append(upsample(tb36.astype(np.float32), 4, upsampling))
        h = highs[d]
        ys.append(np.stack([regrid(h.by_role(r).data, h.grid, grid9) for r in ("tb_v", "tb_h")]))
        feedback.progress(100.0 * (i + 1) / len(dates))
        feedback.check()
    snames: list[str] = []
    if static_path:  # the same static bands every day, over every pixel some day's target covers
        covered = np.isfinite(np.stack(ys)).any(axis=(0, 1))
        snames, fixed = static_inputs(static_path, grid9, static_names, covered)
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

    check_date_range(start, end)
    names = list(SM_INPUTS if ancillary else SM_BASE_INPUTS)
    anc = sm_ancillary(names)
    lows = _by_date(low, lambda p: read_tb36(p, extent, extent_crs, ancillary=anc), feedback)
    if not lows:
        raise InputError("none of the 36 km files has valid brightness temperature in the region")
    grid36 = _common_window([s.grid for s in lows.values()])
    grid = grid36.refine(grid_name)
    lsts = _by_date(lst, lambda p: modis.read_lst(p, target=grid, qc_option=None), feedback)
    tgts = _by_date(target, lambda p: _target_scene(p, ["soil_moisture"], grid, grid_name, "soil-moisture"),
                    feedback)
    dates = [d for d in sorted(lows) if d in lsts and d in tgts
             and (start is None or d >= start) and (end is None or d <= end)]
    if not dates:
        raise InputError(f"no date{_in_range_text(start, end)} has a 36 km TB file, an LST file and a "
                         f"soil-moisture target file (36 km dates: {_span(lows)}; LST dates: {_span(lsts)}; "
                         f"target dates: {_span(tgts)})")
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
        feedback.check()
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


def check_date_range(start: dt.date | None, end: dt.date | None) -> None:
    """InputError when END lies before START (both given)."""
    if start is not None and end is not None and end < start:
        raise InputError(f"END ({end}) is before START ({start}): no day can be used; swap them")


def _in_range_text(start: dt.date | None, end: dt.date | None) -> str:
    if start is None and end is None:
        return ""
    return f" between START {start or 'any'} and END {end or 'any'}"


def _target_scene(path: str, roles: list[str], grid: Grid, grid_name: str, what: str) -> Scene:
    """A training target (9 km TB or fine soil moisture) read onto ``grid``'s area; InputError naming the file
    when it lies on a coarser grid than ``grid_name`` (a 36 km file given as a 9 km target would only repeat
    its cells and teach the network nothing)."""
    if is_raster(path):
        scene = _raster_scene(path, roles)
    else:
        scene = smap.read_smap(path, variables=roles, extent=grid.bounds(), extent_crs="EPSG:6933",
                               grid_name=grid_name if grid_name in ("M03", "M01") else None)
    if GRIDS[scene.grid.name][0] > GRIDS[grid_name][0] * 1.001:
        raise InputError(f"{path}: holds {scene.product} on the {scene.grid.name} grid; {what} targets "
                         f"(INPUT_HIGH) must be on {grid_name} or finer")
    return scene


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
