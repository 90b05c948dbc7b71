"""Unit tests of the block rule (core.blocks) and of the jobs issue 10 found untested: regridding, file discovery,
the training-set builders, a location-specific model's window, reading a reference raster."""

from __future__ import annotations

import numpy as np
import pytest

from smapdown.core.blocks import block_mean, block_mean_count, place, repeat_blocks


# --- core.blocks ------------------------------------------------------------------------------------------
def test_block_mean_skips_nan_only_when_asked():
    a = np.arange(16, dtype=np.float32).reshape(4, 4)
    a[0, 0] = np.nan
    skip = block_mean(a, 2, skip_nan=True)
    np.testing.assert_allclose(skip, [[(1 + 4 + 5) / 3, (2 + 3 + 6 + 7) / 4], [(8 + 9 + 12 + 13) / 4, 12.5]])
    plain = block_mean(a, 2, skip_nan=False)
    assert np.isnan(plain[0, 0]) and plain[1, 1] == 12.5
    assert skip.dtype == np.float64


def test_block_mean_count_on_leading_axes_and_empty_blocks():
    a = np.full((2, 4, 6), np.nan)
    a[1, :2, :3] = 3.0
    mean, n = block_mean_count(a, 2)
    assert mean.shape == n.shape == (2, 2, 3)
    assert np.isnan(mean[0]).all() and (n[0] == 0).all()
    assert mean[1, 0, 0] == 3.0 and n[1, 0, 0] == 4 and n[1, 0, 1] == 2 and np.isnan(mean[1, 1, 2])


def test_block_mean_refuses_shapes_that_do_not_split():
    with pytest.raises(ValueError, match="blocks of 3 x 3"):
        block_mean(np.zeros((4, 6)), 3, skip_nan=True)


def test_repeat_blocks_is_the_inverse_of_the_block_mean():
    a = np.array([[[1.0, 2.0], [3.0, np.nan]]], np.float32)
    up = repeat_blocks(a, 3)
    assert up.shape == (1, 6, 6) and up.dtype == np.float32
    assert (up[0, :3, 3:] == 2.0).all() and np.isnan(up[0, 3:, 3:]).all()
    np.testing.assert_array_equal(block_mean(up, 3, skip_nan=False), a)


def test_place_crops_and_fills():
    a = np.arange(9, dtype=np.float32).reshape(3, 3)
    out = place(a, (10, 20), (11, 19), (3, 3))  # one row lower, one column to the left
    np.testing.assert_array_equal(out[:2, 1:], a[1:, :2])
    assert np.isnan(out[2]).all() and np.isnan(out[:, 0]).all()
    assert np.isnan(place(a, (0, 0), (5, 5), (2, 2))).all()  # no overlap: all fill


# --- core.regrid ------------------------------------------------------------------------------------------
def _brute_regrid(a: np.ndarray, src, dst) -> np.ndarray:
    """The regrid rule cell by cell on global indices: a dst cell is the mean of the finite src cells inside it
    (src finer) or the src cell covering it (src coarser or the same grid); NaN where src has none."""
    from smapdown.core.grid import GRIDS

    ratio = GRIDS[dst.name][0] / GRIDS[src.name][0]
    out = np.full(dst.shape, np.nan)
    for i in range(dst.rows):
        for j in range(dst.cols):
            R, C = dst.row_off + i, dst.col_off + j
            if ratio >= 1:  # dst coarser or same: its block of src cells
                f = int(round(ratio))
                vals = [a[r - src.row_off, c - src.col_off] for r in range(R * f, R * f + f)
                        for c in range(C * f, C * f + f)
                        if 0 <= r - src.row_off < src.rows and 0 <= c - src.col_off < src.cols]
                vals = [v for v in vals if np.isfinite(v)]
                out[i, j] = np.mean(vals) if vals else np.nan
            else:
                f = int(round(1 / ratio))
                r, c = R // f - src.row_off, C // f - src.col_off
                out[i, j] = a[r, c] if 0 <= r < src.rows and 0 <= c < src.cols else np.nan
    return out


@pytest.mark.parametrize("src,dst", [
    (("M09", 5, 7, 6, 9), ("M36", 1, 1, 3, 3)),  # finer, not aligned to the 36 km cells, partly outside
    (("M36", 1, 2, 3, 3), ("M09", 3, 6, 10, 9)),  # coarser: repeated, partly outside
    (("M36", 1, 2, 3, 3), ("M03", 10, 20, 30, 30)),  # 36 -> 3 km (factor 12)
    (("M03", 10, 21, 25, 26), ("M36", 0, 1, 4, 4)),
    (("M09", 5, 7, 6, 9), ("M09", 3, 9, 6, 6)),  # same grid: cropped and filled
])
def test_regrid_follows_the_block_rule_cell_by_cell(src, dst):
    from smapdown.core.grid import Grid
    from smapdown.core.regrid import regrid

    src, dst = Grid(*src), Grid(*dst)
    rng = np.random.default_rng(1)
    a = rng.normal(250, 20, src.shape).astype(np.float32)
    a[rng.random(src.shape) < 0.3] = np.nan
    got = regrid(a, src, dst)
    assert got.shape == dst.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, _brute_regrid(a.astype(np.float64), src, dst), rtol=0, atol=1e-4)
    assert np.isfinite(got).any() and np.isnan(got).any()


def test_resampling_method_names_the_rule():
    from smapdown.core.grid import Grid
    from smapdown.core.regrid import resampling_method

    assert resampling_method(Grid("M09", 0, 0, 4, 4), Grid("M09", 0, 0, 2, 2)) == "same grid"
    assert "block mean" in resampling_method(Grid("M03", 0, 0, 12, 12), Grid("M09", 0, 0, 4, 4))
    assert "replicated" in resampling_method(Grid("M36", 0, 0, 1, 1), Grid("M09", 0, 0, 4, 4))


# --- core.files -------------------------------------------------------------------------------------------
def test_list_files_from_folders_lists_and_strings(tmp_path):
    from smapdown.core.errors import InputError
    from smapdown.core.files import list_files

    for name in ("b.h5", "a.H5", "c.tif", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub.h5").mkdir()  # a folder is never a file of the list
    other = tmp_path / "other.txt"
    other.write_text("x")
    got = list_files(str(tmp_path), (".h5", ".tif"))
    assert got == [str(tmp_path / n) for n in ("a.H5", "b.h5", "c.tif")]  # sorted, extension case-blind
    assert list_files(f" {tmp_path} ; {other} ;", (".h5",)) == [str(tmp_path / "a.H5"), str(tmp_path / "b.h5"),
                                                               str(other)]  # named files kept as given
    keep_b = list_files([str(tmp_path)], (".h5",), accept=lambda p: p.endswith("b.h5"))
    assert keep_b == [str(tmp_path / "b.h5")]
    with pytest.raises(InputError, match="nowhere.h5: no such file or folder"):
        list_files([str(tmp_path), str(tmp_path / "nowhere.h5")], (".h5",))


GOLDEN = __import__("pathlib").Path(__file__).resolve().parent / "data" / "golden"
LOW = str(GOLDEN / "SMAP_L3_SM_P_20150505_SIM.h5")
HIGH = str(GOLDEN / "SMAP_L3_SM_AP_20150505_SIM.h5")
SM3 = str(GOLDEN / "SMAP_L2_SM_SP_20150505_SIM.h5")
LST = str(GOLDEN / "LST_20150505_SIM.tif")


def _tb_raster(path, grid, names=("tb_v", "tb_h"), units="K", values=(250.0, 220.0)) -> str:
    from smapdown.core.raster import BandSpec, write_geotiff

    return write_geotiff(str(path), grid, [np.full(grid.shape, v, np.float32) for v in values],
                         [BandSpec(n, units, n) for n in names], {})


def test_product_kind_reads_the_contents(tmp_path):
    from smapdown.core.files import kind_filter, product_kind
    from smapdown.core.grid import Grid

    assert [product_kind(p) for p in (LOW, HIGH, SM3, LST)] == ["tb36", "tb9", "sm_fine", "lst"]
    assert product_kind(_tb_raster(tmp_path / "tb36.tif", Grid("M36", 10, 10, 2, 2))) == "tb36"
    assert product_kind(_tb_raster(tmp_path / "tb9.tif", Grid("M09", 40, 40, 8, 8))) == "tb9"
    assert product_kind(_tb_raster(tmp_path / "tb3.tif", Grid("M03", 40, 40, 8, 8))) == ""  # TB, no training role
    assert product_kind(_tb_raster(tmp_path / "sm.tif", Grid("M09", 40, 40, 8, 8), ("soil_moisture",), "m3/m3",
                                   (0.2,))) == ""
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"not hdf5")
    assert product_kind(str(bad)) == ""  # unreadable: no kind, no exception
    assert kind_filter("tb9")(HIGH) and not kind_filter("tb9")(LOW)


# --- core.inputs.read_reference on a raster ------------------------------------------------------------------
def test_read_reference_raster_regrids_only_when_asked(tmp_path):
    from smapdown.core.errors import InputError
    from smapdown.core.grid import Grid
    from smapdown.core.inputs import read_reference

    g3 = Grid("M03", 300, 600, 12, 12)
    v = np.arange(144, dtype=np.float32).reshape(12, 12) + 200.0
    v[0, 0] = 1000.0  # outside TB's physical range in both bands: no data, counted
    from smapdown.core.raster import BandSpec, write_geotiff

    path = write_geotiff(str(tmp_path / "ref3.tif"), g3, [v, v - 30.0],
                         [BandSpec("tb_v", "K"), BandSpec("tb_h", "K")], {"date": "2015-05-05"})
    g9 = Grid("M09", 100, 200, 4, 4)
    with pytest.raises(InputError, match="on the M03 grid, the output on M09"):
        read_reference(path, g9, ["tb_v", "tb_h"])
    info: dict = {}
    ref, label = read_reference(path, g9, ["tb_v", "tb_h"], regrid_reference=True, info=info)
    assert ref.shape == (2, 4, 4) and "ref3.tif" in label
    expect = v.astype(np.float64).copy()
    expect[0, 0] = np.nan
    blocks = np.nanmean(expect.reshape(4, 3, 4, 3), axis=(1, 3))
    np.testing.assert_allclose(ref[0], blocks, atol=1e-4)
    np.testing.assert_allclose(ref[1], blocks - 30.0, atol=1e-4)
    assert info["grid"] == "M03" and "block mean" in info["resampling"]
    assert info["out_of_range"] == 2  # the pixel in both bands
    assert str(info["date"]) == "2015-05-05"


def test_read_reference_raster_of_another_quantity_or_area_is_refused(tmp_path):
    from smapdown.core.errors import InputError
    from smapdown.core.grid import Grid
    from smapdown.core.inputs import read_reference

    g9 = Grid("M09", 100, 200, 4, 4)
    sm = _tb_raster(tmp_path / "sm.tif", g9, ("soil_moisture",), "m3/m3", (0.25,))
    with pytest.raises(InputError, match="holds soil_moisture"):
        read_reference(sm, g9, ["tb_v"])
    far = _tb_raster(tmp_path / "far.tif", Grid("M09", 500, 900, 4, 4))
    with pytest.raises(InputError, match="no valid cell over the output area"):
        read_reference(far, g9, ["tb_v", "tb_h"])


# --- workflows.training_data ------------------------------------------------------------------------------
def test_tb_training_data_pairs_the_36km_input_with_the_9km_target():
    import datetime as dt

    from smapdown.core.blocks import repeat_blocks
    from smapdown.core.inputs import read_reference, read_tb36
    from smapdown.model.inference import upsample_bicubic
    from smapdown.workflows.training_data import tb_training_data

    scene = read_tb36(LOW)
    tb36 = np.stack([scene.by_role("tb_v").data, scene.by_role("tb_h").data])
    for method, expected in (("bicubic", upsample_bicubic(tb36, 4)), ("nearest", repeat_blocks(tb36, 4))):
        data, grid9, prov = tb_training_data([LOW], [HIGH], upsampling=method)
        assert grid9 == scene.grid.refine("M09") and data.dates == [dt.date(2015, 5, 5)]
        assert data.input_names == ["tb_v", "tb_h"] and data.upsampling == method
        np.testing.assert_allclose(data.inputs[0], expected, atol=1e-4, equal_nan=True)
        np.testing.assert_allclose(data.targets[0], read_reference(HIGH, grid9, ["tb_v", "tb_h"])[0], equal_nan=True)
    assert prov["data"] == "simulated" and prov["days"] == 1 and prov["region"]["rows"] == 8
    assert prov["products"] == {"input": ["SPL3SMP"], "target": ["SPL3SMAP"]}


def test_training_data_refuses_a_coarse_target_and_an_empty_date_range():
    import datetime as dt

    from smapdown.core.errors import InputError
    from smapdown.workflows.training_data import tb_training_data

    with pytest.raises(InputError, match="must be on M09 or finer"):
        tb_training_data([LOW], [LOW])  # a 36 km file given as the 9 km target
    with pytest.raises(InputError, match="no date has both"):
        tb_training_data([LOW], [HIGH], start=dt.date(2016, 1, 1))
    with pytest.raises(InputError, match="END .* is before START"):
        tb_training_data([LOW], [HIGH], start=dt.date(2016, 1, 2), end=dt.date(2016, 1, 1))


def test_sm_training_data_stacks_tb_lst_and_the_36km_retrieval():
    from smapdown.core.inputs import read_lst_on, read_reference
    from smapdown.workflows.soil_moisture import SM_BASE_INPUTS, SM_INPUTS
    from smapdown.workflows.training_data import sm_training_data

    data, grid, prov = sm_training_data([LOW], [LST], [SM3], "M03")
    assert grid.name == "M03" and grid.shape == (96, 96) and data.input_names == list(SM_INPUTS)
    assert data.inputs.shape == (1, len(SM_INPUTS), 96, 96) and data.targets.shape == (1, 1, 96, 96)
    np.testing.assert_allclose(data.targets[0, 0], read_reference(SM3, grid, ["soil_moisture"])[0][0], equal_nan=True)
    lst = read_lst_on(LST, grid)
    ok = np.isfinite(lst)
    np.testing.assert_allclose(data.inputs[0, 2][ok], lst[ok])  # LST as read where valid (gaps filled)
    assert prov["products"]["lst"] and prov["data"] == "simulated"
    base, _, _ = sm_training_data([LOW], [LST], [SM3], "M09", ancillary=False)
    assert base.input_names == list(SM_BASE_INPUTS) and base.inputs.shape[2:] == (32, 32)


# --- core.provenance.model_origin -------------------------------------------------------------------------
def test_model_origin_places_the_input_in_the_training_region():
    from types import SimpleNamespace

    from smapdown.core.errors import InputError
    from smapdown.core.files import DEFAULT_TB_MODEL
    from smapdown.core.grid import Grid
    from smapdown.core.provenance import model_origin
    from smapdown.model.io import read_card

    card = read_card(DEFAULT_TB_MODEL).merged(
        {"location": {"grid": "M09", "row_off": 100, "col_off": 200, "rows": 32, "cols": 32}})
    general, local = SimpleNamespace(location=None), SimpleNamespace(location=np.zeros((2, 32, 32)))
    inside = Grid("M09", 108, 204, 8, 8)
    assert model_origin(general, card.location, inside, "m.pt") == (0, 0)
    assert model_origin(local, card.location, inside, "m.pt") == (8, 4)
    partly = Grid("M09", 120, 220, 16, 16)  # reaches 4 rows and cols beyond the region
    with pytest.raises(InputError, match="partly outside"):
        model_origin(local, card.location, partly, "m.pt")
    valid = np.zeros(partly.shape, bool)
    valid[:12, :12] = True  # only the pixels to process must lie inside
    assert model_origin(local, card.location, partly, "m.pt", valid) == (20, 20)
    with pytest.raises(InputError, match="entirely outside"):
        model_origin(local, card.location, Grid("M09", 300, 300, 4, 4), "m.pt")
    with pytest.raises(InputError, match="trained on the M09 grid, the output is M03"):
        model_origin(local, card.location, Grid("M03", 300, 600, 12, 12), "m.pt")
