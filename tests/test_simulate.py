"""Scene simulator: the physics of emission and backscatter, the instrument operators, the products."""

from __future__ import annotations

import datetime as dt
import os
import sys
import types

import numpy as np
import pytest
from osgeo import gdal

from smapdown.core import simulate as sim
from smapdown.core.errors import InputError
from smapdown.core.grid import GRIDS, Grid
from smapdown.core.scene import STATIC_BANDS

START = dt.date(2015, 6, 1)
LAND4 = Grid("M36", 80, 219, 4, 4)  # Oklahoma, 144 km


def _blocks(a: np.ndarray, f: int = 4) -> np.ndarray:
    """Mean over f x f blocks (NaN ignored; NaN where a block has no value)."""
    r, c = a.shape[0] // f, a.shape[1] // f
    b = a.reshape(r, f, c, f)
    n = np.isfinite(b).sum(axis=(1, 3))
    with np.errstate(all="ignore"):
        return np.where(n > 0, np.where(np.isfinite(b), b, 0.0).sum(axis=(1, 3)) / n, np.nan)


@pytest.fixture(scope="module")
def series() -> sim.SimulatedSeries:
    """The default Oklahoma region (3 x 3 cells), temperate, 12 days, with lakes and swath gaps."""
    return sim.simulate_region(sim.default_region(), START, 12, 7)


@pytest.fixture(scope="module")
def land() -> sim.SimulatedSeries:
    """A 4 x 4 land-only region without swath gaps (for the footprint and active-passive checks)."""
    return sim.simulate_region(LAND4, START, 10, 3, swath_gaps=False, water="none")


@pytest.fixture(scope="module")
def coast() -> sim.SimulatedSeries:
    """The Chesapeake region: a coast, estuaries and lakes."""
    return sim.simulate_named("chesapeake", START, 6, 11)


# --- physics --------------------------------------------------------------------------------------------
def test_mironov_and_water_permittivity_are_published_values():
    e = sim.mironov_permittivity(np.array([0.0, 0.1, 0.3]), 0.2)
    assert 2.3 < e[0].real < 3.2  # dry soil
    assert 13.0 < e[2].real < 20.0 and e[2].imag < 0  # ε' − jε'' with loss
    assert np.all(np.diff(e.real) > 0)
    fresh = sim.water_permittivity(293.15, 0.5)
    sea = sim.water_permittivity(293.15, 35.0)
    assert 78.0 < fresh.real < 81.0 and 3.0 < -fresh.imag < 10.0  # Klein-Swift at 1.41 GHz, 20 °C
    assert 68.0 < sea.real < 76.0 and -sea.imag > 50.0  # ionic conductivity of sea water


def test_tb_decreases_as_soil_moisture_increases_both_polarisations():
    sm = np.linspace(0.02, 0.50, 25)
    for vwc, h in ((0.0, 0.1), (1.5, 0.15), (5.0, 0.16)):
        tbv, tbh = sim.land_tb(sm, 0.25, 295.0, vwc=vwc, h=h, b=0.1, omega=0.05)
        assert np.all(np.diff(tbv) < 0) and np.all(np.diff(tbh) < 0)
    # bare soil: about 2–3 K per 0.01 m³/m³ at H over the mid range
    _, tbh = sim.land_tb(np.array([0.10, 0.30]), 0.2, 300.0, vwc=0.0, h=0.15, omega=0.0)
    assert 1.5 < (tbh[0] - tbh[1]) / 20 < 4.0
    # vegetation masks the soil: smaller sensitivity under a forest canopy
    _, tbh_f = sim.land_tb(np.array([0.10, 0.30]), 0.2, 300.0, vwc=10.0, h=0.16, omega=0.07)
    assert (tbh_f[0] - tbh_f[1]) < 0.4 * (tbh[0] - tbh[1])


def test_v_above_h_over_bare_soil_at_40_degrees():
    sm = np.linspace(0.02, 0.5, 10)
    tbv, tbh = sim.land_tb(sm, 0.2, 290.0, vwc=0.0, h=0.1, omega=0.0)
    assert np.all(tbv > tbh + 10.0)
    rv, rh = sim.fresnel_reflectivity(sim.mironov_permittivity(sm, 0.2))
    assert np.all(rh > rv) and np.all((rv > 0) & (rh < 1))


def test_water_is_cold():
    tbv, tbh = sim.water_tb(290.0, 0.5)
    assert tbh < 120.0 and 70.0 < tbh < 100.0 and 110.0 < tbv < 140.0
    tbv_s, tbh_s = sim.water_tb(290.0, 33.0)
    assert tbh_s < 100.0 and tbv_s < 140.0


def test_radar_backscatter_rises_with_soil_moisture():
    sm = np.linspace(0.05, 0.35, 7)
    bare = sim.sigma0_vv_db(sm, 0.2, vwc=0.0, rms_height_cm=1.2, canopy_db=-25.0)
    assert np.all(np.diff(bare) > 0)
    per_001 = (bare[-1] - bare[0]) / 30
    assert 0.1 < per_001 < 0.4  # dB per 0.01 m³/m³ (Dubois sensitivity at 40°)
    crop = sim.sigma0_vv_db(sm, 0.2, vwc=2.5, rms_height_cm=1.5, b=0.11, canopy_db=-14.0)
    assert np.all(np.diff(crop) > 0) and (crop[-1] - crop[0]) < (bare[-1] - bare[0])
    vv, hv, _ = sim.backscatter(0.25, 0.2, vwc=8.0, rms_height_cm=1.5, canopy_db=-10.0)
    assert -12.0 < 10 * np.log10(vv) < -8.0 and 10 * np.log10(hv) < 10 * np.log10(vv) - 5.0


def test_footprint_operator_preserves_constants_and_centres_ramps():
    F, dx = 12, GRIDS["M03"][0] / 1000.0
    fine = np.full((7 * F, 7 * F), 250.0)
    out = sim.footprint_sample(fine, (3, 3), (2, 2), F, dx)
    np.testing.assert_allclose(out, 250.0)
    ramp = np.tile(np.arange(7 * F, dtype=float), (7 * F, 1))  # value = fine column index
    out = sim.footprint_sample(ramp, (3, 3), (2, 2), F, dx)
    centres = (2 + np.arange(3) + 0.5) * F - 0.5  # fine column of each 36 km cell centre
    np.testing.assert_allclose(out, np.tile(centres, (3, 1)), atol=1e-6)


# --- the simulated series ---------------------------------------------------------------------------------
def test_shapes_grids_dtypes_and_attrs(series):
    s = series
    assert s.grid36 == sim.default_region() and s.grid9 == s.grid36.refine("M09")
    assert s.grid3 == s.grid36.refine("M03") and s.grid1 == s.grid36.refine("M01")
    d = s.days[0]
    for name in ("tb36_v", "tb36_h", "tb36_v_pm", "tb36_h_pm", "surface_temperature36", "sm36"):
        assert getattr(d, name).shape == (3, 3), name
    for name in ("tb9_true_v", "tb9_true_h", "tb9_radar_v", "tb9_radar_h", "sigma0_9", "sm9"):
        assert getattr(d, name).shape == (12, 12), name
    assert d.sm3.shape == d.sm3_true.shape == (36, 36)
    assert d.lst1.shape == s.lst_grid.shape == (108, 108)
    assert all(getattr(d, n).dtype == np.float32 for n in ("tb36_v", "tb9_radar_h", "lst1"))
    assert [x.date for x in s.days] == [START + dt.timedelta(days=i) for i in range(12)]
    assert s.static["land_cover"].shape == (36, 36) and s.static["water_fraction9"].shape == (12, 12)
    assert s.attrs["simulated"] == "true" and s.attrs["seed"] == "7" and s.attrs["climate"] == "temperate"
    assert "not real" in s.attrs["note"] and s.attrs["generator"] == "smapdown.core.simulate"
    tb = np.concatenate([x.tb9_true_v.ravel() for x in s.days] + [x.tb9_true_h.ravel() for x in s.days])
    assert np.isfinite(tb).mean() > 0.9  # empty only where water covers more than half a 9 km cell
    assert 120.0 < np.nanmin(tb) and np.nanmax(tb) < 300.0


def test_soil_moisture_bounded(series, coast):
    for s in (series, coast):
        for i, d in enumerate(s.days):
            for name in ("sm9", "sm3", "sm3_true", "sm36"):
                a = getattr(d, name)
                a = a[np.isfinite(a)]
                if name == "sm3" and not sim.sentinel1_day(i):
                    assert a.size == 0  # no SMAP/Sentinel-1 product without a Sentinel-1 pass
                    continue
                assert a.size and a.min() >= 0.02 - 1e-6 and a.max() <= 0.50 + 1e-6, name
        # the 3 km target carries the stated retrieval error (clipping at 0.02 / 0.50 trims it a little)
        err = np.concatenate([(d.sm3 - d.sm3_true)[np.isfinite(d.sm3)] for d in s.days])
        assert 0.6 * sim.SM3_ERROR < err.std() < 1.1 * sim.SM3_ERROR


def test_sentinel1_product_only_every_six_days_with_spatially_correlated_errors():
    # ESA: Sentinel-1A + 1B repeat every 6 days at the equator; the series starts on an acquisition
    assert [sim.sentinel1_day(i) for i in range(13)] == [i % 6 == 0 for i in range(13)]
    s = sim.simulate_region(Grid("M36", 81, 220, 4, 4), START, 13, 5, "temperate", water="none")
    have = [bool(np.isfinite(d.sm3).any()) for d in s.days]
    assert have == [i in (0, 6, 12) for i in range(13)]
    errs = [d.sm3 - d.sm3_true for d in s.days if np.isfinite(d.sm3).any()]
    for e in errs:  # neighbouring 3 km cells share part of their error (white noise would give r = 0)
        ok = np.isfinite(e[:, 1:]) & np.isfinite(e[:, :-1])
        assert np.corrcoef(e[:, 1:][ok], e[:, :-1][ok])[0, 1] > 0.2
    ok = np.isfinite(errs[0]) & np.isfinite(errs[1])  # part of the error persists between acquisitions
    assert np.corrcoef(errs[0][ok], errs[1][ok])[0, 1] > 0.1


def test_deterministic_for_a_seed_and_different_between_seeds():
    a = sim.simulate_region(sim.default_region(), START, 3, 5)
    b = sim.simulate_region(sim.default_region(), START, 3, 5)
    c = sim.simulate_region(sim.default_region(), START, 3, 6)
    for da, db, dc in zip(a.days, b.days, c.days, strict=True):
        for name in ("tb36_v", "tb9_true_h", "tb9_radar_v", "sigma0_9", "sm3", "lst1"):
            np.testing.assert_array_equal(getattr(da, name), getattr(db, name))
        assert not np.allclose(da.tb9_true_h, dc.tb9_true_h)
    for k in a.static:
        np.testing.assert_array_equal(a.static[k], b.static[k])
    assert not np.array_equal(a.static["land_cover"], c.static["land_cover"])


def test_static_fields_fixed_and_days_depend_only_on_their_index():
    short = sim.simulate_region(sim.default_region(), START, 2, 9, swath_gaps=False)
    longer = sim.simulate_region(sim.default_region(), START, 4, 9, swath_gaps=False)
    for k in ("land_cover", "water_fraction9", "vwc9", "clay", "roughness_h", "sm_climatology"):
        np.testing.assert_array_equal(short.static[k], longer.static[k])
    for d1, d2 in zip(short.days, longer.days[:2], strict=True):
        np.testing.assert_array_equal(d1.tb9_true_v, d2.tb9_true_v)
        np.testing.assert_array_equal(d1.sm3_true, d2.sm3_true)


def test_water_cells_stay_cold_and_masked_every_day(coast):
    wf9 = coast.static["water_fraction9"]
    open_water = wf9 > 0.95
    assert open_water.any(), "the coast region should contain open water"
    wf3 = coast.static["water_fraction3"]
    for d in coast.days:
        assert np.all(d.tb9_true_h_uncorrected[open_water] < 120.0)
        assert np.all(d.tb9_true_v_uncorrected[open_water] < 150.0)
        assert np.all(np.isnan(d.tb9_true_v[wf9 > 0.5]))  # the water-corrected truth: land part only
        assert np.all(np.isfinite(d.tb9_true_v[wf9 < 0.5]))
        assert np.all(np.isnan(d.sm3_true[wf3 > 0.5])) and np.all(np.isfinite(d.sm3_true[wf3 < 0.5]))
        assert np.all(np.isnan(d.tb9_radar_h[wf9 > 0.5]))
        assert np.nanmean(d.sigma0_9) > -20.0  # water left out of the radar aggregate


def test_observation_mean_equals_fine_mean_within_noise(land):
    diffs = []
    for d in land.days:
        assert np.isfinite(d.tb36_v).all()
        for p in ("v", "h"):
            diffs.append(float(getattr(d, f"tb36_{p}").mean() - getattr(d, f"tb9_true_{p}").mean()))
    diffs = np.array(diffs)
    assert np.abs(diffs).max() < 3.0  # footprint edges (regional gradients cross them) + NEDT 1.1 K / 4 per day
    assert abs(diffs.mean()) < 1.0  # the margin the footprint sees is static: its offset persists over days
    # the footprint smooths: a 36 km observation differs from its own cell's 9 km mean, but not wildly
    d = land.days[0]
    off = d.tb36_h - _blocks(d.tb9_true_h)
    assert 0.2 < np.abs(off).mean() < 15.0


def test_radar_guided_tb_averages_back_to_tb36(land, series):
    for s in (land, series):
        for d in s.days:
            for p in ("v", "h"):
                tb36 = getattr(d, f"tb36_{p}")
                rad = getattr(d, f"tb9_radar_{p}")
                ok = np.isfinite(tb36) & (np.isfinite(rad).reshape(3 if s is series else 4, 4, -1, 4)
                                          .all(axis=(1, 3)))
                np.testing.assert_allclose(_blocks(rad)[ok], tb36[ok], atol=1e-3)
                assert np.all(np.isnan(rad[np.repeat(np.repeat(~np.isfinite(tb36), 4, 0), 4, 1)]))
    for p in ("v", "h"):
        beta = land.static[f"beta_{p}"]
        assert np.all(beta <= 0.0) and np.median(beta) < -0.5  # K/dB, negative as in the real algorithm
    # radar-guided TB carries sub-cell structure but is not the truth
    d = land.days[-1]
    assert np.std(d.tb9_radar_h - np.repeat(np.repeat(d.tb36_h, 4, 0), 4, 1)) > 0.5
    assert not np.allclose(d.tb9_radar_h, d.tb9_true_h, atol=1.0)


def test_subcell_variability_is_realistic(land, coast):
    v = sim.subcell_variability(land)
    assert v["land"]["cells"] == 16 and v["water"]["cells"] == 0
    assert 1.5 < v["land"]["tb_v"] < 10.0 and 3.0 < v["land"]["tb_h"] < 18.0
    assert v["land"]["tb_h"] > v["land"]["tb_v"]
    w = sim.subcell_variability(coast)
    assert w["water"]["cells"] >= 1
    assert w["water"]["tb_v"] >= 10.0 and w["water"]["tb_h"] >= 10.0


def test_sca_v_retrieval_inverts_the_forward_model():
    sm = np.array([0.05, 0.12, 0.20, 0.30, 0.42])
    clay, vwc, h, b, om, ts = 0.2, 1.5, 0.15, 0.10, 0.05, 295.0
    tbv, _ = sim.land_tb(sm, clay, ts, vwc, h, b, om)
    got = sim.sca_v_retrieval(tbv, np.full(5, ts), vwc, clay, h, b, om, np.zeros(5))
    np.testing.assert_allclose(got, sm, atol=0.003)
    # a cell 20 % open water: the water emission at the ancillary temperature is removed first
    ev_w = sim.water_emissivity(ts, 0.5)[0]
    mixed = 0.8 * tbv + 0.2 * ts * ev_w
    np.testing.assert_allclose(sim.sca_v_retrieval(mixed, np.full(5, ts), vwc, clay, h, b, om, np.full(5, 0.2)),
                               sm, atol=0.003)
    # frozen ground, missing TB and mostly-water cells give no retrieval; out-of-range TB is clipped
    out = sim.sca_v_retrieval(np.array([tbv[0], np.nan, tbv[0], 150.0]), np.array([270.0, ts, ts, ts]), vwc,
                              clay, h, b, om, np.array([0.0, 0.0, 0.6, 0.0]))
    assert np.isnan(out[:3]).all() and out[3] == pytest.approx(0.50)


def test_36km_retrieval_tracks_the_truth_with_emergent_errors(land, series):
    for s in (land, series):
        r = np.stack([d.sm36_retrieved for d in s.days])
        t = np.stack([d.sm36 for d in s.days])
        ok = np.isfinite(r) & np.isfinite(t)
        assert ok.sum() > 0.5 * np.isfinite(t).sum()
        e = r[ok] - t[ok]
        # (the lakes region's 3 x 3 cells span a small moisture range under regionally varying vegetation)
        assert np.corrcoef(r[ok], t[ok])[0, 1] > 0.35
        assert 0.005 < e.std() < 0.06 and abs(e.mean()) < 0.05  # wrong, but like a real retrieval
        anc = np.stack([d.ts36_ancillary for d in s.days]) - np.stack([d.surface_temperature36 for d in s.days])
        assert 1.0 < np.nanstd(anc) < 3.0  # ancillary temperature error as stated
        assert (np.stack([d.vwc36_ancillary for d in s.days]) > 0).all()


def test_static_map_is_the_truth_with_map_errors(series):
    grid3, bands = sim.static_map(series)
    assert grid3 == series.grid3 and len(bands) == len(STATIC_BANDS)
    clay, cover, water = bands[0], np.stack(bands[2:7]), bands[7]
    assert all(b.shape == grid3.shape for b in bands)
    np.testing.assert_allclose(cover.sum(axis=0), 1.0, atol=1e-6)
    np.testing.assert_allclose(water, series.static["water_fraction3"], atol=1e-6)
    err = clay - series.static["clay"]
    assert 0.01 < err.std() < 0.08 and np.corrcoef(clay.ravel(), series.static["clay"].ravel())[0, 1] > 0.5
    true_cover = series.static["land_cover_fractions"]
    assert np.abs(cover - true_cover).max() > 0.01  # not the truth ...
    assert np.corrcoef(cover[2].ravel(), true_cover[2].ravel())[0, 1] > 0.9  # ... but close to it


def test_climates_order_mean_soil_moisture():
    means = {}
    for climate in ("arid", "temperate", "humid"):
        s = sim.simulate_region(sim.default_region(), START, 4, 2, climate=climate, water="none")
        means[climate] = np.nanmean([np.nanmean(d.sm3_true) for d in s.days])
    assert means["arid"] < means["temperate"] < means["humid"]
    assert set(sim.CLIMATES) >= {"arid", "temperate", "humid", "continental"}
    assert {spec.climate for spec in sim.CLIMATE_REGIONS.values()} >= {"arid", "temperate", "humid",
                                                                       "continental"}
    assert any(spec.water == "coast" for spec in sim.CLIMATE_REGIONS.values())


def test_swath_gaps_differ_between_passes_and_can_be_switched_off():
    s = sim.simulate_region(sim.default_region(), START, 20, 4)
    am = np.array([np.isnan(d.tb36_v) for d in s.days])
    pm = np.array([np.isnan(d.tb36_v_pm) for d in s.days])
    assert am.any() and pm.any() and not np.array_equal(am, pm)
    assert am.any(axis=(1, 2)).mean() < 0.7  # only some days
    for d in s.days:  # both polarisations share the gaps; radar follows the AM pass
        np.testing.assert_array_equal(np.isnan(d.tb36_v), np.isnan(d.tb36_h))
    none = sim.simulate_region(sim.default_region(), START, 3, 4, swath_gaps=False)
    assert all(np.isfinite(d.tb36_v).all() and np.isfinite(d.tb36_h_pm).all() for d in none.days)


def test_lst_cool_where_wet_with_cloud_gaps(series):
    corr, cloud = [], []
    for d in series.days:
        cloud.append(np.isnan(d.lst1).mean())
        lst3 = _blocks(d.lst1, 3)
        ok = np.isfinite(lst3) & np.isfinite(d.sm3_true)
        corr.append(np.corrcoef(lst3[ok], d.sm3_true[ok])[0, 1])
    assert np.mean(corr) < -0.2
    assert 0.1 < np.mean(cloud) < 0.5
    lst = np.concatenate([d.lst1[np.isfinite(d.lst1)] for d in series.days])
    assert 270.0 < lst.mean() < 330.0
    am = np.mean([np.nanmean(d.surface_temperature36) for d in series.days])
    assert am < lst.mean()  # 6 AM cooler than the 10:30 daytime LST


def test_fine_m01_grid():
    s = sim.simulate_region(sim.default_region(), START, 2, 1, fine="M01")
    assert s.fine == "M01" and s.static["land_cover"].shape == (108, 108)
    assert s.days[0].lst1.shape == (108, 108) and s.days[0].tb9_true_v.shape == (12, 12)
    assert sim.subcell_variability(s)["all"]["tb_v"] > 1.0


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(InputError, match="M36"):
        sim.simulate_region(Grid("M09", 0, 0, 4, 4), START, 2, 1)
    with pytest.raises(InputError, match="climate"):
        sim.simulate_region(sim.default_region(), START, 2, 1, climate="tropical-ish")
    with pytest.raises(InputError, match="days"):
        sim.simulate_region(sim.default_region(), START, 0, 1)
    with pytest.raises(InputError, match="fine grid"):
        sim.simulate_region(sim.default_region(), START, 1, 1, fine="M09")
    with pytest.raises(InputError, match="open water"):
        sim.simulate_region(sim.default_region(), START, 1, 1, water="ocean")


# --- output ------------------------------------------------------------------------------------------------
@pytest.fixture
def short_series() -> sim.SimulatedSeries:
    return sim.simulate_region(sim.default_region(), START, 2, 13, swath_gaps=False)


def _tif_metadata(path: str) -> dict[str, str]:
    ds = gdal.Open(path)
    return ds.GetMetadata() or {}


def test_write_series_calls_the_product_writer_as_agreed(short_series, tmp_path, monkeypatch):
    calls = []

    def fake_write(path, product, grid, fields, *, date, pm_fields=None, attrs=None):
        calls.append((product, grid, dict(fields), date, pm_fields, attrs))
        with open(path, "w") as f:
            f.write(product)
        return path

    stub = types.ModuleType("smapdown.core.smap_write")
    stub.write_product = fake_write
    monkeypatch.setitem(sys.modules, "smapdown.core.smap_write", stub)
    files = sim.write_series(short_series, str(tmp_path))
    assert {k: len(v) for k, v in files.items()} == {"low": 2, "high": 2, "sm3": 1, "lst": 2, "truth": 2,
                                                     "static": 1}
    assert os.path.basename(files["low"][0]) == "SMAP_L3_SM_P_20150601_SIM.h5"
    assert os.path.basename(files["high"][1]) == "SMAP_L3_SM_AP_20150602_SIM.h5"
    assert os.path.basename(files["sm3"][0]) == "SMAP_L2_SM_SP_20150601_SIM.h5"
    grids = {"SPL3SMP": short_series.grid36, "SPL3SMAP": short_series.grid9, "SPL2SMAP_S": short_series.grid3}
    for product, grid, fields, date, pm, attrs in calls:
        assert grid == grids[product] and isinstance(date, dt.date)
        assert attrs["simulated"] == "true" and attrs["seed"] == "13"
        assert all(a.shape == grid.shape for a in fields.values())
        assert set(fields) <= {"tb_v", "tb_h", "soil_moisture", "surface_temperature", "sigma0_vv",
                               "water_fraction", "vegetation_water_content", "tb_v_uncorrected", "tb_h_uncorrected"}
        if product == "SPL3SMP":
            assert pm is not None and {"tb_v", "tb_h"} <= set(pm)
        if product == "SPL3SMAP":
            assert {"tb_v", "tb_h", "sigma0_vv"} <= set(fields)
    for path in files["lst"] + files["truth"] + files["static"]:
        md = _tif_metadata(path)
        assert md["simulated"] == "true" and md["seed"] == "13"
    truth = gdal.Open(files["truth"][0])
    assert truth.RasterCount == 4 and truth.GetRasterBand(1).GetDescription() == "tb_v"
    assert truth.GetRasterBand(3).GetDescription() == "tb_v_uncorrected"
    np.testing.assert_allclose(truth.GetRasterBand(2).ReadAsArray(), short_series.days[0].tb9_true_h)
    lst = gdal.Open(files["lst"][0])
    assert (lst.RasterYSize, lst.RasterXSize) == (108, 108) and lst.GetRasterBand(1).GetDescription() == "lst"
    # a day whose AM pass misses the whole region gets no 36 km / 9 km file
    short_series.days[0].tb36_v[:] = np.nan
    files = sim.write_series(short_series, str(tmp_path / "gap"))
    assert len(files["low"]) == len(files["high"]) == 1 and len(files["truth"]) == 2


def test_write_series_real_products_say_simulated_and_read_back(short_series, tmp_path):
    pytest.importorskip("smapdown.core.smap_write")
    from smapdown.core import smap

    files = sim.write_series(short_series, str(tmp_path))
    d = short_series.days[0]
    low = smap.read_smap(files["low"][0], extent=short_series.grid36.bounds(), extent_crs="EPSG:6933")
    assert low.attrs.get("simulated") == "true" and low.attrs.get("seed") == "13"
    assert low.grid == short_series.grid36
    np.testing.assert_allclose(low.by_role("tb_v").data, d.tb36_v, atol=1e-3)
    # the 36 km soil moisture is the simulated retrieval, with the ancillary temperature it used
    np.testing.assert_allclose(low.by_role("soil_moisture").data, d.sm36_retrieved, atol=1e-4)
    np.testing.assert_allclose(low.by_role("surface_temperature").data, d.ts36_ancillary, atol=1e-3)
    high = smap.read_smap(files["high"][0], variables=["tb_v", "tb_h"], extent=short_series.grid9.bounds(),
                          extent_crs="EPSG:6933")
    assert high.attrs.get("simulated") == "true"
    np.testing.assert_allclose(high.by_role("tb_h").data, d.tb9_radar_h, atol=1e-3)
    sm3 = smap.read_smap(files["sm3"][0], variables=["soil_moisture"], extent=short_series.grid3.bounds(),
                         extent_crs="EPSG:6933", grid_name="M03")
    assert sm3.attrs.get("seed") == "13"
    np.testing.assert_allclose(sm3.by_role("soil_moisture").data, d.sm3, atol=1e-4)


# --- the water-body correction of the 36 km TB (SPL2SMP's tb_*_corrected) ------------------------------------
def test_water_correction_recovers_the_land_tb_of_a_mixed_cell():
    ts = np.array([285.0, 285.0, 300.0, 285.0, 285.0])
    f = np.array([0.0, 0.2, 0.35, 0.6, 0.1])
    land = np.array([[250.0, 250.0, 262.0, 250.0, 240.0], [230.0, 230.0, 241.0, 230.0, 215.0]])
    for i, pol in enumerate("vh"):
        water = np.array([sim.water_tb(t, 0.5)[i] for t in ts])
        mixed = (1.0 - f) * land[i] + f * water
        corrected = sim.water_corrected_tb(mixed, ts, f, pol)
        ok = f <= 0.5
        np.testing.assert_allclose(corrected[ok], land[i][ok], atol=1e-9)  # exact for a calm fresh-water mix
        assert corrected[3] == mixed[3]  # more than half water: left as is, as the real product does
        assert np.all(corrected[1:3] > mixed[1:3])  # water is colder than land: the correction warms
    # the real SPL2SMP anchor: implied water TB 129.0 (V) / 88.3 K (H) at the file's median temperature
    assert 120.0 < sim.water_tb(290.0, 0.5)[0] < 135.0 and 75.0 < sim.water_tb(290.0, 0.5)[1] < 92.0


def test_simulated_corrected_tb_estimates_the_land_part(coast):
    wf = coast.static["water_fraction_mb36"]
    mixed = (wf > 0.05) & (wf < 0.45)
    assert mixed.sum() >= 2
    err_c, err_u = [], []
    R, C = coast.grid36.shape
    for d in coast.days:
        land36 = np.nanmean(d.tb9_true_v.reshape(R, 4, C, 4), axis=(1, 3))
        ok = mixed & np.isfinite(d.tb36_v) & np.isfinite(land36)
        err_c.append(np.abs(d.tb36_v - land36)[ok])
        err_u.append(np.abs(d.tb36_v_uncorrected - land36)[ok])
        assert np.all(d.tb36_v[ok] > d.tb36_v_uncorrected[ok])
        same = (wf <= 0.0) | (wf > 0.5)
        np.testing.assert_array_equal(d.tb36_v[same], d.tb36_v_uncorrected[same])
    assert np.concatenate(err_c).mean() < 0.5 * np.concatenate(err_u).mean()


# --- regional heterogeneity, anchored by the real half-orbit's 36 km semivariogram ---------------------------
def _gamma36(series, lag: int) -> float:
    """Semivariogram (K²) of the observed (water-corrected) 36 km TB_V over land cells at ``lag`` cells."""
    land = series.static["water_fraction36"] < 0.1
    d2 = []
    for d in series.days:
        tb = d.tb36_v.astype(float)
        for a, b, k in ((tb[:, :-lag], tb[:, lag:], land[:, :-lag] & land[:, lag:]),
                        (tb[:-lag], tb[lag:], land[:-lag] & land[lag:])):
            ok = k & np.isfinite(a) & np.isfinite(b)
            d2.append((a - b)[ok] ** 2)
    return 0.5 * float(np.concatenate(d2).mean())


def test_regional_gradients_raise_the_36km_semivariogram(monkeypatch):
    # anchor: the real SPL2SMP_NRT half-orbit over land, gamma_V 114 / 590 K² at 36 / 108 km lags, was 3.5 and
    # 1.7 times the simulator's without regional gradients (docs/validation.md)
    def gammas():
        s = sim.simulate_region(Grid("M36", 60, 230, 8, 8), START, 3, 3, "temperate", water="none")
        return _gamma36(s, 1), _gamma36(s, 3)

    with_gradients = gammas()
    from smapdown.core.simulate import landscape
    for name in ("REGIONAL_COVER", "REGIONAL_VWC", "REGIONAL_SM"):
        monkeypatch.setattr(landscape, name, 0.0)  # the same random draws, the gradients switched off
    without = gammas()
    assert with_gradients[0] > 1.2 * without[0] and with_gradients[1] > 1.2 * without[1]
    assert with_gradients[1] > 2.0 * with_gradients[0]  # the field decorrelates with distance
    assert sim.REGIONAL_LENGTH_KM >= 36.0  # gradients between 36 km cells, not inside them


# --- radar: sigma_hh (Oh co-pol ratio), soil-stem double bounce, the product's beta / Gamma ranges ------------
def test_oh_copol_ratio_is_below_one_and_tends_to_one_when_rough():
    eps = sim.mironov_permittivity(0.25, 0.2)
    p_smooth, p_mid, p_rough = sim.oh_copol_ratio(eps, np.array([0.3, 1.5, 30.0]))
    assert p_smooth < p_mid < p_rough <= 1.0  # HH below VV on smooth soil (Oh et al. 1992)
    assert p_rough > 0.99  # the limit ks -> infinity


def test_double_bounce_is_zero_without_stems_larger_for_hh_and_rises_with_soil_moisture():
    dry, wet = sim.mironov_permittivity(0.08, 0.2), sim.mironov_permittivity(0.35, 0.2)
    assert sim.double_bounce(wet, 1.0, 0.0, 0.1, 2.0) == (0.0, 0.0)  # no canopy, no stems
    assert sim.double_bounce(wet, 1.0, 5.0, 0.1, 0.0) == (0.0, 0.0)
    vv_dry, hh_dry = sim.double_bounce(dry, 1.0, 5.0, 0.1, 2.0)
    vv_wet, hh_wet = sim.double_bounce(wet, 1.0, 5.0, 0.1, 2.0)
    assert hh_wet > vv_wet > 0  # Fresnel: the H reflectivity exceeds the V one at 40 degrees (Brewster)
    assert vv_wet > vv_dry and hh_wet > hh_dry  # a wetter soil reflects more
    rough = sim.double_bounce(wet, 4.0, 5.0, 0.1, 2.0)[1]
    assert rough < hh_wet  # roughness removes coherent reflection
    # so dense vegetation's co-pol sigma rises with soil moisture (beta less negative: Jagdhuber et al. 2019)
    vv = [sim.backscatter(sm, 0.2, vwc=9.0, rms_height_cm=1.5, canopy_db=-10.0, stems=2.0)[0] for sm in (0.1, 0.3)]
    vv0 = [sim.backscatter(sm, 0.2, vwc=9.0, rms_height_cm=1.5, canopy_db=-10.0)[0] for sm in (0.1, 0.3)]
    assert vv[1] / vv[0] > vv0[1] / vv0[0]


def test_active_passive_uses_sigma_hh_for_tb_h_within_the_products_ranges(land):
    assert sim.BETA_RANGE == (-25.0, 0.0) and sim.GAMMA_RANGE == (0.0, 2.0)  # SPL2SMAP valid ranges (NSIDC)
    for p in ("v", "h"):
        beta = land.static[f"beta_{p}"]
        assert np.all((beta >= -25.0) & (beta <= 0.0))
    d = land.days[0]
    assert np.all((d.gamma36_hh >= 0.0) & (d.gamma36_hh <= 2.0))
    ok = np.isfinite(d.sigma0_hh_9)
    assert ok.any() and not np.allclose(d.sigma0_hh_9[ok], d.sigma0_9[ok])
    # TB_H departs from TB_36 by beta_h times the sigma_HH term, not the sigma_VV one
    R, C = land.grid36.shape

    def up(a):
        return np.repeat(np.repeat(a, 4, axis=0), 4, axis=1)

    def cell_mean(a):
        return np.nanmean(a.reshape(R, 4, C, 4), axis=(1, 3))

    hv = d.sigma0_hv_9 - up(cell_mean(d.sigma0_hv_9))
    term = (d.sigma0_hh_9 - up(cell_mean(d.sigma0_hh_9))) - up(d.gamma36_hh) * hv
    expect = up(d.tb36_h) + up(land.static["beta_h"]) * term
    np.testing.assert_allclose(d.tb9_radar_h[ok], expect[ok], atol=1e-3)
