"""Writers of SMAP HDF5 products in NASA's layouts (test fixtures and the scene simulator).

:func:`write_product` takes role-named fields (``tb_v``, ``soil_moisture``, ...) on a window of the
product's own grid and writes them under the product's own variable names, types and attributes
(``_FillValue`` -9999, ``valid_min`` / ``valid_max``, ``units``, ``long_name``, ``coordinates``), with the
``/Metadata`` groups that :func:`core.smap.identify` and :func:`core.smap.read_smap` use. 2-D global
products get full global-shape datasets, chunked and gzip-compressed with fill value -9999, so only the
window's chunks take space; half-orbit products get 1-D arrays of the window's valid cells with EASE
row/column indices; SPL2SMAP_S gets window-shaped 2-D arrays with 2-D indices, as the real scenes do.

Layouts and attributes mirror the real SPL2SMP_NRT file and the SPL3SMP / SPL2SMAP_S DMR++ descriptions
in ``../shared/data/real``; where no NASA description was at hand (marked ``assumed`` below) the values
follow the sibling products. Every file records ``simulated = 'true'`` (unless the caller's ``attrs`` say
otherwise) plus the caller's ``attrs`` as root attributes, which the reader returns in ``Scene.attrs``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import h5py
import numpy as np

from .atomic import atomic_output
from .errors import InputError
from .grid import GRIDS, Grid
from .smap_products import FILL, INDEX_FILL, L1C_LOOKS, PRODUCTS, GroupSpec, ProductSpec

_KM = {"M36": "36 km", "M09": "9 km", "M03": "3 km", "M01": "1 km"}
_RES = {"M36": 36.0, "M09": 9.0, "M03": 3.0, "M01": 1.0}
# chunk shapes of the global 2-D datasets (28 on M36, 224 on M09): a region touches one to four, each
# compressing to about 1 KB when mostly fill, so a 100 km region gives a file of tens of KB
_CHUNKS = {"M36": (58, 241), "M09": (116, 241)}


@dataclass(frozen=True)
class _FloatVar:
    long_name: str  # "{km}" is replaced by the grid's resolution ("36 km", "9 km", ...)
    units: str | None
    valid_min: float
    valid_max: float


# L2 radiometer (SPL2SMP, _NRT, _E): exactly as in the real SPL2SMP_NRT file
_L2P = {
    "tb_v_corrected": _FloatVar("Vertical polarization brightness temperature in {km} Earth grid cell after "
                                "adjustment for the presence of water bodies.", "Kelvin", 0.0, 330.0),
    "tb_h_corrected": _FloatVar("Horizontal polarization brightness temperature in {km} Earth grid cell after "
                                "adjustment for the presence of water bodies.", "Kelvin", 0.0, 330.0),
    "tb_v_uncorrected": _FloatVar("Vertical polarization brightness temperature in {km} Earth grid cell before "
                                  "adjustment for the presence of water bodies.", "Kelvin", 0.0, 330.0),
    "tb_h_uncorrected": _FloatVar("Horizontal polarization brightness temperature in {km} Earth grid cell before "
                                  "adjustment for the presence of water bodies.", "Kelvin", 0.0, 330.0),
    "soil_moisture": _FloatVar("Representative soil moisture measurement for the Earth based grid cell.",
                               "cm**3/cm**3", 0.02, 0.5),
    "surface_temperature": _FloatVar("Temperature at land surface based on GMAO GEOS-5 data.", "Kelvins",
                                     0.0, 350.0),
    "vegetation_water_content": _FloatVar("Representative measure of water in the vegetation within the {km} "
                                          "grid cell.", "kg/m**2", 0.0, 20.0),
    "static_water_body_fraction": _FloatVar("The fraction of the area of the {km} grid cell that is covered by "
                                            "static water based on a Digital Elevation Map.", None, 0.0, 1.0),
}
# L3 radiometer (SPL3SMP, _E): exactly as in SC_SPL3SMP_008.dmr
_L3P = dict(_L2P)
_L3P.update({
    "tb_v_corrected": _FloatVar("Vertical polarization brightness temperature in {km} Earth grid cell adjusted "
                                "for the presence of water bodies.", "Kelvin", 0.0, 330.0),
    "tb_h_corrected": _FloatVar("Horizontal polarization brightness temperature in {km} Earth grid cell "
                                "adjusted for the presence of water bodies.", "Kelvin", 0.0, 330.0),
    "soil_moisture": _FloatVar("Representative DCA soil moisture measurement for the Earth based grid cell.",
                               "cm**3/cm**3", 0.02, 0.5),
})
# radar/radiometer 9 km (SPL3SMAP, SPL2SMAP): names from public readers; attributes assumed
_AP = {
    "tb_v_disaggregated": _FloatVar("Vertical polarization brightness temperature disaggregated to the {km} "
                                    "grid cell.", "Kelvin", 0.0, 330.0),
    "tb_h_disaggregated": _FloatVar("Horizontal polarization brightness temperature disaggregated to the {km} "
                                    "grid cell.", "Kelvin", 0.0, 330.0),
    "tb_v_disaggregated_std": _FloatVar("Standard deviation of the disaggregated vertical polarization "
                                        "brightness temperature in the {km} grid cell.", "Kelvin", 0.0, 100.0),
    "tb_h_disaggregated_std": _FloatVar("Standard deviation of the disaggregated horizontal polarization "
                                        "brightness temperature in the {km} grid cell.", "Kelvin", 0.0, 100.0),
    "sigma0_vv_aggregated": _FloatVar("VV polarization radar backscatter aggregated to the {km} grid cell.",
                                      "dB", -50.0, 20.0),
    "soil_moisture": _FloatVar("Representative soil moisture measurement for the {km} Earth based grid cell.",
                               "cm**3/cm**3", 0.0, 0.75),
    "surface_temperature": _FloatVar("Temperature at land surface based on GMAO GEOS-5 data.", "Kelvins",
                                     0.0, 350.0),
    "vegetation_water_content": _FloatVar("Representative measure of water in the vegetation within the {km} "
                                          "grid cell.", "kg/m**2", 0.0, 20.0),
    "water_body_fraction": _FloatVar("The fraction of the area of the {km} grid cell that is covered by water.",
                                     None, 0.0, 1.0),
}
# SMAP/Sentinel-1 (SPL2SMAP_S), base names without the _3km/_1km suffix: soil_moisture and
# surface_temperature as in SC_SPL2SMAP_S.dmr; the others assumed
_SP = {
    "soil_moisture": _FloatVar("Representative soil moisture measurement for the {km} Earth based grid cell "
                               "for option 1.", "cm**3/cm**3", 0.0, 0.75),
    "surface_temperature": _FloatVar("Temperature at land surface based on GEOS5 GMAO.", "Kelvin", 200.0, 350.0),
    "tb_v_disaggregated": _AP["tb_v_disaggregated"],
    "tb_h_disaggregated": _AP["tb_h_disaggregated"],
    "tb_v_disaggregated_std": _AP["tb_v_disaggregated_std"],
    "sigma0_vv_aggregated": _AP["sigma0_vv_aggregated"],
    "vegetation_water_content": _AP["vegetation_water_content"],
    "water_body_fraction": _AP["water_body_fraction"],
}
# L1C brightness temperatures (SPL1CTB, _E): names from public readers; attributes assumed
_L1C = {
    f"cell_tb_{p}_{look}": _FloatVar(f"{'Vertical' if p == 'v' else 'Horizontal'} polarization brightness "
                                     f"temperature of the {look} look in the {{km}} grid cell.",
                                     "Kelvin", 0.0, 340.0)
    for p in ("v", "h") for look in ("fore", "aft")
}
_FAMILY = {"SPL2SMP": _L2P, "SPL2SMP_NRT": _L2P, "SPL2SMP_E": _L2P, "SPL3SMP": _L3P, "SPL3SMP_E": _L3P,
           "SPL3SMAP": _AP, "SPL2SMAP": _AP, "SPL2SMAP_S": _SP, "SPL1CTB": _L1C, "SPL1CTB_E": _L1C}


def _s(text: str) -> np.bytes_:
    """A fixed-length ASCII attribute, as the SMAP science data system writes them on datasets."""
    return np.bytes_(text.encode("ascii", "replace"))


def _base(g: GroupSpec, name: str) -> str:
    return name[: -len(g.suffix)] if g.suffix and name.endswith(g.suffix) else name


def _coordinates(spec: ProductSpec, g: GroupSpec) -> str:
    """The ``coordinates`` attribute: L3 PM variables point at the AM latitude/longitude, as NASA's do."""
    c = spec.groups[0] if spec.passes else g
    return f"{c.path}/{c.lat} {c.path}/{c.lon}"


def float_attrs(spec: ProductSpec, g: GroupSpec, name: str) -> dict[str, object] | None:
    """Attributes of float variable ``name`` of group ``g`` (None when the writer does not know it)."""
    if g.suffix and not name.endswith(g.suffix):
        return None
    var = _L1C.get(name) if spec.layout == "l1c" else _FAMILY[spec.name].get(_base(g, name))
    if var is None:
        return None
    attrs: dict[str, object] = {"long_name": _s(var.long_name.format(km=_KM[g.grid]))}
    if var.units:
        attrs["units"] = _s(var.units)
    if spec.layout != "l1c":
        attrs["coordinates"] = _s(_coordinates(spec, g))
    attrs["valid_min"] = np.float32(var.valid_min)
    attrs["valid_max"] = np.float32(var.valid_max)
    attrs["_FillValue"] = np.float32(FILL)
    return attrs


def _coord_attrs(spec: ProductSpec, g: GroupSpec, which: str) -> dict[str, object]:
    """Attributes of the latitude/longitude variables ('lat' or 'lon')."""
    lat = which == "lat"
    if spec.layout == "l1c":
        return {"long_name": _s(f"{'Latitude' if lat else 'Longitude'} of the center of the {_KM[g.grid]} "
                                f"Earth based grid cell."),
                "units": _s("degrees_north" if lat else "degrees_east"),
                "valid_min": np.float32(-90.0 if lat else -180.0),
                "valid_max": np.float32(90.0 if lat else 179.999),
                "_FillValue": np.float32(FILL)}
    attrs: dict[str, object] = {
        "long_name": _s(f"{'Latitude' if lat else 'Longitude'} of the center of the Earth based grid cell."),
        "units": _s("degrees_north" if lat else "degrees_east")}
    if spec.passes and g.key == "PM":  # only the PM copies declare a range and a fill value
        attrs.update({"coordinates": _s(_coordinates(spec, g)),
                      "valid_min": np.float32(-90.0 if lat else -180.0),
                      "valid_max": np.float32(90.0 if lat else 179.9989929),
                      "_FillValue": np.float32(FILL)})
    return attrs


def _index_attrs(spec: ProductSpec, g: GroupSpec, which: str) -> dict[str, object]:
    """Attributes of the uint16 EASE row ('row') / column ('col') index variables."""
    _, gcols, grows = GRIDS[g.grid]
    word = "row" if which == "row" else "column"
    if spec.layout == "l1c":
        return {"long_name": _s(f"The {word} index of the {_KM[g.grid]} EASE-Grid 2.0 cell."),
                "valid_min": np.uint16(0), "valid_max": np.uint16((grows if word == "row" else gcols) - 1),
                "_FillValue": np.uint16(INDEX_FILL)}
    vmax = 65535 if spec.layout == "subset" else (grows if word == "row" else gcols) - 1
    return {"long_name": _s(f"The {word} index of the {_KM[g.grid]} EASE grid cell that contains the "
                            f"associated data."),
            "coordinates": _s(_coordinates(spec, g)),
            "valid_min": np.uint16(0), "valid_max": np.uint16(vmax), "_FillValue": np.uint16(INDEX_FILL)}


# --- planning: which arrays go to which variable --------------------------------------------------
def _target(spec: ProductSpec, g: GroupSpec, grid: Grid, key: str) -> tuple[GroupSpec, Grid, list[str]]:
    """Group, grid and file variable name(s) that field ``key`` (a role or a variable name) goes to."""
    if key in g.roles:
        name = g.roles[key]
        return g, grid, list(L1C_LOOKS[name]) if spec.layout == "l1c" else [name]
    if float_attrs(spec, g, key) is not None:
        return g, grid, [key]
    if spec.layout == "subset" and g.key == "M03":  # 1 km variables of a 3 km scene, by their own name
        fine = spec.group("M01")
        if float_attrs(spec, fine, key) is not None:
            return fine, grid.refine("M01"), [key]
    known = ", ".join(f"{r} ({n})" for r, n in g.roles.items())
    raise InputError(f"{spec.name} has no variable for {key!r} in {g.path}; roles it can write: {known}")


def _plan(spec: ProductSpec, g: GroupSpec, grid: Grid, fields: dict[str, np.ndarray], what: str
          ) -> dict[str, tuple[GroupSpec, Grid, dict[str, np.ndarray]]]:
    """group path -> (group, grid, {file name: float64 array}) for ``fields``."""
    plan: dict[str, tuple[GroupSpec, Grid, dict[str, np.ndarray]]] = {}
    for key, arr in fields.items():
        tg, tgrid, names = _target(spec, g, grid, key)
        a = np.asarray(arr, dtype=np.float64)
        if a.shape != tgrid.shape:
            raise InputError(f"{what} {key!r} has shape {a.shape}; the {tgrid.name} window of {spec.name} is "
                             f"{tgrid.shape}")
        entry = plan.setdefault(tg.path, (tg, tgrid, {}))
        for n in names:
            entry[2][n] = a
    return plan


# --- layouts ------------------------------------------------------------------------------------------
def _put_attrs(ds: h5py.Dataset | h5py.Group, attrs: dict[str, object]) -> None:
    for k, v in attrs.items():
        ds.attrs[k] = v


def _as_stored(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, FILL).astype(np.float32)


def _write_global(f: h5py.File, spec: ProductSpec, g: GroupSpec, grid: Grid, arrays: dict[str, np.ndarray],
                  coords: bool) -> None:
    """Full global-shape datasets; only the window is written, the rest stays unallocated fill."""
    grp = f.require_group(g.path)
    glob = Grid.global_grid(g.grid)
    sl = (slice(grid.row_off, grid.row_off + grid.rows), slice(grid.col_off, grid.col_off + grid.cols))
    opts = {"chunks": _CHUNKS[g.grid], "compression": "gzip", "compression_opts": 4}

    def create(name: str, dtype: str, fill: float, attrs: dict[str, object], window: np.ndarray | None) -> None:
        ds = grp.create_dataset(name, shape=glob.shape, dtype=dtype, fillvalue=fill, **opts)
        _put_attrs(ds, attrs)
        if window is not None and (window != fill).any():
            ds[sl] = window

    if coords:
        lon, lat = grid.lonlat(*np.meshgrid(np.arange(grid.rows), np.arange(grid.cols), indexing="ij"))
        rows, cols = np.meshgrid(np.arange(grid.rows) + grid.row_off, np.arange(grid.cols) + grid.col_off,
                                 indexing="ij")
    for name, which in ((g.lat, "lat"), (g.lon, "lon")):
        value = _as_stored(lat if which == "lat" else lon) if coords else None
        create(name, "f4", FILL, _coord_attrs(spec, g, which), value)
    for name, which in ((g.row, "row"), (g.col, "col")):
        value = (rows if which == "row" else cols).astype(np.uint16) if coords else None
        create(name, "u2", INDEX_FILL, _index_attrs(spec, g, which), value)
    for name, a in arrays.items():
        create(name, "f4", FILL, float_attrs(spec, g, name) or {}, _as_stored(a))


def _write_swath(f: h5py.File, spec: ProductSpec, g: GroupSpec, grid: Grid,
                 arrays: dict[str, np.ndarray]) -> int:
    """1-D arrays of the window's cells where any field is valid; returns how many."""
    grp = f.require_group(g.path)
    valid = np.zeros(grid.shape, bool)
    for a in arrays.values():
        valid |= np.isfinite(a)
    rr, cc = np.nonzero(valid)
    n = int(rr.size)
    opts: dict[str, object] = {"chunks": (n,), "compression": "gzip", "compression_opts": 2} if n else {}

    def create(name: str, data: np.ndarray, attrs: dict[str, object]) -> None:
        ds = grp.create_dataset(name, data=data, **opts)
        _put_attrs(ds, attrs)

    lon, lat = grid.lonlat(rr, cc)
    create(g.row, (rr + grid.row_off).astype(np.uint16), _index_attrs(spec, g, "row"))
    create(g.col, (cc + grid.col_off).astype(np.uint16), _index_attrs(spec, g, "col"))
    create(g.lat, _as_stored(np.asarray(lat)), _coord_attrs(spec, g, "lat"))
    create(g.lon, _as_stored(np.asarray(lon)), _coord_attrs(spec, g, "lon"))
    for name, a in arrays.items():
        create(name, _as_stored(a[rr, cc]), float_attrs(spec, g, name) or {})
    return n


def _write_subset(f: h5py.File, spec: ProductSpec, g: GroupSpec, grid: Grid,
                  arrays: dict[str, np.ndarray]) -> None:
    """Window-shaped 2-D arrays with 2-D EASE indices (the SMAP/Sentinel-1 scene layout)."""
    grp = f.require_group(g.path)
    chunks = (min(grid.rows, 512), min(grid.cols, 512))
    opts = {"chunks": chunks, "compression": "gzip", "compression_opts": 4, "shuffle": True}

    def create(name: str, data: np.ndarray, fill: float, attrs: dict[str, object]) -> None:
        ds = grp.create_dataset(name, data=data, fillvalue=fill, **opts)
        _put_attrs(ds, attrs)

    r, c = np.meshgrid(np.arange(grid.rows), np.arange(grid.cols), indexing="ij")
    lon, lat = grid.lonlat(r, c)
    create(g.lat, _as_stored(lat), FILL, _coord_attrs(spec, g, "lat"))
    create(g.lon, _as_stored(lon), FILL, _coord_attrs(spec, g, "lon"))
    create(g.row, (r + grid.row_off).astype(np.uint16), INDEX_FILL, _index_attrs(spec, g, "row"))
    create(g.col, (c + grid.col_off).astype(np.uint16), INDEX_FILL, _index_attrs(spec, g, "col"))
    for name, a in arrays.items():
        create(name, _as_stored(a), FILL, float_attrs(spec, g, name) or {})


# --- metadata -----------------------------------------------------------------------------------------
def _write_metadata(f: h5py.File, spec: ProductSpec, grid: Grid, date: dt.date, orbit: str | None,
                    n_cells: int | None, file_name: str) -> None:
    """The /Metadata groups the reader uses (identification, date, orbit, grid), in NASA's names."""
    meta = f.require_group("Metadata")
    ident = meta.require_group("DatasetIdentification")
    ident.attrs.update({
        "shortName": spec.dataset_short_name or spec.name, "SMAPShortName": spec.smap_name,
        "ECSVersionID": "SIM", "CompositeReleaseID": "SIM", "fileName": file_name,
        "creationDate": dt.date.today().isoformat(), "format": "HDF5", "characterSet": "utf8",
        "language": "eng", "spatialRepresentationType": "grid",
        "originatorOrganizationName": "smapdown (simulated product in the NASA layout)",
        "abstract": f"Simulated {spec.long_name}, written in the layout of the NASA product.",
    })
    series = meta.require_group("SeriesIdentification")
    series.attrs.update({"shortName": spec.name, "longName": spec.long_name, "mission": "SMAP",
                         "ECSVersionID": "SIM"})
    ext = meta.require_group("Extent")
    if spec.passes:
        begin, end = "T00:00:00.000Z", "T23:59:59.999Z"
    else:
        hour = 18 if orbit == "A" else 6
        begin, end = f"T{hour - 1:02d}:35:00.000Z", f"T{hour:02d}:25:00.000Z"
    ext.attrs.update({"rangeBeginningDateTime": date.isoformat() + begin,
                      "rangeEndingDateTime": date.isoformat() + end,
                      "description": f"Simulated {spec.name} over EASE-Grid 2.0 {grid.name} rows "
                                     f"{grid.row_off}..{grid.row_off + grid.rows - 1}, cols "
                                     f"{grid.col_off}..{grid.col_off + grid.cols - 1}."})
    if orbit is not None:
        meta.require_group("OrbitMeasuredLocation").attrs["orbitDirection"] = (
            "Ascending" if orbit == "A" else "Descending")
    gsr = meta.require_group("GridSpatialRepresentation")
    if n_cells is None:
        _, gcols, grows = GRIDS[grid.name]
        gsr.attrs["numberOfDimensions"] = np.int64(2)
        for sub, size in (("Row", grows), ("Column", gcols)):
            gsr.require_group(sub).attrs.update({"dimensionSize": np.int64(size),
                                                 "resolution": np.float32(_RES[grid.name])})
    else:
        gsr.attrs.update({"numberOfDimensions": np.int64(1), "dimensionSize": np.int64(n_cells),
                          "resolution": np.float32(_RES[grid.name])})
    meta.require_group("ProcessStep").attrs.update({
        "softwareTitle": "smapdown.core.smap_write", "processDescription": "Simulated product; see the root "
        "attributes for the simulation lineage."})


def _group_for(spec: ProductSpec, grid: Grid) -> GroupSpec:
    """The group of ``spec`` that fields on ``grid`` go to; InputError when the product has none on that grid."""
    if spec.layout == "subset":
        if grid.name not in ("M03", "M01"):
            raise InputError(f"{spec.name} is written on M03 (3 km group) or M01 (1 km group), not {grid.name}")
        return spec.group(grid.name)
    group = spec.groups[0]
    if grid.name != group.grid:
        raise InputError(f"{spec.name} lives on {group.grid}; the fields are on {grid.name}")
    return group


def _orbit_for(spec: ProductSpec, pass_: str | None, pm_fields: dict[str, np.ndarray] | None) -> str | None:
    """'A' / 'D' for a half-orbit product (default 'D'), None for daily composites; checks ``pass_`` and
    ``pm_fields`` against what the product holds."""
    if pm_fields is not None and not spec.passes:
        raise InputError(f"{spec.name} has no PM group; pm_fields is only for SPL3SMP and SPL3SMP_E")
    if spec.passes:
        if pass_ is not None:
            raise InputError(f"{spec.name} holds both passes (AM and PM groups); give PM data as pm_fields "
                             f"instead of pass_")
        return None
    if spec.layout == "global":
        if pass_ is not None:
            raise InputError(f"{spec.name} is a daily composite without passes; pass_ must be None")
        return None
    orbit = {"A": "A", "ASCENDING": "A", "D": "D", "DESCENDING": "D"}.get(str(pass_ or "D").upper())
    if orbit is None:
        raise InputError(f"{spec.name} is a half-orbit product: pass_ must be 'A' or 'D', not {pass_!r}")
    return orbit


_Plan = dict[str, tuple[GroupSpec, Grid, dict[str, np.ndarray]]]


def _write_groups(f: h5py.File, spec: ProductSpec, group: GroupSpec, grid: Grid, roles: list[str], plan: _Plan,
                  pm_plan: _Plan) -> int | None:
    """Write the planned arrays in the product's layout; returns the cell count of a half-orbit file."""
    n_cells = None
    if spec.layout == "global":
        for g, gr, arrays in plan.values():
            _write_global(f, spec, g, gr, arrays, coords=True)
        if spec.passes:
            pm = spec.group("PM")
            if pm.path in pm_plan:
                _write_global(f, spec, pm, grid, pm_plan[pm.path][2], coords=True)
            else:  # the PM group exists in every real file; empty (all fill) here
                empty = {pm.roles[r]: np.full(grid.shape, np.nan) for r in roles if r in group.roles}
                _write_global(f, spec, pm, grid, empty, coords=False)
    elif spec.layout in ("swath", "l1c"):
        for g, gr, arrays in plan.values():
            n_cells = _write_swath(f, spec, g, gr, arrays)
    else:
        for g, gr, arrays in plan.values():
            _write_subset(f, spec, g, gr, arrays)
    return n_cells


def write_product(path: str, product: str, grid: Grid, fields: dict[str, np.ndarray], *,
                  date: dt.date, pm_fields: dict[str, np.ndarray] | None = None,
                  attrs: dict[str, str] | None = None, pass_: str | None = None) -> str:
    """Write ``fields`` (role name -> float array on ``grid``, NaN = no data) as SMAP ``product``.

    ``grid`` is a window of the product's own grid (M36: SPL3SMP, SPL2SMP, SPL2SMP_NRT, SPL1CTB; M09: the
    _E products, SPL3SMAP, SPL2SMAP; SPL2SMAP_S: M03 for the 3 km group or M01 for the 1 km group). Keys
    may also be the product's own variable names (e.g. 'tb_v_disaggregated_std'; for a 3 km SPL2SMAP_S
    scene, 'soil_moisture_1km' on ``grid.refine('M01')``). ``pm_fields`` fills the PM group of
    SPL3SMP(_E). ``pass_`` ('A'/'D', default 'D') is the orbit direction of half-orbit products. ``attrs``
    are stored as root attributes (with ``simulated='true'`` unless given). Atomic; returns the path.
    """
    spec = PRODUCTS.get(product)
    if spec is None:
        raise InputError(f"cannot write unknown SMAP product {product!r}; known: {', '.join(PRODUCTS)}")
    group = _group_for(spec, grid)
    if isinstance(date, dt.datetime):
        date = date.date()
    if not isinstance(date, dt.date):
        raise InputError(f"date must be a datetime.date, not {type(date).__name__}")
    orbit = _orbit_for(spec, pass_, pm_fields)
    if not fields:
        raise InputError(f"no fields to write into {product}")
    plan = _plan(spec, group, grid, fields, "field")
    pm_plan = _plan(spec, spec.group("PM"), grid, pm_fields, "PM field") if pm_fields else {}

    path = os.path.abspath(os.fspath(path))
    with atomic_output(path, ".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            n_cells = _write_groups(f, spec, group, grid, list(fields), plan, pm_plan)
            _write_metadata(f, spec, grid, date, orbit, n_cells, os.path.basename(path))
            root = {"simulated": "true"}
            root.update({str(k): str(v) for k, v in (attrs or {}).items()})
            f.attrs.update(root)
    return path
