"""SMAP HDF5 readers and writers: the real SPL2SMP_NRT file, round trips of every product, NASA layouts."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import numpy as np
import pytest

from smapdown.core import smap, smap_write
from smapdown.core.errors import InputError
from smapdown.core.grid import Grid, GridError

LAYOUTS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "layouts"
DATE = dt.date(2020, 5, 6)
RANGES = {"tb_v": (200.0, 290.0), "tb_h": (180.0, 280.0), "tb_v_uncorrected": (200.0, 290.0),
          "tb_h_uncorrected": (180.0, 280.0), "soil_moisture": (0.05, 0.45),
          "surface_temperature": (270.0, 310.0), "sigma0_vv": (-20.0, -5.0),
          "vegetation_water_content": (0.0, 8.0), "water_fraction": (0.0, 1.0)}
WINDOWS = {"M36": Grid("M36", 100, 200, 4, 5), "M09": Grid("M09", 400, 800, 12, 14),
           "M03": Grid("M03", 1200, 2400, 12, 15), "M01": Grid("M01", 3600, 7200, 9, 12)}


def _fields(grid: Grid, roles, seed: int = 0, hole: bool = True) -> dict[str, np.ndarray]:
    """Random in-range fields with one interior NaN hole (corners stay valid)."""
    rng = np.random.default_rng(seed)
    out = {}
    for r in roles:
        lo, hi = RANGES[r]
        a = rng.uniform(lo, hi, grid.shape)
        if hole:
            a[1, 2] = np.nan
        out[r] = a
    return out


def _inner(grid: Grid) -> tuple[float, float, float, float]:
    """The window's bounds shrunk by a metre: Grid.subset maps it back onto exactly ``grid``."""
    x0, y0, x1, y1 = grid.bounds()
    return (x0 + 1.0, y0 + 1.0, x1 - 1.0, y1 - 1.0)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(np.asarray(a, np.float32), np.asarray(b, np.float32), equal_nan=True)


def _real_cells(path: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    with h5py.File(path, "r") as f:
        g = f["Soil_Moisture_Retrieval_Data"]
        attrs = dict(g[name].attrs)
        return (g["EASE_row_index"][:].astype(int), g["EASE_column_index"][:].astype(int), g[name][:], attrs)


# --- the real SPL2SMP_NRT half orbit -----------------------------------------------------------------
def test_real_identify_and_metadata(real_smap_l2):
    assert smap.identify(str(real_smap_l2)) == "SPL2SMP_NRT"  # from SeriesIdentification, not the name
    s = smap.read_smap(str(real_smap_l2))
    assert s.product == "SPL2SMP_NRT" and s.grid.name == "M36"
    assert s.date == dt.date(2019, 8, 22) and s.pass_ == "A"
    assert s.attrs["short_name"] == "SPL2SMP_NRT" and s.attrs["version"] == "105"
    assert "simulated" not in s.attrs
    assert list(s.variables) == smap.DEFAULT_VARIABLES["SPL2SMP_NRT"]
    tb = s.variables["tb_v_corrected"]
    assert tb.role == "tb_v" and tb.units == "Kelvin" and tb.data.dtype == np.float32
    assert tb.source == "/Soil_Moisture_Retrieval_Data/tb_v_corrected" and "Vertical" in tb.long_name
    names = smap.list_variables(str(real_smap_l2))
    assert "tb_v_corrected" in names and "tb_time_utc" not in names and "landcover_class" not in names


def test_real_gridded_tb_equals_file_cells(real_smap_l2):
    s = smap.read_smap(str(real_smap_l2), variables=["tb_v", "tb_h_corrected"])
    assert set(s.variables) == {"tb_v_corrected", "tb_h_corrected"}
    for name in ("tb_v_corrected", "tb_h_corrected"):
        rows, cols, values, _ = _real_cells(real_smap_l2, name)
        got = s.variables[name].data[rows - s.grid.row_off, cols - s.grid.col_off]
        assert np.array_equal(got, values)  # no TB fill in this granule: every cell exact
        assert np.isfinite(s.variables[name].data).sum() == len(set(zip(rows, cols, strict=True)))


def test_real_grid_lonlat_matches_file_coordinates(real_smap_l2):
    rows, cols, lat, _ = _real_cells(real_smap_l2, "latitude")
    _, _, lon, _ = _real_cells(real_smap_l2, "longitude")
    lon_g, lat_g = Grid.global_grid("M36").lonlat(rows, cols)
    assert np.abs(lat_g - lat).max() < 1e-4
    dlon = (lon_g - lon + 180.0) % 360.0 - 180.0
    assert np.abs(dlon).max() < 1e-4


def test_real_fill_and_out_of_range_values_are_nan(real_smap_l2):
    rows, cols, sm, attrs = _real_cells(real_smap_l2, "soil_moisture")
    assert float(attrs["valid_max"]) == pytest.approx(0.5)
    out_of_range = sm > attrs["valid_max"]
    fill = sm == attrs["_FillValue"]
    assert out_of_range.sum() > 1000 and fill.sum() > 1000 and sm.max() > 0.9
    s = smap.read_smap(str(real_smap_l2), variables=["soil_moisture"])
    got = s.variables["soil_moisture"].data[rows - s.grid.row_off, cols - s.grid.col_off]
    assert np.isnan(got[out_of_range]).all() and np.isnan(got[fill]).all()
    good = ~(out_of_range | fill | (sm < attrs["valid_min"]))
    assert np.array_equal(got[good], sm[good])
    assert np.isfinite(s.variables["soil_moisture"].data).sum() == good.sum()


def test_real_extent_subset(real_smap_l2):
    full = smap.read_smap(str(real_smap_l2), variables=["tb_v"])
    sub = smap.read_smap(str(real_smap_l2), variables=["tb_v"], extent=(-92.0, 30.0, -84.0, 40.0),
                         extent_crs="EPSG:4326")
    g = sub.grid
    assert g.name == "M36" and g.rows < 40 and g.cols < 30
    r, c = g.offset_in(full.grid)
    expect = full.variables["tb_v_corrected"].data[r:r + g.rows, c:c + g.cols]
    assert _same(sub.variables["tb_v_corrected"].data, expect)
    assert np.isfinite(expect).sum() > 20
    lon, lat = g.lonlat(np.array([0, g.rows - 1]), np.array([0, g.cols - 1]))
    assert -93 < lon[0] < -91 and 39 < lat[0] < 41 and -85 < lon[1] < -83 and 29 < lat[1] < 31


def test_real_extent_errors(real_smap_l2):
    with pytest.raises(GridError, match="does not intersect") as err:
        smap.read_smap(str(real_smap_l2), extent=(1.8e7, 0.0, 1.9e7, 1.0e5))
    assert str(real_smap_l2) in str(err.value)
    with pytest.raises(InputError, match="no valid data in the extent"):  # Africa: not in this swath
        smap.read_smap(str(real_smap_l2), extent=(20.0, 0.0, 22.0, 2.0), extent_crs="EPSG:4326")


def test_real_truncated_copy_is_an_input_error(real_smap_l2, tmp_path):
    data = real_smap_l2.read_bytes()
    bad = tmp_path / "truncated.h5"
    bad.write_bytes(data[: len(data) // 2])
    for call in (smap.identify, smap.read_smap, smap.list_variables):
        with pytest.raises(InputError, match="damaged or truncated"):
            call(str(bad))


def test_real_pass_checks(real_smap_l2):
    assert smap.read_smap(str(real_smap_l2), variables=["soil_moisture"], pass_="A").pass_ == "A"
    with pytest.raises(InputError, match="ascending half orbit"):
        smap.read_smap(str(real_smap_l2), pass_="D")
    with pytest.raises(InputError, match="no AM/PM groups"):
        smap.read_smap(str(real_smap_l2), pass_="PM")


def test_writer_mirrors_real_l2_attributes(real_smap_l2, tmp_path):
    grid = WINDOWS["M36"]
    roles = smap.PRODUCTS["SPL2SMP_NRT"].groups[0].roles
    p = smap_write.write_product(str(tmp_path / "l2.h5"), "SPL2SMP_NRT", grid, _fields(grid, roles), date=DATE)
    with h5py.File(real_smap_l2, "r") as real, h5py.File(p, "r") as ours:
        for name in ["latitude", "longitude", "EASE_row_index", "EASE_column_index", *roles.values()]:
            a, b = real["Soil_Moisture_Retrieval_Data"][name], ours["Soil_Moisture_Retrieval_Data"][name]
            assert a.dtype == b.dtype and a.ndim == b.ndim == 1, name
            assert set(a.attrs) == set(b.attrs), name
            for k in a.attrs:
                assert np.array_equal(a.attrs[k], b.attrs[k]), (name, k)
        for grp in ("DatasetIdentification", "SeriesIdentification"):
            for k in ("shortName", "SMAPShortName", "ECSVersionID"):
                if k in real["Metadata"][grp].attrs:
                    assert k in ours["Metadata"][grp].attrs
        for k in ("shortName",):
            assert ours["Metadata/SeriesIdentification"].attrs[k] == real["Metadata/SeriesIdentification"].attrs[k]
            assert ours["Metadata/DatasetIdentification"].attrs[k] == \
                real["Metadata/DatasetIdentification"].attrs[k]


# --- round trips of every product -------------------------------------------------------------------
@pytest.mark.parametrize("product", list(smap.PRODUCTS))
def test_round_trip_every_product(product, tmp_path):
    spec = smap.PRODUCTS[product]
    group = spec.groups[0]
    grid = WINDOWS[group.grid]
    fields = _fields(grid, group.roles, seed=len(product))
    kw = {"pm_fields": _fields(grid, group.roles, seed=99)} if spec.passes else {}
    path = tmp_path / f"{product}.h5"
    out = smap_write.write_product(str(path), product, grid, fields, date=DATE,
                                   attrs={"simulated": "true", "seed": "7", "note": "round trip"}, **kw)
    assert out == str(path) and smap.identify(out) == product
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    s = smap.read_smap(out, variables=list(group.roles), extent=_inner(grid))
    assert s.product == product and s.grid == grid and s.date == DATE
    assert s.pass_ == ("AM" if spec.passes else None if spec.layout == "global" else "D")
    assert s.attrs["simulated"] == "true" and s.attrs["seed"] == "7" and s.attrs["note"] == "round trip"
    assert s.attrs["short_name"] == product
    for role, values in fields.items():
        v = s.by_role(role)
        assert _same(v.data, values), role
        assert v.data.dtype == np.float32 and v.source.startswith(group.path)
    # without an extent: the global grid (2-D products) or the bounding window of the cells (1-D)
    s = smap.read_smap(out)
    assert list(s.variables) == [n for n in smap.DEFAULT_VARIABLES[product] if n in s.variables]
    if spec.layout == "global":
        assert s.grid.is_global
    else:
        assert s.grid == grid
    r, c = grid.offset_in(s.grid)
    for name, v in s.variables.items():
        inside = v.data[r:r + grid.rows, c:c + grid.cols]
        assert _same(inside, fields[v.role]), name
        assert np.isfinite(v.data).sum() == np.isfinite(inside).sum()


def test_l3_am_and_pm(tmp_path):
    grid = WINDOWS["M36"]
    am = _fields(grid, ["tb_v", "soil_moisture"], seed=1)
    pm = _fields(grid, ["tb_v", "soil_moisture"], seed=2)
    p = smap_write.write_product(str(tmp_path / "l3.h5"), "SPL3SMP", grid, am, date=DATE, pm_fields=pm)
    s_am = smap.read_smap(p, extent=_inner(grid))
    s_pm = smap.read_smap(p, pass_="pm", extent=_inner(grid))
    assert s_am.pass_ == "AM" and s_pm.pass_ == "PM"
    assert set(s_pm.variables) == {"tb_v_corrected_pm", "soil_moisture_pm"}
    assert _same(s_pm.by_role("tb_v").data, pm["tb_v"]) and _same(s_am.by_role("tb_v").data, am["tb_v"])
    # AM-style names and role names both find the PM variables
    s = smap.read_smap(p, variables=["soil_moisture", "tb_v_corrected_pm"], pass_="PM", extent=_inner(grid))
    assert list(s.variables) == ["soil_moisture_pm", "tb_v_corrected_pm"]
    with pytest.raises(InputError, match="pass 'XX' is not valid"):
        smap.read_smap(p, pass_="XX")
    names = smap.list_variables(p)
    assert "soil_moisture" in names and "soil_moisture_pm" in names
    # without pm_fields the PM group exists but holds no data
    q = smap_write.write_product(str(tmp_path / "am_only.h5"), "SPL3SMP", grid, am, date=DATE)
    with pytest.raises(InputError, match="no valid data"):
        smap.read_smap(q, pass_="PM")
    with h5py.File(q, "r") as f:
        assert f["Soil_Moisture_Retrieval_Data_PM/soil_moisture_pm"].shape == (406, 964)


def test_l1c_fore_and_aft_are_averaged(tmp_path):
    grid = WINDOWS["M36"]
    fields = _fields(grid, ["tb_v", "tb_h"], hole=False)
    p = smap_write.write_product(str(tmp_path / "l1c.h5"), "SPL1CTB", grid, fields, date=DATE, pass_="A")
    with h5py.File(p, "r+") as f:
        g = f["Global_Projection"]
        fore, aft = g["cell_tb_v_fore"][:], g["cell_tb_v_aft"][:]
        assert np.array_equal(fore, aft) and g["cell_row"].dtype == np.uint16
        aft = fore + 4.0
        fore[0] = smap.FILL  # one cell has only its aft look
        g["cell_tb_v_fore"][:] = fore
        g["cell_tb_v_aft"][:] = aft
        rows = g["cell_row"][:].astype(int) - grid.row_off
        cols = g["cell_column"][:].astype(int) - grid.col_off
    s = smap.read_smap(p)
    assert s.pass_ == "A" and s.grid == grid
    tb = s.variables["tb_v"]
    got = tb.data[rows, cols]
    assert got[0] == aft[0]
    assert np.allclose(got[1:], (fore[1:] + aft[1:]) / 2.0)
    assert tb.role == "tb_v" and "cell_tb_v_fore" in tb.source and "cell_tb_v_aft" in tb.source
    looks = smap.read_smap(p, variables="cell_tb_v_aft")
    assert list(looks.variables) == ["cell_tb_v_aft"] and looks.variables["cell_tb_v_aft"].role is None
    assert smap.list_variables(p)[:2] == ["tb_v", "tb_h"]


def test_smap_sentinel_3km_and_1km(tmp_path):
    g3 = WINDOWS["M03"]
    g1 = g3.refine("M01")
    f3 = _fields(g3, ["soil_moisture", "tb_v"], seed=4)
    sm1 = _fields(g1, ["soil_moisture"], seed=5)["soil_moisture"]
    p = smap_write.write_product(str(tmp_path / "sp.h5"), "SPL2SMAP_S", g3, {**f3, "soil_moisture_1km": sm1},
                                 date=DATE)
    s3 = smap.read_smap(p)
    assert s3.grid == g3 and _same(s3.by_role("soil_moisture").data, f3["soil_moisture"])
    s1 = smap.read_smap(p, grid_name="M01", variables=["soil_moisture"])
    assert s1.grid == g1 and list(s1.variables) == ["soil_moisture_1km"]
    assert _same(s1.variables["soil_moisture_1km"].data, sm1)
    sub = smap.read_smap(p, grid_name="M01", variables=["soil_moisture"], extent=_inner(g1.window(2, 3, 4, 5)))
    assert sub.grid == g1.window(2, 3, 4, 5) and _same(sub.variables["soil_moisture_1km"].data, sm1[2:6, 3:8])
    with pytest.raises(InputError, match="neither"):
        smap.read_smap(p, grid_name="M09")
    only1 = smap_write.write_product(str(tmp_path / "sp1.h5"), "SPL2SMAP_S", g1, {"soil_moisture": sm1},
                                     date=DATE)
    s = smap.read_smap(only1)
    assert s.grid == g1 and list(s.variables) == ["soil_moisture_1km"]


def test_small_region_gives_a_small_file(tmp_path):
    grid = Grid.global_grid("M09").subset((-98.0, 36.0, -97.0, 37.0), "EPSG:4326")  # about 100 km
    fields = _fields(grid, ["tb_v", "tb_h", "soil_moisture", "surface_temperature"])
    p = smap_write.write_product(str(tmp_path / "e.h5"), "SPL3SMP_E", grid, fields, date=DATE)
    assert Path(p).stat().st_size < 100_000
    with h5py.File(p, "r") as f:
        ds = f["Soil_Moisture_Retrieval_Data_AM/tb_v_corrected"]
        assert ds.shape == (1624, 3856) and ds.chunks is not None and ds.compression == "gzip"
        assert ds.fillvalue == -9999.0
    s = smap.read_smap(p, extent=(-98.0, 36.0, -97.0, 37.0), extent_crs="EPSG:4326")
    assert s.grid == grid and _same(s.by_role("soil_moisture").data, fields["soil_moisture"])


# --- errors -------------------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        smap.read_smap(str(tmp_path / "nope.h5"))


def test_text_file_renamed_h5(tmp_path):
    p = tmp_path / "notes.h5"
    p.write_text("this is not HDF5\n")
    for call in (smap.identify, smap.read_smap, smap.list_variables):
        with pytest.raises(InputError, match="not an HDF5 file") as err:
            call(str(p))
        assert str(p) in str(err.value)


def test_truncated_written_product(tmp_path):
    grid = WINDOWS["M36"]
    p = smap_write.write_product(str(tmp_path / "whole.h5"), "SPL3SMP", grid, _fields(grid, ["tb_v"]), date=DATE)
    data = Path(p).read_bytes()
    bad = tmp_path / "half.h5"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="damaged or truncated"):
        smap.read_smap(str(bad))


def test_hdf5_of_unknown_product(tmp_path):
    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as f:
        f.create_group("Forecast_Data").create_dataset("x", data=np.zeros(3))
        f.create_group("Metadata/DatasetIdentification").attrs["shortName"] = "SPL4SMGP"
    for call in (smap.identify, smap.read_smap):
        with pytest.raises(InputError, match="unknown product") as err:
            call(str(p))
        assert "SPL4SMGP" in str(err.value) and "Forecast_Data" in str(err.value)


def test_unknown_variable_lists_available(tmp_path):
    grid = WINDOWS["M36"]
    p = smap_write.write_product(str(tmp_path / "l2.h5"), "SPL2SMP", grid, _fields(grid, ["tb_v"]), date=DATE)
    with pytest.raises(InputError, match="no variable 'sigma0_vv'") as err:
        smap.read_smap(p, variables=["sigma0_vv"])
    assert "tb_v_corrected" in str(err.value) and str(p) in str(err.value)
    with pytest.raises(InputError, match="not M09"):
        smap.read_smap(p, grid_name="M09")


def test_writer_rejects_bad_requests(tmp_path):
    g36, g09 = WINDOWS["M36"], WINDOWS["M09"]
    with pytest.raises(InputError, match="lives on M36"):
        smap_write.write_product(str(tmp_path / "a.h5"), "SPL3SMP", g09, _fields(g09, ["tb_v"]), date=DATE)
    with pytest.raises(InputError, match="no variable for 'sigma0_vv'"):
        smap_write.write_product(str(tmp_path / "a.h5"), "SPL2SMP", g36, _fields(g36, ["sigma0_vv"]), date=DATE)
    with pytest.raises(InputError, match="has shape"):
        smap_write.write_product(str(tmp_path / "a.h5"), "SPL2SMP", g36, {"tb_v": np.zeros((2, 2))}, date=DATE)
    with pytest.raises(InputError, match="no PM group"):
        smap_write.write_product(str(tmp_path / "a.h5"), "SPL2SMP", g36, _fields(g36, ["tb_v"]), date=DATE,
                                 pm_fields=_fields(g36, ["tb_v"]))
    with pytest.raises(InputError, match="unknown SMAP product"):
        smap_write.write_product(str(tmp_path / "a.h5"), "SPL4SMGP", g36, _fields(g36, ["tb_v"]), date=DATE)
    assert list(tmp_path.iterdir()) == []


def test_writer_is_atomic(tmp_path, monkeypatch):
    grid = WINDOWS["M36"]

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(smap_write, "_write_metadata", boom)
    with pytest.raises(RuntimeError):
        smap_write.write_product(str(tmp_path / "x.h5"), "SPL2SMP", grid, _fields(grid, ["tb_v"]), date=DATE)
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_the_permissions_of_a_plain_new_file(tmp_path):
    """Atomic writes go through a private temporary file; the finished file gets the mode of a plain new
    file under the process umask (read once at start), like any file the user writes — not 0600."""
    import os

    from smapdown.core import atomic
    from smapdown.core.raster import BandSpec, write_geotiff

    grid = WINDOWS["M36"]
    h5 = smap_write.write_product(str(tmp_path / "p.h5"), "SPL2SMP", grid, _fields(grid, ["tb_v"]), date=DATE)
    tif = write_geotiff(str(tmp_path / "p.tif"), grid, [np.zeros(grid.shape)], [BandSpec("tb_v", "K")])
    for path in (h5, tif):
        assert os.stat(path).st_mode & 0o777 == 0o666 & ~atomic._UMASK
    # a destination that cannot be written is a sentence naming it, and no temporary file is left
    (tmp_path / "dir.tif").mkdir()
    with pytest.raises(InputError, match="dir.tif: cannot write"):
        write_geotiff(str(tmp_path / "dir.tif"), grid, [np.zeros(grid.shape)], [BandSpec("tb_v", "K")])
    assert not list(tmp_path.glob(".smapdown-*"))


# --- NASA layouts (DMR++) ------------------------------------------------------------------------------
_DAP = "{http://xml.opendap.org/ns/DAP/4.0#}"
_DTYPES = {"Float32": np.float32, "Float64": np.float64, "UInt16": np.uint16, "Byte": np.uint8}
_KEY_ATTRS = {"units", "long_name", "valid_min", "valid_max", "_FillValue", "coordinates"}


def _parse_dmr(path: Path) -> tuple[dict[str, dict], dict[str, dict[str, str]]]:
    """Variables (path -> type, shape, attributes) and groups (path -> attribute values) of a DMR++."""
    variables: dict[str, dict] = {}
    groups: dict[str, dict[str, str]] = {}

    def walk(el: ET.Element, prefix: str) -> None:
        for ch in el:
            tag = ch.tag.replace(_DAP, "")
            if tag == "Group":
                gpath = f"{prefix}/{ch.get('name')}"
                groups[gpath] = {a.get("name"): a.findtext(f"{_DAP}Value") for a in ch.findall(f"{_DAP}Attribute")}
                walk(ch, gpath)
            elif tag in _DTYPES or tag == "String":
                attrs = {a.get("name"): (a.get("type"), a.findtext(f"{_DAP}Value"))
                         for a in ch.findall(f"{_DAP}Attribute")}
                shape = tuple(int(d.get("size")) for d in ch.findall(f"{_DAP}Dim"))
                variables[f"{prefix}/{ch.get('name')}"] = {"type": tag, "shape": shape, "attrs": attrs}

    walk(ET.parse(path).getroot(), "")
    return variables, groups


def _layout(name: str) -> tuple[dict[str, dict], dict[str, dict[str, str]]]:
    p = LAYOUTS / name
    if not p.exists():
        pytest.skip(f"layout description {name} not found under ../shared/data/real/layouts "
                    "(the shared data folder is absent on this machine)")
    return _parse_dmr(p)


def _compare_with_dmr(h5_path: str, groups: list[str], dmr_vars: dict[str, dict]) -> int:
    """Every dataset of ``groups`` must exist in the DMR with its type, shape and key attributes."""
    n = 0
    with h5py.File(h5_path, "r") as f:
        for gpath in groups:
            for name, ds in f[gpath].items():
                key = f"{gpath}/{name}"
                assert key in dmr_vars, f"{key} is not in the NASA layout"
                want = dmr_vars[key]
                assert ds.dtype == _DTYPES[want["type"]], key
                assert ds.shape == want["shape"], key
                want_attrs = {k: v for k, v in want["attrs"].items() if k in _KEY_ATTRS}
                assert set(want_attrs) == {k for k in ds.attrs if k in _KEY_ATTRS}, key
                for k, (typ, value) in want_attrs.items():
                    got = ds.attrs[k]
                    if typ == "String":
                        assert smap._text(got) == value, (key, k)
                    else:
                        assert np.asarray(got).dtype == _DTYPES[typ], (key, k)
                        assert np.asarray(got).item() == _DTYPES[typ](value).item(), (key, k)
                n += 1
    return n


def test_spl3smp_writer_matches_nasa_layout(tmp_path):
    dmr_vars, dmr_groups = _layout("SC_SPL3SMP_008.dmr")
    grid = WINDOWS["M36"]
    roles = smap.PRODUCTS["SPL3SMP"].groups[0].roles
    p = smap_write.write_product(str(tmp_path / "SMAP_L3_SM_P_20200506_sim.h5"), "SPL3SMP", grid,
                                 _fields(grid, roles), pm_fields=_fields(grid, roles, seed=3), date=DATE)
    n = _compare_with_dmr(p, ["/Soil_Moisture_Retrieval_Data_AM", "/Soil_Moisture_Retrieval_Data_PM"], dmr_vars)
    assert n == 2 * (4 + len(roles))
    with h5py.File(p, "r") as f:
        def visit(name: str, obj) -> None:
            if isinstance(obj, h5py.Group) and name.startswith("Metadata"):
                assert "/" + name in dmr_groups, f"/{name} is not a NASA metadata group"
        f.visititems(visit)
        for gpath, attr in (("/Metadata/DatasetIdentification", "shortName"),
                            ("/Metadata/DatasetIdentification", "SMAPShortName"),
                            ("/Metadata/SeriesIdentification", "shortName")):
            assert smap._text(f[gpath].attrs[attr]) == dmr_groups[gpath][attr], (gpath, attr)
        ext = f["/Metadata/Extent"].attrs
        for attr in ("rangeBeginningDateTime", "rangeEndingDateTime"):  # same names, same form
            assert attr in dmr_groups["/Metadata/Extent"]
            assert len(smap._text(ext[attr])) == len(dmr_groups["/Metadata/Extent"][attr])
        assert smap._text(ext["rangeBeginningDateTime"]) == "2020-05-06T00:00:00.000Z"
        for sub in ("Row", "Column"):
            gsr = f[f"/Metadata/GridSpatialRepresentation/{sub}"].attrs
            assert str(int(gsr["dimensionSize"])) == dmr_groups[f"/Metadata/GridSpatialRepresentation/{sub}"][
                "dimensionSize"]


def test_spl2smap_s_writer_matches_nasa_layout(tmp_path):
    dmr_vars, _ = _layout("SC_SPL2SMAP_S.dmr")
    # a scene of the same size as the described granule: 72 x 102 at 3 km, 216 x 306 at 1 km
    g3 = Grid("M03", 1300, 2500, 72, 102)
    g1 = g3.refine("M01")
    assert dmr_vars["/Soil_Moisture_Retrieval_Data_3km/soil_moisture_3km"]["shape"] == g3.shape
    assert dmr_vars["/Soil_Moisture_Retrieval_Data_1km/soil_moisture_1km"]["shape"] == g1.shape
    f1 = _fields(g1, ["soil_moisture", "surface_temperature"], seed=8)
    p = smap_write.write_product(str(tmp_path / "sp.h5"), "SPL2SMAP_S", g3, _fields(g3, ["soil_moisture"]),
                                 date=DATE, attrs={"seed": "1"})
    q = smap_write.write_product(str(tmp_path / "sp2.h5"), "SPL2SMAP_S", g3,
                                 {"soil_moisture": _fields(g3, ["soil_moisture"])["soil_moisture"],
                                  "soil_moisture_1km": f1["soil_moisture"],
                                  "surface_temperature_1km": f1["surface_temperature"]}, date=DATE)
    # the DMR's group "a" (a few string datasets) is an artefact of the trimmed test file: not written
    assert _compare_with_dmr(p, ["/Soil_Moisture_Retrieval_Data_3km"], dmr_vars) == 5
    assert _compare_with_dmr(q, ["/Soil_Moisture_Retrieval_Data_3km", "/Soil_Moisture_Retrieval_Data_1km"],
                             dmr_vars) == 11
    s = smap.read_smap(q, grid_name="M01")
    assert s.grid == g1 and _same(s.by_role("surface_temperature").data, f1["surface_temperature"])


def test_values_outside_the_physical_range_become_nodata_and_are_counted(tmp_path):
    """A product without valid_min/valid_max (a subsetted or re-packed copy) still passes no impossible TB:
    a few out-of-range cells are masked and counted, a dataset mostly out of range is refused by name."""
    grid = WINDOWS["M36"]
    f = _fields(grid, ["tb_v", "tb_h"], hole=False)
    path = tmp_path / "l3.h5"
    smap_write.write_product(str(path), "SPL3SMP", grid, f, date=DATE)
    with h5py.File(path, "r+") as h:
        ds = h["Soil_Moisture_Retrieval_Data_AM/tb_v_corrected"]
        del ds.attrs["valid_max"]
        ds[grid.row_off, grid.col_off] = 1000.0
    s = smap.read_smap(str(path), variables=["tb_v", "tb_h"], extent=_inner(grid))
    assert s.by_role("tb_v").out_of_range == 1 and np.isnan(s.by_role("tb_v").data[0, 0])
    assert s.out_of_range() == {"tb_v_corrected": 1}
    with h5py.File(path, "r+") as h:
        ds = h["Soil_Moisture_Retrieval_Data_AM/tb_h_corrected"]
        del ds.attrs["valid_min"]
        ds[grid.row_off:grid.row_off + grid.rows, grid.col_off:grid.col_off + grid.cols] = -20.0
    with pytest.raises(InputError, match=r"l3\.h5.*tb_h_corrected.*physical range.*50–350 K"):
        smap.read_smap(str(path), variables=["tb_v", "tb_h"], extent=_inner(grid))


def test_extent_in_degrees_without_crs_gets_a_hint(tmp_path):
    grid = WINDOWS["M36"]
    path = tmp_path / "l3.h5"
    smap_write.write_product(str(path), "SPL3SMP", grid, _fields(grid, ["tb_v", "tb_h"]), date=DATE)
    with pytest.raises(InputError, match=r"looks like degrees.*CRS"):
        smap.read_smap(str(path), variables=["tb_v"], extent=(-98.0, 36.0, -97.0, 37.0))
