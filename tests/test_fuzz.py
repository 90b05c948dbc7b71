"""Fuzzing with hypothesis: the SMAP HDF5 and MODIS/LST readers, the GeoTIFF reader, the model-file loader and
the EASE-Grid 2.0 maths.

Files are built in the NASA layouts by core.smap_write (and as GeoTIFFs / model files by the project's own
writers), then mutated: dtypes, shapes, attributes, fill values, values, index arrays, truncation and flipped
bytes. The only outcomes allowed are a result or the project's own errors (InputError and its subclasses
NoDataError, GridError, ModelError), never another exception; grid round trips must be exact.

By default every target runs ``FUZZ_EXAMPLES`` (500) generated cases within ``make test``'s budget; ``make fuzz``
selects the hypothesis profile ``fuzz`` (5000 per target). The examples run are counted and printed at the end
(``-s``) so the README's figures can be reproduced.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from osgeo import gdal, osr

from smapdown.core import modis, smap, smap_write
from smapdown.core.errors import InputError
from smapdown.core.grid import GRIDS, Grid
from smapdown.core.raster import read_ease_raster

gdal.UseExceptions()
FUZZ_EXAMPLES = 500
settings.register_profile("default", max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("fuzz", max_examples=10 * FUZZ_EXAMPLES, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
COUNTS: dict[str, int] = {}
DATE = dt.date(2020, 5, 6)


def _count(target: str) -> None:
    COUNTS[target] = COUNTS.get(target, 0) + 1


def _fresh(factory, name: str) -> Path:
    """A new path for every example (GDAL may cache a damaged file it failed to read under its name); the
    previous example's file is removed."""
    folder = factory.getbasetemp() / "fuzz"
    folder.mkdir(exist_ok=True)
    for old in folder.glob(f"*{name}*"):
        old.unlink()
    return folder / f"{sum(COUNTS.values())}-{name}"


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    if COUNTS:
        print("\nfuzz examples run: " + ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items())))


# ---------------------------------------------------------------- base files
WINDOWS = {"M36": Grid("M36", 100, 200, 4, 5), "M09": Grid("M09", 400, 800, 8, 8), "M03": Grid("M03", 1200, 2400, 9, 9)}


def _fields(grid: Grid, roles, seed=0):
    rng = np.random.default_rng(seed)
    lims = {"tb_v": (200, 290), "tb_h": (180, 280), "soil_moisture": (0.05, 0.45), "surface_temperature": (270, 310),
            "sigma0_vv": (-20, -5), "vegetation_water_content": (0, 8), "water_fraction": (0, 1)}
    return {r: rng.uniform(*lims[r], grid.shape) for r in roles}


@pytest.fixture(scope="module")
def base_files(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz_base")
    specs = {
        "SPL3SMP": (WINDOWS["M36"], ["tb_v", "tb_h", "soil_moisture", "surface_temperature"]),
        "SPL2SMP": (WINDOWS["M36"], ["tb_v", "tb_h", "soil_moisture", "vegetation_water_content"]),
        "SPL1CTB": (WINDOWS["M36"], ["tb_v", "tb_h"]),
        "SPL2SMAP_S": (WINDOWS["M03"], ["soil_moisture", "water_fraction"]),
    }
    out = {}
    for product, (grid, roles) in specs.items():
        p = folder / f"{product}.h5"
        smap_write.write_product(str(p), product, grid, _fields(grid, roles), date=DATE)
        out[product] = p.read_bytes()
    return out


def _datasets(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and not n.startswith("Metadata") else None)
    return sorted(names)


# one mutation of an HDF5 file: (kind, which dataset, a parameter)
MUTATION = st.tuples(
    st.sampled_from(["dtype", "shape", "drop_attr", "attr_value", "fill", "values", "index", "delete", "scalar",
                     "truncate", "flip", "metadata"]),
    st.integers(0, 10**6), st.integers(0, 10**6),
    st.sampled_from([np.nan, np.inf, -np.inf, -9999.0, 0.0, -50.0, 1e6, 1e30, 65534.0, 2.5, -1.0]))
ATTR_VALUES = [b"", b"abc", np.array([1.0, 2.0]), np.float64(np.nan), np.int64(-5), "text", np.array([], np.float32),
               np.float32(1e30)]


def _mutate_h5(path: Path, mutations) -> None:
    with h5py.File(path, "r+") as f:
        names = _datasets(f)
        for kind, a, b, value in mutations:
            if kind in ("truncate", "flip"):
                continue
            if kind == "metadata":
                meta = [n for n in ("Metadata/DatasetIdentification", "Metadata/SeriesIdentification",
                                    "Metadata/Extent") if n in f]
                if meta:
                    g = f[meta[a % len(meta)]]
                    keys = list(g.attrs)
                    if keys:
                        k = keys[b % len(keys)]
                        g.attrs[k] = ATTR_VALUES[b % len(ATTR_VALUES)] if b % 3 else b"SPL9XYZ"
                continue
            if not names:
                return
            name = names[a % len(names)]
            if name not in f:
                continue
            ds = f[name]
            data = ds[()] if kind in ("dtype", "shape") else None
            attrs = dict(ds.attrs)
            if kind == "dtype":
                dt_ = [np.int16, np.uint8, np.float64, np.int64, np.float16, np.uint16, bool][b % 7]
                with np.errstate(all="ignore"):
                    new = np.asarray(data).astype(dt_)
                del f[name]
                nd = f.create_dataset(name, data=new)
                for k, v in attrs.items():
                    try:
                        nd.attrs[k] = v
                    except (TypeError, ValueError):
                        pass
            elif kind == "shape":
                flat = np.asarray(data).ravel()
                n = max(0, flat.size - 1 - b % max(flat.size, 1)) if b % 2 else flat.size
                new = flat[:n] if b % 4 < 2 else flat[:n].reshape(-1, 1) if n else flat[:0]
                del f[name]
                f.create_dataset(name, data=new)
            elif kind == "drop_attr":
                keys = list(ds.attrs)
                if keys:
                    del ds.attrs[keys[b % len(keys)]]
            elif kind == "attr_value":
                key = ["_FillValue", "valid_min", "valid_max", "units", "scale_factor"][b % 5]
                try:
                    ds.attrs[key] = ATTR_VALUES[b % len(ATTR_VALUES)]
                except (TypeError, ValueError):
                    pass
            elif kind == "fill":
                try:
                    with np.errstate(all="ignore"):
                        ds.attrs["_FillValue"] = np.asarray(value).astype(ds.dtype)
                except (TypeError, ValueError):
                    pass
            elif kind in ("values", "index"):
                if ds.size:
                    idx = tuple(int(i) for i in np.unravel_index(b % ds.size, ds.shape))
                    v = value if kind == "values" else [65534, 70000 % 65536, 0, 5000][b % 4]
                    with np.errstate(all="ignore"):
                        try:
                            ds[idx] = np.asarray(v).astype(ds.dtype)
                        except (OverflowError, ValueError, TypeError):
                            ds[idx] = 0
            elif kind == "delete":
                del f[name]
            elif kind == "scalar":
                del f[name]
                f.create_dataset(name, data=np.float32(value))


def _apply_bytes(raw: bytes, mutations) -> bytes:
    for kind, a, b, _ in mutations:
        if kind == "truncate" and raw:
            raw = raw[:a % len(raw)]
        elif kind == "flip" and raw:
            i = a % len(raw)
            raw = raw[:i] + bytes([raw[i] ^ (1 + b % 255)]) + raw[i + 1:]
    return raw


READ_ARGS = st.sampled_from([dict(), dict(variables=["tb_v", "tb_h"]), dict(variables=["soil_moisture"]),
                             dict(pass_="PM"), dict(extent=WINDOWS["M36"].bounds()),
                             dict(extent=(-98.0, 36.0, -97.0, 37.0), extent_crs="EPSG:4326"),
                             dict(grid_name="M01"), dict(pass_="A")])


@given(product=st.sampled_from(["SPL3SMP", "SPL2SMP", "SPL1CTB", "SPL2SMAP_S"]),
       mutations=st.lists(MUTATION, min_size=1, max_size=3), args=READ_ARGS)
def test_fuzz_smap_reader(base_files, tmp_path_factory, product, mutations, args):
    _count("smap")
    path = _fresh(tmp_path_factory, "fuzz_smap.h5")
    path.write_bytes(base_files[product])
    try:
        _mutate_h5(path, mutations)
    except (OSError, KeyError, ValueError, TypeError, RuntimeError):
        pass  # h5py refused the mutation itself: the file stays as it is
    path.write_bytes(_apply_bytes(path.read_bytes(), mutations))
    for call in (lambda: smap.identify(str(path)), lambda: smap.list_variables(str(path)),
                 lambda: smap.read_smap(str(path), **args)):
        try:
            out = call()
        except InputError:
            continue
        if hasattr(out, "variables"):
            for v in out.variables.values():
                assert v.data.dtype == np.float32 and v.data.shape == out.grid.shape
                finite = v.data[np.isfinite(v.data)]
                if v.role in ("tb_v", "tb_h") and finite.size:
                    assert finite.min() >= 50 and finite.max() <= 350


# ---------------------------------------------------------------- GeoTIFF reader
DTYPES = [gdal.GDT_Byte, gdal.GDT_Int16, gdal.GDT_UInt16, gdal.GDT_Int32, gdal.GDT_Float32, gdal.GDT_Float64]


@st.composite
def rasters(draw):
    grid_name = draw(st.sampled_from(["M36", "M09", "M03", "M01", "other"]))
    rows, cols = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    bands = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from(DTYPES))
    epsg = draw(st.sampled_from([6933, 6933, 6933, 4326, 3857, 0]))
    shift = draw(st.sampled_from([0.0, 0.0, 0.5, 1e-9, 1234.5]))
    row_off = draw(st.integers(-3, 5000))
    col_off = draw(st.integers(-3, 5000))
    values = draw(st.sampled_from([250.0, -50.0, 1e6, np.nan, 0.0, 0.3, 300.0, -9999.0, np.inf]))
    noise = draw(st.booleans())
    nodata = draw(st.sampled_from([None, -9999.0, 0.0, np.nan, 250.0]))
    names = draw(st.lists(st.sampled_from(["tb_v", "tb_h", "soil_moisture", "lst", "static_clay", "", "x",
                                           "sigma0_vv"]), min_size=bands, max_size=bands))
    units = draw(st.lists(st.sampled_from(["K", "m3/m3", "", "dB", "1"]), min_size=bands, max_size=bands))
    truncate = draw(st.sampled_from([None, None, None, 100, 400, 2000]))
    return dict(grid_name=grid_name, rows=rows, cols=cols, bands=bands, dtype=dtype, epsg=epsg, shift=shift,
                row_off=row_off, col_off=col_off, values=values, noise=noise, nodata=nodata, names=names, units=units,
                truncate=truncate)


def _write_raster(path: Path, r: dict) -> None:
    size = GRIDS[r["grid_name"]][0] if r["grid_name"] in GRIDS else 1234.0
    from smapdown.core.grid import ULX, ULY

    gt = (ULX + r["col_off"] * size + r["shift"], size, 0.0, ULY - r["row_off"] * size, 0.0, -size)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), r["cols"], r["rows"], r["bands"], r["dtype"])
    ds.SetGeoTransform(gt)
    if r["epsg"]:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(r["epsg"])
        ds.SetProjection(srs.ExportToWkt())
    rng = np.random.default_rng(r["rows"] * 31 + r["cols"])
    for i in range(r["bands"]):
        b = ds.GetRasterBand(i + 1)
        a = np.full((r["rows"], r["cols"]), r["values"], np.float64)
        if r["noise"]:
            a = a + rng.normal(0, 20, a.shape)
        with np.errstate(all="ignore"):
            b.WriteArray(a)
        if r["nodata"] is not None:
            try:
                b.SetNoDataValue(r["nodata"])
            except RuntimeError:
                pass
        b.SetDescription(r["names"][i])
        b.SetUnitType(r["units"][i])
    ds = None
    if r["truncate"]:
        raw = path.read_bytes()
        path.write_bytes(raw[:min(len(raw), r["truncate"])])


@given(r=rasters(), roles=st.sampled_from([["tb_v", "tb_h"], ["soil_moisture"], ["lst"], ["static_clay"]]))
def test_fuzz_geotiff_reader(tmp_path_factory, r, roles):
    _count("geotiff")
    from smapdown.core.inputs import raster_scene, read_reference

    path = _fresh(tmp_path_factory, "fuzz.tif")
    _write_raster(path, r)
    try:
        rd = read_ease_raster(str(path))
    except InputError:
        return
    assert rd.grid.rows == r["rows"] and rd.grid.cols == r["cols"]
    for a in rd.arrays:
        assert a.dtype == np.float32 and not np.isinf(a).any()
    try:
        scene = raster_scene(str(path), roles)
    except InputError:
        return
    from smapdown.core.physical import range_of

    for v in scene.variables.values():
        rng = range_of(v.role)
        finite = v.data[np.isfinite(v.data)]
        if rng is not None and finite.size:
            assert finite.min() >= rng.lo and finite.max() <= rng.hi
    try:
        read_reference(str(path), scene.grid, roles, regrid_reference=True)
    except InputError:
        pass


# ---------------------------------------------------------------- MODIS / LST reader
@given(r=rasters(), layer=st.sampled_from(["day", "night", "LST_Day_1km", "noon"]),
       grid_name=st.sampled_from(["M36", "M09", "M03", "M01"]), qc=st.booleans(),
       use_extent=st.booleans())
def test_fuzz_lst_reader(tmp_path_factory, r, layer, grid_name, qc, use_extent):
    _count("modis")
    assume(r["rows"] * r["cols"] <= 144)
    path = _fresh(tmp_path_factory, "fuzz_lst.tif")
    r = dict(r, bands=1, names=r["names"][:1], units=r["units"][:1])
    _write_raster(path, r)
    extent = (-98.0, 36.0, -97.0, 37.0) if use_extent else None
    try:
        scene = modis.read_lst(str(path), layer=layer, grid_name=grid_name, qc=qc, extent=extent,
                               extent_crs="EPSG:4326" if extent else None)
    except InputError:
        return
    lst = scene.by_role("lst").data
    finite = lst[np.isfinite(lst)]
    assert finite.size and finite.min() >= 200 and finite.max() <= 350


@pytest.fixture(scope="module")
def real_modis_bytes():
    from conftest import MOD11A1

    return MOD11A1.read_bytes() if MOD11A1.exists() else None


@settings(max_examples=max(50, FUZZ_EXAMPLES // 10))
@given(cut=st.integers(0, 10**7), flip=st.integers(0, 10**7), mode=st.sampled_from(["truncate", "flip", "both"]))
def test_fuzz_real_modis_mutated(real_modis_bytes, tmp_path_factory, cut, flip, mode):
    """The real MOD11A1 tile truncated or with a flipped byte (skipped where ../shared is absent)."""
    if real_modis_bytes is None:
        pytest.skip("the real MOD11A1 tile is not here (../shared/data/real absent)")
    _count("modis_real")
    raw = real_modis_bytes
    if mode in ("truncate", "both"):
        raw = raw[:cut % len(raw)]
    if mode in ("flip", "both") and raw:
        i = flip % len(raw)
        raw = raw[:i] + bytes([raw[i] ^ 0x5A]) + raw[i + 1:]
    path = _fresh(tmp_path_factory, "fuzz_mod11a1.hdf")
    path.write_bytes(raw)
    try:
        modis.read_lst(str(path), grid_name="M09")
    except InputError:
        pass


@pytest.fixture(scope="module")
def real_smap_bytes():
    from conftest import SMAP_L2_NRT

    return SMAP_L2_NRT.read_bytes() if SMAP_L2_NRT.exists() else None


@settings(max_examples=FUZZ_EXAMPLES)
@given(cut=st.integers(0, 10**8), flip=st.integers(0, 10**8), mode=st.sampled_from(["truncate", "flip", "both"]),
       args=READ_ARGS)
def test_fuzz_real_smap_mutated(real_smap_bytes, tmp_path_factory, cut, flip, mode, args):
    """The real SPL2SMP_NRT half-orbit truncated or with flipped bytes (skipped where ../shared is absent)."""
    if real_smap_bytes is None:
        pytest.skip("the real SPL2SMP_NRT file is not here (../shared/data/real absent)")
    _count("smap_real")
    raw = real_smap_bytes
    if mode in ("truncate", "both"):
        raw = raw[:cut % len(raw)]
    if mode in ("flip", "both") and raw:
        i = flip % len(raw)
        raw = raw[:i] + bytes([raw[i] ^ 0xA5]) + raw[i + 1:]
    path = _fresh(tmp_path_factory, "fuzz_real_smap.h5")
    path.write_bytes(raw)
    try:
        smap.read_smap(str(path), **args)
    except InputError:
        pass


# ---------------------------------------------------------------- model files
@pytest.fixture(scope="module")
def model_payload():
    import torch

    from smapdown.model.io import save_model
    from smapdown.model.network import DownscaleCNN

    net = DownscaleCNN(in_channels=2, out_channels=2, features=4, groups=2)
    card = {"inputs": [{"name": "tb_v"}, {"name": "tb_h"}], "outputs": [{"name": "tb_v"}, {"name": "tb_h"}],
            "normalisation": {"inputs": {"mean": [250.0, 220.0], "std": [20.0, 25.0]},
                              "outputs": {"mean": [0.0, 0.0], "std": [3.0, 3.0]}},
            "training": {"data": "simulated"}, "validation": {}}
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz_model_{os.getpid()}.pt"
    save_model(path, net, card)
    raw = path.read_bytes()
    path.unlink()
    payload = torch.load(io.BytesIO(raw), weights_only=True)
    return raw, payload


CARD_EDITS = st.lists(st.tuples(
    st.sampled_from(["norm", "kwarg", "drop", "inputs", "upsampling", "mask", "location", "card_text"]),
    st.integers(0, 10**6),
    st.sampled_from([float("nan"), float("inf"), 1e6, 1e30, -1.0, 0.0, 1e-12, 2, 5, 10**9, "x", None, [], [1, 2]])),
    max_size=3)
STATE_EDITS = st.lists(st.tuples(st.sampled_from(["nan", "shape", "dtype", "drop", "extra", "not_tensor"]),
                                 st.integers(0, 10**6)), max_size=2)


def _edit_card(card: dict, kind: str, i: int, value) -> None:
    if kind == "norm":
        part = card["normalisation"][["inputs", "outputs"][i % 2]]
        part[["mean", "std"][i // 2 % 2]][i // 4 % 2] = value
    elif kind == "kwarg":
        card["architecture"]["kwargs"][["features", "groups", "in_channels", "out_channels", "dilation",
                                        "layers_per_group"][i % 6]] = value
    elif kind == "drop":
        card.pop(sorted(card)[i % len(card)])
    elif kind == "inputs":
        card["inputs"] = card["inputs"][: i % 3]
    elif kind == "upsampling":
        card["input_upsampling"] = value
    elif kind == "mask":
        card["mask_channels"] = value
    elif kind == "location":
        card["architecture"]["kwargs"]["location_shape"] = value


@given(card_edits=CARD_EDITS, state_edits=STATE_EDITS, cut=st.one_of(st.none(), st.integers(0, 10**6)),
       flip=st.one_of(st.none(), st.integers(0, 10**6)))
def test_fuzz_model_loader(model_payload, tmp_path_factory, card_edits, state_edits, cut, flip):
    _count("model")
    import torch

    from smapdown.model.io import load_model

    raw, payload = model_payload
    card = json.loads(payload["card"])
    card_text = None
    for kind, i, value in card_edits:
        try:
            _edit_card(card, kind, i, value)
        except (KeyError, TypeError, IndexError, AttributeError):
            pass  # the card lost that part in an earlier edit
        if kind == "card_text":
            card_text = "{not json" if i % 2 else json.dumps(card)[: i % 50]
    state = {k: v.clone() for k, v in payload["state_dict"].items()}
    keys = sorted(state)
    for kind, i in state_edits:
        k = keys[i % len(keys)]
        if kind == "nan" and k in state:
            state[k] = state[k].float().fill_(float("nan"))
        elif kind == "shape" and k in state:
            state[k] = torch.zeros(state[k].numel() + 1)
        elif kind == "dtype" and k in state:
            state[k] = state[k].to(torch.int32)
        elif kind == "drop":
            state.pop(k, None)
        elif kind == "extra":
            state[f"x{i}"] = torch.zeros(1)
        elif kind == "not_tensor":
            state[k] = [1, 2]
    try:
        text = card_text if card_text is not None else json.dumps(card)
    except ValueError:
        text = "{}"
    path = _fresh(tmp_path_factory, "fuzz_model.pt")
    try:
        torch.save({**payload, "card": text, "state_dict": state}, path)
    except Exception:  # noqa: BLE001 - torch cannot even save such a state: use the original bytes
        path.write_bytes(raw)
    data = path.read_bytes()
    if cut is not None and data:
        data = data[: cut % len(data)]
    if flip is not None and data:
        j = flip % len(data)
        data = data[:j] + bytes([data[j] ^ 0x21]) + data[j + 1:]
    path.write_bytes(data)
    try:
        model, loaded = load_model(path)
    except InputError:
        return
    assert all(bool(torch.isfinite(p).all()) for p in model.state_dict().values() if p.is_floating_point())


# ---------------------------------------------------------------- grid maths
NAMES = ["M36", "M09", "M03", "M01"]


@given(name=st.sampled_from(NAMES), data=st.data())
def test_fuzz_grid_roundtrips(name, data):
    _count("grid")
    _, gcols, grows = GRIDS[name]
    row = data.draw(st.integers(0, grows - 1))
    col = data.draw(st.integers(0, gcols - 1))
    g = Grid.global_grid(name)
    x, y = g.xy(row, col)
    r, c = g.rowcol(x, y)
    assert (int(r), int(c)) == (row, col)
    # through longitude/latitude and back (EASE2 is defined to +-86 degrees: all its cell centres)
    from smapdown.core.grid import ease_srs, transform_points, wgs84_srs

    lon, lat = g.lonlat(row, col)
    bx, by = transform_points(lon, lat, wgs84_srs(), ease_srs())
    r2, c2 = g.rowcol(bx, by)
    assert (int(r2), int(c2)) == (row, col)
    # a window containing the cell, and the cell's position in it
    h = data.draw(st.integers(1, 50))
    w = data.draw(st.integers(1, 50))
    win = g.clip_window(row - data.draw(st.integers(0, h - 1)), col - data.draw(st.integers(0, w - 1)), h, w)
    assert win is not None
    wr, wc = win.rowcol(x, y)
    assert (int(wr) + win.row_off, int(wc) + win.col_off) == (row, col)


@given(name=st.sampled_from(NAMES), data=st.data())
def test_fuzz_window_nesting(name, data):
    _count("grid_nesting")
    _, gcols, grows = GRIDS[name]
    rows = data.draw(st.integers(1, min(60, grows)))
    cols = data.draw(st.integers(1, min(60, gcols)))
    r0 = data.draw(st.integers(0, grows - rows))
    c0 = data.draw(st.integers(0, gcols - cols))
    win = Grid(name, r0, c0, rows, cols)
    for finer in NAMES[NAMES.index(name):]:
        fine = win.refine(finer)
        assert fine.coarsen(name) == win
        assert fine.bounds() == pytest.approx(win.bounds(), abs=1e-6)
        assert fine.aligned_to(name)
    for coarser in NAMES[:NAMES.index(name) + 1]:
        c = win.coarsen(coarser)
        back = c.refine(name)
        r, cc = win.offset_in(back)
        assert r >= 0 and cc >= 0 and r + win.rows <= back.rows and cc + win.cols <= back.cols
        assert win.aligned_to(coarser) == (back == win)
    # subset of its own bounds is the window itself, on the global grid and on any window containing it
    assert Grid.global_grid(name).subset(win.bounds()) == win
    x0, y0, x1, y1 = win.bounds()
    s = win.cell_size
    inner = (x0 + s * 0.25, y0 + s * 0.25, x1 - s * 0.25, y1 - s * 0.25)
    assert Grid.global_grid(name).subset(inner) == win


def test_fuzz_counts_reach_the_target():
    """Runs after the fuzz tests of this module (file order): each target ran its examples."""
    profile = os.environ.get("HYPOTHESIS_PROFILE", "default")
    want = FUZZ_EXAMPLES if profile == "default" else 10 * FUZZ_EXAMPLES
    for target in ("smap", "geotiff", "modis", "model", "grid", "grid_nesting"):
        if target in COUNTS:
            assert COUNTS[target] >= want * 0.9, (target, COUNTS[target])
