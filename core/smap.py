"""Readers of SMAP HDF5 products onto EASE-Grid 2.0 windows (QGIS-free: numpy, h5py, osgeo).

Three storage layouts occur in the SMAP products read here:

* ``global``: 2-D datasets of the whole global grid (L3: SPL3SMP, SPL3SMP_E, SPL3SMAP); only the
  hyperslab of the requested window is read.
* ``swath``: 1-D arrays of the cells a half orbit covers, located by ``EASE_row_index`` /
  ``EASE_column_index`` (L2: SPL2SMP, SPL2SMP_NRT, SPL2SMP_E, SPL2SMAP) or by ``cell_row`` /
  ``cell_column`` (L1C: SPL1CTB, SPL1CTB_E, whose fore and aft looks are averaged into ``tb_v`` / ``tb_h``).
* ``subset``: 2-D datasets of one scene-sized window with 2-D EASE row/column index arrays
  (SPL2SMAP_S, 3 km and 1 km groups).

The product is identified from the file's own metadata (``/Metadata/SeriesIdentification`` and
``/Metadata/DatasetIdentification``), never from its name. Fill values, ``valid_min`` / ``valid_max``
and non-finite values all become NaN. Every failure is an :class:`InputError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np

from .errors import InputError, NoDataError
from .grid import GRIDS, Grid, GridError, extent_hint
from .physical import check_field
from .scene import Scene, Variable
from .smap_products import (  # noqa: F401 - re-exported: the readers' public names
    _BY_SMAP_NAME,
    DEFAULT_ROLES,
    DEFAULT_VARIABLES,
    FILL,
    INDEX_FILL,
    L1C_LOOKS,
    PRODUCTS,
    GroupSpec,
    ProductSpec,
)


# --- opening and identification -------------------------------------------------------------------
def _text(value: Any) -> str:
    """An HDF5 attribute value as text (bytes decoded, one-element arrays unwrapped)."""
    if isinstance(value, np.ndarray):
        if value.size == 1:
            value = value.ravel()[0]
        else:
            return ", ".join(_text(v) for v in value.ravel())
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "replace").rstrip("\x00")
    return str(value)


def _open(path: str) -> h5py.File:
    """Open ``path`` read-only, turning every way it can fail into a sentence."""
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a folder, not a SMAP HDF5 file")
    try:
        is_h5 = h5py.is_hdf5(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None
    if not is_h5:
        raise InputError(f"{path}: not an HDF5 file (no HDF5 signature); a SMAP product (.h5) was expected")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: the HDF5 file is damaged or truncated and cannot be opened "
                         f"(HDF5 says: {exc}); download it again") from None


def _attr(f: h5py.File, group: str, name: str) -> str | None:
    try:
        g = f.get(group)
        if g is None or name not in g.attrs:
            return None
        return _text(g.attrs[name]).strip() or None
    except (OSError, KeyError, TypeError):
        return None


def _find_meta(f: h5py.File, name: str) -> str | None:
    """An attribute ``name`` of any group under /Metadata, or a string dataset named ``name``."""
    found: list[str] = []

    def visit(_path: str, obj: Any) -> Any:
        try:
            if isinstance(obj, h5py.Group) and name in obj.attrs:
                found.append(_text(obj.attrs[name]))
                return True
            if isinstance(obj, h5py.Dataset) and _path.rsplit("/", 1)[-1] == name and obj.size <= 1:
                found.append(_text(obj[()]))
                return True
        except (OSError, KeyError, TypeError, ValueError):
            return None
        return None

    if "Metadata" in f:
        f["Metadata"].visititems(visit)
    if not found:
        f.visititems(visit)
    return found[0].strip() if found and found[0].strip() else None


def _shape_of(f: h5py.File, path: str) -> tuple[int, ...] | None:
    obj = f.get(path)
    return obj.shape if isinstance(obj, h5py.Dataset) else None


def _identify_open(f: h5py.File, path: str) -> str:
    names = [_attr(f, "/Metadata/SeriesIdentification", "shortName"),
             _attr(f, "/Metadata/DatasetIdentification", "SMAPShortName"),
             _attr(f, "/Metadata/DatasetIdentification", "shortName"),
             _attr(f, "/Metadata/SeriesIdentification", "SMAPShortName")]
    for n in names:
        if n in PRODUCTS:
            return n
        if n in _BY_SMAP_NAME:
            return _BY_SMAP_NAME[n]
    # no metadata (e.g. a subsetted copy): recognise the unambiguous 2-D layouts by structure
    if "Soil_Moisture_Retrieval_Data_3km" in f or "Soil_Moisture_Retrieval_Data_1km" in f:
        return "SPL2SMAP_S"
    am = _shape_of(f, "/Soil_Moisture_Retrieval_Data_AM/soil_moisture")
    if am == (GRIDS["M36"][2], GRIDS["M36"][1]):
        return "SPL3SMP"
    if am == (GRIDS["M09"][2], GRIDS["M09"][1]):
        return "SPL3SMP_E"
    if _shape_of(f, "/Soil_Moisture_Retrieval_Data/tb_v_disaggregated") == (GRIDS["M09"][2], GRIDS["M09"][1]):
        return "SPL3SMAP"
    seen = ", ".join(n for n in names if n) or "none"
    top = ", ".join(sorted(f.keys())) or "nothing"
    raise InputError(f"{path}: HDF5 file of an unknown product: metadata short names found: {seen}; "
                     f"top-level groups/datasets: {top}. Known SMAP products: {', '.join(PRODUCTS)}")


def identify(path: str) -> str:
    """Product short name (e.g. 'SPL2SMP_NRT') from the file's own metadata, not its file name."""
    path = os.fspath(path)
    with _open(path) as f:
        try:
            return _identify_open(f, path)
        except InputError:
            raise
        except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
            raise InputError(f"{path}: cannot read the product metadata; the file may be truncated or "
                             f"corrupt ({exc})") from None


# --- variables ------------------------------------------------------------------------------------
def _readable(f: h5py.File, gpath: str, ndim: int) -> list[str]:
    """Numeric datasets of group ``gpath`` with ``ndim`` dimensions."""
    g = f.get(gpath)
    if not isinstance(g, h5py.Group):
        return []
    out = []
    for name, obj in g.items():
        if isinstance(obj, h5py.Dataset) and obj.ndim == ndim and obj.dtype.kind in "fiu":
            out.append(name)
    return sorted(out)


def _ndim(spec: ProductSpec) -> int:
    return 2 if spec.layout in ("global", "subset") else 1


def _available(f: h5py.File, spec: ProductSpec, g: GroupSpec) -> list[str]:
    names = _readable(f, g.path, _ndim(spec))
    if spec.layout == "l1c":
        combined = [k for k, looks in L1C_LOOKS.items() if any(x in names for x in looks)]
        names = combined + names
    return names


def list_variables(path: str) -> list[str]:
    """Readable 1-D/2-D variable names of the product in ``path`` (all its data groups)."""
    path = os.fspath(path)
    with _open(path) as f:
        try:
            spec = PRODUCTS[_identify_open(f, path)]
            out: list[str] = []
            for g in spec.groups:
                out.extend(n for n in _available(f, spec, g) if n not in out)
            return out
        except InputError:
            raise
        except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
            raise InputError(f"{path}: cannot list the variables; the file may be truncated or corrupt "
                             f"({exc})") from None


def _resolve(path: str, spec: ProductSpec, g: GroupSpec, available: list[str],
             variables: Sequence[str] | None) -> list[str]:
    """File variable names for the request (role names and AM-style names allowed)."""
    if variables is None:
        names = [g.roles[r] for r in DEFAULT_ROLES if r in g.roles and g.roles[r] in available]
        if not names:
            raise InputError(f"{path}: none of the default variables of {spec.name} "
                             f"({', '.join(g.roles[r] for r in DEFAULT_ROLES if r in g.roles)}) is in "
                             f"{g.path}; available: {', '.join(available) or 'none'}")
        return names
    if isinstance(variables, str):
        variables = [variables]
    if not variables:
        raise InputError(f"{path}: no variables requested; give names from: {', '.join(available)}")
    out: list[str] = []
    for v in variables:
        name = g.roles.get(v, v)
        if name not in available and g.suffix and name + g.suffix in available:
            name = name + g.suffix
        if name not in available:
            roles = ", ".join(f"{r} ({n})" for r, n in g.roles.items())
            raise InputError(f"{path}: no variable {v!r} in {g.path} of this {spec.name} file; "
                             f"available: {', '.join(available) or 'none'}; role names: {roles}")
        if name not in out:
            out.append(name)
    return out


def _mask(values: np.ndarray, attrs: Any) -> np.ndarray:
    """float32 copy with fill, out-of-valid-range and non-finite values set to NaN."""
    a = np.asarray(values)
    bad = np.zeros(a.shape, bool)
    fill = attrs.get("_FillValue") if "_FillValue" in attrs else None
    if fill is not None:
        bad |= a == np.asarray(fill).ravel()[0].astype(a.dtype)
    if a.dtype.kind in "fi":
        bad |= a == FILL  # latitude/longitude carry no fill attribute yet hold -9999
    for key, op in (("valid_min", np.less), ("valid_max", np.greater)):
        if key in attrs:
            limit = np.asarray(attrs[key]).ravel()
            if limit.size and limit.dtype.kind in "fiu":
                lim = limit[0].astype(a.dtype) if a.dtype.kind == "f" else limit[0]
                with np.errstate(invalid="ignore"):
                    bad |= op(a, lim)
    out = a.astype(np.float32)
    out[bad] = np.nan
    out[~np.isfinite(out)] = np.nan
    return out


def _meta_of(ds: h5py.Dataset) -> tuple[str, str]:
    units = _text(ds.attrs["units"]) if "units" in ds.attrs else ""
    long_name = _text(ds.attrs["long_name"]) if "long_name" in ds.attrs else ""
    return units, long_name


# --- windows ----------------------------------------------------------------------------------------
def _window(path: str, gname: str, extent: tuple[float, float, float, float] | None,
            extent_crs: str | None) -> Grid:
    glob = Grid.global_grid(gname)
    if extent is None:
        return glob
    try:
        return glob.subset(extent, extent_crs)
    except GridError as exc:
        raise GridError(f"{path}: {exc}") from None


def _bounding(gname: str, rows: np.ndarray, cols: np.ndarray) -> Grid:
    r0, r1 = int(rows.min()), int(rows.max())
    c0, c1 = int(cols.min()), int(cols.max())
    return Grid(gname, r0, c0, r1 - r0 + 1, c1 - c0 + 1)


def _indices(f: h5py.File, path: str, g: GroupSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global (row, col) of every stored cell, flattened, and which of them are valid."""
    grp = f[g.path]
    for n in (g.row, g.col):
        if n not in grp:
            raise InputError(f"{path}: {g.path}/{n} is missing; cannot place the cells on the EASE grid")
    rows = np.asarray(grp[g.row][()]).ravel().astype(np.int64)
    cols = np.asarray(grp[g.col][()]).ravel().astype(np.int64)
    if rows.shape != cols.shape:
        raise InputError(f"{path}: {g.row} and {g.col} differ in size ({rows.size} vs {cols.size})")
    _, gcols, grows = GRIDS[g.grid]
    ok = (rows >= 0) & (rows < grows) & (cols >= 0) & (cols < gcols)
    return rows, cols, ok


def _read_indexed(f: h5py.File, path: str, spec: ProductSpec, g: GroupSpec, names: list[str],
                  extent: tuple[float, float, float, float] | None, extent_crs: str | None
                  ) -> tuple[Grid, dict[str, Variable]]:
    """Swath, L1C and subset layouts: scatter the stored cells onto a window."""
    rows, cols, ok = _indices(f, path, g)
    if extent is None:
        if not ok.any():
            raise InputError(f"{path}: holds no cells with valid EASE-Grid indices ({g.path})")
        win = _bounding(g.grid, rows[ok], cols[ok])
    else:
        win = _window(path, g.grid, extent, extent_crs)
    inwin = (ok & (rows >= win.row_off) & (rows < win.row_off + win.rows)
             & (cols >= win.col_off) & (cols < win.col_off + win.cols))
    if not inwin.any():
        raise NoDataError(f"{path}: no valid data in the extent: this {spec.name} file has no cells in "
                         f"{g.grid} rows {win.row_off}..{win.row_off + win.rows - 1}, cols "
                         f"{win.col_off}..{win.col_off + win.cols - 1}{extent_hint(extent, extent_crs)}")
    rr = rows[inwin] - win.row_off
    cc = cols[inwin] - win.col_off
    grp = f[g.path]
    out: dict[str, Variable] = {}
    reverse = {n: r for r, n in g.roles.items()}
    for name in names:
        if spec.layout == "l1c" and name in L1C_LOOKS:
            looks = [x for x in L1C_LOOKS[name] if x in grp]
            stack = []
            for x in looks:
                vals = np.asarray(grp[x][()]).ravel()
                if vals.shape != rows.shape:
                    raise InputError(f"{path}: {g.path}/{x} has {vals.size} cells, {g.row} has {rows.size}")
                stack.append(_mask(vals, grp[x].attrs)[inwin])
            arr = np.stack(stack)
            n = np.isfinite(arr).sum(axis=0)
            total = np.where(np.isfinite(arr), arr, 0.0).astype(np.float64).sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.where(n > 0, total / np.maximum(n, 1), np.nan).astype(np.float32)
            units, long_name = _meta_of(grp[looks[0]])
            pol = name[-1].upper()
            long_name = f"Brightness temperature, {pol} polarisation, mean of the valid fore and aft looks"
            source = " + ".join(f"{g.path}/{x}" for x in looks)
        else:
            ds = grp[name]
            vals = np.asarray(ds[()]).ravel()
            if vals.shape != rows.shape:
                raise InputError(f"{path}: {g.path}/{name} has {vals.size} cells, {g.row} has {rows.size}")
            values = _mask(vals, ds.attrs)[inwin]
            units, long_name = _meta_of(ds)
            source = f"{g.path}/{name}"
        values, check = _in_range(values, reverse.get(name), path, source)
        data = np.full(win.shape, np.nan, np.float32)
        data[rr, cc] = values
        out[name] = Variable(name, data, units, long_name, reverse.get(name), source, check)
    return win, out


def _in_range(values: np.ndarray, role: str | None, path: str, source: str) -> tuple[np.ndarray, int]:
    """Values of a variable playing ``role`` with those outside its physical range (core.physical) set to
    NaN, and how many; InputError naming the file and dataset when most of them are out of range."""
    if role is None:
        return values, 0
    values, check = check_field(values, role, f"{path}: {source}")
    return values, check.out_of_range


def _read_global(f: h5py.File, path: str, g: GroupSpec, names: list[str],
                 extent: tuple[float, float, float, float] | None, extent_crs: str | None
                 ) -> tuple[Grid, dict[str, Variable]]:
    """Global 2-D layout: read only the window's hyperslab of each dataset."""
    win = _window(path, g.grid, extent, extent_crs)
    glob = Grid.global_grid(g.grid)
    grp = f[g.path]
    out: dict[str, Variable] = {}
    reverse = {n: r for r, n in g.roles.items()}
    for name in names:
        ds = grp[name]
        if ds.shape != glob.shape:
            raise InputError(f"{path}: {g.path}/{name} has shape {ds.shape}, not the global {g.grid} "
                             f"shape {glob.shape}")
        vals = ds[win.row_off:win.row_off + win.rows, win.col_off:win.col_off + win.cols]
        units, long_name = _meta_of(ds)
        values, n_out = _in_range(_mask(vals, ds.attrs), reverse.get(name), path, f"{g.path}/{name}")
        out[name] = Variable(name, values, units, long_name, reverse.get(name), f"{g.path}/{name}", n_out)
    return win, out


# --- metadata ---------------------------------------------------------------------------------------
def _date(f: h5py.File) -> dt.date | None:
    for value in (_attr(f, "/Metadata/Extent", "rangeBeginningDateTime"),
                  _find_meta(f, "rangeBeginningDateTime")):
        if value:
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def _orbit(f: h5py.File) -> str | None:
    value = _attr(f, "/Metadata/OrbitMeasuredLocation", "orbitDirection") or _find_meta(f, "orbitDirection")
    if not value:
        return None
    v = value.strip().upper()
    if v.startswith("ASC") or v == "A":
        return "A"
    if v.startswith("DESC") or v == "D":
        return "D"
    return None


def _scene_attrs(f: h5py.File, product: str) -> dict[str, str]:
    attrs = {"short_name": product}
    version = _attr(f, "/Metadata/DatasetIdentification", "ECSVersionID")
    if version:
        attrs["version"] = version
    release = _attr(f, "/Metadata/DatasetIdentification", "CompositeReleaseID")
    if release:
        attrs["release"] = release
    for k, v in f.attrs.items():  # simulation lineage and other root attributes
        attrs[str(k)] = _text(v)
    return attrs


def _select_group(path: str, spec: ProductSpec, f: h5py.File, pass_: str | None,
                  grid_name: str | None) -> tuple[GroupSpec, str | None]:
    """The data group for the requested pass / grid, and the scene's pass label."""
    if spec.passes:
        p = (pass_ or "AM").strip().upper()
        if p not in spec.passes:
            raise InputError(f"{path}: pass {pass_!r} is not valid for {spec.name}; use 'AM' (descending, "
                             f"6 AM) or 'PM' (ascending, 6 PM)")
        if grid_name not in (None, spec.groups[0].grid):
            raise InputError(f"{path}: {spec.name} is on grid {spec.groups[0].grid}, not {grid_name}")
        return spec.group(p), p
    orbit = _orbit(f) if spec.layout in ("swath", "l1c", "subset") else None
    if pass_ is not None and str(pass_).strip():
        p = str(pass_).strip().upper()
        label = {"ASCENDING": "A", "DESCENDING": "D"}.get(p, p)
        if spec.layout == "global":
            raise InputError(f"{path}: {spec.name} is a daily composite without AM/PM groups; leave the pass "
                             f"empty (got {pass_!r})")
        if label not in ("A", "D"):
            raise InputError(f"{path}: {spec.name} has no AM/PM groups (it holds one half orbit); leave the "
                             f"pass empty, or give 'A'/'D' to check the orbit direction (got {pass_!r})")
        if orbit is not None and label != orbit:
            word = {"A": "ascending", "D": "descending"}
            raise InputError(f"{path}: this {spec.name} file holds a {word[orbit]} half orbit, not the "
                             f"{word[label]} one that was asked for")
    if spec.layout == "subset":
        if grid_name is None:
            g3 = spec.group("M03")
            key = "M03" if g3.path in f or spec.group("M01").path not in f else "M01"
        elif grid_name in ("M03", "M01"):
            key = grid_name
        else:
            raise InputError(f"{path}: {spec.name} has a 3 km (M03) and a 1 km (M01) group; grid "
                             f"{grid_name!r} is neither")
        return spec.group(key), orbit
    if grid_name not in (None, spec.groups[0].grid):
        raise InputError(f"{path}: {spec.name} is on grid {spec.groups[0].grid}, not {grid_name}")
    return spec.groups[0], orbit


def read_smap(path: str, variables: Sequence[str] | None = None, pass_: str | None = None,
              extent: tuple[float, float, float, float] | None = None, extent_crs: str | None = None,
              grid_name: str | None = None) -> Scene:
    """Read SMAP variables onto an EASE-Grid 2.0 window as a :class:`Scene` (NaN = no data).

    ``variables``: file variable names or role names (None: TB V/H, soil moisture, surface temperature
    where present). ``pass_``: 'AM'/'PM' for SPL3SMP(_E) (default AM); for half-orbit products only 'A'/'D'
    to check the orbit direction. ``extent`` = (xmin, ymin, xmax, ymax) in ``extent_crs`` (default
    EPSG:6933) limits the window; without it the window is the global grid (2-D products) or the bounding
    window of the cells present (1-D products). ``grid_name`` picks 'M03' or 'M01' for SPL2SMAP_S.
    """
    path = os.fspath(path)
    with _open(path) as f:
        try:
            product = _identify_open(f, path)
            spec = PRODUCTS[product]
            g, label = _select_group(path, spec, f, pass_, grid_name)
            if g.path not in f:
                raise InputError(f"{path}: group {g.path} is missing from this {spec.name} file; "
                                 f"top-level groups: {', '.join(sorted(f.keys()))}")
            names = _resolve(path, spec, g, _available(f, spec, g), variables)
            if spec.layout == "global":
                win, out = _read_global(f, path, g, names, extent, extent_crs)
            else:
                win, out = _read_indexed(f, path, spec, g, names, extent, extent_crs)
            if not any(np.isfinite(v.data).any() for v in out.values()):
                where = "in the extent" if extent is not None else "anywhere in the file"
                raise NoDataError(f"{path}: no valid data {where} for {', '.join(names)} "
                                 f"({spec.name}{' ' + label if label else ''}); all values are fill or out "
                                 f"of their valid range{extent_hint(extent, extent_crs)}")
            return Scene(product=product, grid=win, variables=out, path=path, date=_date(f), pass_=label,
                         attrs=_scene_attrs(f, product))
        except InputError:
            raise
        except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
            raise InputError(f"{path}: cannot read the SMAP data; the file may be truncated or corrupt "
                             f"({type(exc).__name__}: {exc})") from None
