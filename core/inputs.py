"""The inputs of a run read and checked: 36 km TB scenes, references, static ancillary rasters and LST on a grid.

Reads SMAP products (:mod:`core.smap`), MODIS LST (:mod:`core.modis`) and EASE2 GeoTIFFs (:mod:`core.raster`);
every value outside its quantity's physical range becomes NaN and is counted (:mod:`core.physical`); a band of
another quantity, grid or day is refused with an InputError naming the file. QGIS- and torch-free.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

import numpy as np

from . import modis, smap
from .errors import InputError, NoDataError
from .feedback import SILENT, Feedback
from .grid import Grid
from .physical import RANGES, check_field, quantity_of
from .raster import read_ease_raster
from .regrid import crop_scene, crop_to_data, regrid, resampling_method
from .scene import STATIC_BANDS, Scene, Variable

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
    unit_q = UNIT_QUANTITY.get((rd.units[j] or "").strip().lower()) if j < len(rd.units) else None
    if want and ((have and have != want) or (unit_q and unit_q not in UNIT_COMPATIBLE.get(want, ()))):
        got = f"{rd.names[j]}" + (f" in {rd.units[j]}" if rd.units[j] else "")
        raise InputError(f"{path}: band {j + 1} holds {got}, not {role} ({RANGES[want].quantity}); "
                         f"{what or 'this input'} needs {role}")
    values, check = check_field(rd.arrays[j], role, f"{path}: band {j + 1} ({rd.names[j]})")
    return values, j, check.out_of_range


# units a band may carry for each quantity (a band in m3/m3 is not TB, whatever its name)
UNIT_QUANTITY = {"k": "kelvin", "kelvin": "kelvin", "kelvins": "kelvin", "m3/m3": "volumetric",
                  "cm**3/cm**3": "volumetric", "db": "db", "kg/m2": "areal_mass", "kg/m**2": "areal_mass"}
UNIT_COMPATIBLE = {"tb": ("kelvin",), "temperature": ("kelvin",), "soil_moisture": ("volumetric",),
                    "sigma0": ("db",), "vegetation_water_content": ("areal_mass",), "fraction": (), "count": ()}


def raster_scene(path: str, roles: Sequence[str], extent=None, extent_crs=None, named: Sequence[str] = ()) -> Scene:
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
                  date=parse_date(rd.metadata.get("date")), pass_=rd.metadata.get("pass") or None)
    if extent is not None:
        sub = grid.subset(extent, extent_crs)
        scene = crop_scene(scene, sub)
    return scene


def parse_date(text: str | None) -> dt.date | None:
    """An ISO date (a raster's ``date`` metadata) as a date; None when missing or not a date."""
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


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
        scene = raster_scene(path, ["tb_v", "tb_h", *ancillary], extent, extent_crs, named=ancillary)
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
        src_grid, date = rd.grid, parse_date(rd.metadata.get("date"))
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
        label = f"{os.path.basename(path)} ({scene.product}{', simulated' if is_simulated(scene) else ''})"
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


def read_reference_checked(path: str, grid: Grid, roles: Sequence[str], regrid_reference: bool,
                           inputs: dict[str, tuple[str, dt.date | None]],
                           max_days_apart: int) -> tuple[np.ndarray, str, dict]:
    """:func:`read_reference` and its date checked against the run's ``inputs`` ({role: (file, date)}, the
    first the anchor; :func:`check_dates`): (reference fields on ``grid``, label, the report's ``dates``,
    ``reference_resampling`` and ``reference_pixels_out_of_physical_range``)."""
    info: dict = {}
    ref, label = read_reference(path, grid, roles, regrid_reference, info)
    dates = check_dates({**inputs, "reference": (path, info["date"])}, max_days_apart)
    return ref, label, {"dates": dates, "reference_resampling": info["resampling"],
                        "reference_pixels_out_of_physical_range": info["out_of_range"]}


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


def is_simulated(scene: Scene) -> bool:
    """Whether a scene comes from the plugin's simulator (its files say ``simulated=true``)."""
    return str(scene.attrs.get("simulated", "")).lower() == "true"


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


def read_lst_on(path: str, grid: Grid, feedback: Feedback = SILENT) -> np.ndarray:
    """LST (K) from a MODIS file or an LST raster, area-averaged onto ``grid``."""
    return read_lst_scene(path, grid, feedback).by_role("lst").data


def read_lst_scene(path: str, grid: Grid, feedback: Feedback = SILENT) -> Scene:
    """The LST scene (date, out-of-range counts) of a MODIS file or an LST raster on ``grid``; QC on, and no
    hint to turn it off (soil moisture has no such option)."""
    return modis.read_lst(path, target=grid, feedback=feedback, qc_option=None)


def check_date_range(start: dt.date | None, end: dt.date | None) -> None:
    """InputError when END lies before START (both given)."""
    if start is not None and end is not None and end < start:
        raise InputError(f"END ({end}) is before START ({start}): no day can be used; swap them")
