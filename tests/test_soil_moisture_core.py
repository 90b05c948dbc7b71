"""Case 2 in the core: the inputs the bundled model reads, frozen ground, a model without the retrieval."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from smapdown.core.errors import InputError
from smapdown.core.files import DEFAULT_SM_MODEL
from smapdown.core.grid import Grid
from smapdown.core.inputs import read_static, static_inputs
from smapdown.core.raster import BandSpec, write_geotiff
from smapdown.core.scene import STATIC_BANDS, Scene, Variable
from smapdown.model.io import read_card
from smapdown.workflows.soil_moisture import SM_ANCILLARY, SM_INPUTS, estimate_soil_moisture, sm_model_ancillary

G36 = Grid("M36", 80, 219, 3, 3)  # Oklahoma


def _scene(ts: np.ndarray, with_retrieval: bool = True, retrieval: np.ndarray | None = None) -> Scene:
    rng = np.random.default_rng(0)
    v = {"tb_v": 255.0 + rng.normal(0, 3, G36.shape), "tb_h": 225.0 + rng.normal(0, 3, G36.shape)}
    if with_retrieval:
        v.update(soil_moisture=np.full(G36.shape, 0.2) if retrieval is None else retrieval,
                 vegetation_water_content=np.full(G36.shape, 1.5), surface_temperature=ts)
    return Scene("SPL3SMP", G36, {k: Variable(k, a.astype(np.float32), role=k) for k, a in v.items()},
                 path="scene.h5", date=dt.date(2015, 5, 1))


@pytest.fixture
def lst_path(tmp_path) -> str:
    g1 = G36.refine("M03")
    return write_geotiff(str(tmp_path / "lst.tif"), g1, [np.full(g1.shape, 300.0, np.float32)],
                         [BandSpec("lst", "K", "LST")], {})


@pytest.fixture
def static_path(tmp_path) -> str:
    """Flat soil and land-cover maps: clay 0.2, sand 0.4, all grassland, no water."""
    g3 = G36.refine("M03")
    values = {"static_clay": 0.2, "static_sand": 0.4, "static_grassland": 1.0}
    return write_geotiff(str(tmp_path / "static.tif"), g3,
                         [np.full(g3.shape, values.get(n, 0.0), np.float32) for n in STATIC_BANDS],
                         [BandSpec(n, "1", n) for n in STATIC_BANDS], {})


def test_bundled_model_reads_the_36km_retrieval_and_its_ancillary():
    card = read_card(DEFAULT_SM_MODEL)
    names = card.input_names
    assert names == list(SM_INPUTS)
    assert not any(n.startswith("static_") for n in names)
    assert sm_model_ancillary(None) == list(SM_ANCILLARY)
    assert card.training.data == "simulated" and card.case == "soil moisture"


def test_frozen_ground_is_left_empty(lst_path, static_path):
    ts = np.full(G36.shape, 285.0)
    ts[0, :] = 268.0  # the northern row is frozen
    res = estimate_soil_moisture(_scene(ts), lst_path, static_path=static_path)
    frozen_rows = res.sm[:12]
    assert np.isnan(frozen_rows).all() and np.isfinite(res.sm[12:]).all()
    assert res.metrics["frozen_pixels_masked"] == 12 * 36


def test_no_estimate_where_the_product_retrieved_nothing(lst_path):
    ret = np.full(G36.shape, 0.2)
    ret[2, 2] = np.nan  # e.g. flagged by the product
    res = estimate_soil_moisture(_scene(np.full(G36.shape, 285.0), retrieval=ret), lst_path)
    assert np.isnan(res.sm[24:, 24:]).all() and np.isfinite(res.sm[:24]).all()
    assert res.metrics["pixels_without_36km_retrieval"] == 144


def test_input_without_the_retrieval_is_refused_and_static_maps_are_read_by_name(lst_path, static_path, tmp_path):
    with pytest.raises(InputError, match=r"scene\.h5.*soil_moisture"):
        estimate_soil_moisture(_scene(np.full(G36.shape, 285.0), with_retrieval=False), lst_path,
                               static_path=static_path)
    with pytest.raises(InputError, match=r"lst\.tif: not a static ancillary raster"):
        read_static(lst_path, G36.refine("M03"))
    got = read_static(static_path, G36.refine("M09"))  # block-averaged onto a coarser grid
    assert list(got) == list(STATIC_BANDS) and got["static_clay"].shape == (12, 12)
    np.testing.assert_allclose(got["static_grassland"], 1.0)


def test_static_raster_of_another_area_is_refused(tmp_path):
    elsewhere = Grid("M03", 0, 0, 36, 36)
    path = write_geotiff(str(tmp_path / "far.tif"), elsewhere,
                         [np.full(elsewhere.shape, 0.2, np.float32) for _ in STATIC_BANDS],
                         [BandSpec(n, "1", n) for n in STATIC_BANDS], {})
    g3 = G36.refine("M03")
    valid = np.ones(g3.shape, bool)
    with pytest.raises(InputError, match=r"far\.tif: the static ancillary raster leaves 100 % .* uncovered"):
        static_inputs(path, g3, ["static_clay"], valid, "m.pt")
    with pytest.raises(InputError, match=r"far\.tif: lacks the band\(s\) static_peat that the model m\.pt reads"):
        static_inputs(path, g3, ["static_peat"], valid, "m.pt")
    with pytest.raises(InputError, match="m.pt also reads a static ancillary raster"):
        static_inputs(None, g3, ["static_clay"], valid, "m.pt")
