import numpy as np

from smapdown.core import simulate
from smapdown.core.tb_bounds import TB_CEILING, TB_FLOOR, physical_tb


def test_floor_is_the_coldest_calm_open_water_at_40_degrees():
    """The floor is physics, not a tuning knob: the minimum calm-water TB over salinity 0-40 psu and
    271-305 K (Klein-Swift + Fresnel at SMAP's 40°), per polarisation, and fresh water lies above it."""
    tbs = np.array([simulate.water_tb(t, s) for s in (0.0, 5.0, 20.0, 35.0, 40.0)
                    for t in np.arange(271.0, 305.5, 1.0) if s > 1.0 or t >= 273.15])
    coldest = tbs.min(axis=0)
    assert 0.0 <= coldest[0] - TB_FLOOR[0] < 1.0 and 0.0 <= coldest[1] - TB_FLOOR[1] < 1.0
    fresh = simulate.water_tb(273.15, 0.0)
    assert fresh[0] > TB_FLOOR[0] + 5 and fresh[1] > TB_FLOOR[1] + 5
    assert TB_FLOOR[0] > TB_FLOOR[1]  # V emits more than H at 40° over water (Brewster side)


def test_bounds_and_exact_block_means_with_nan():
    rng = np.random.default_rng(0)
    coarse = rng.uniform(120, 300, (2, 30, 40)).astype(np.float32)
    coarse[0, 3, 4] = np.nan
    fine = np.repeat(np.repeat(coarse, 4, 1), 4, 2) + rng.normal(0, 40, (2, 120, 160)).astype(np.float32)
    fine[1, 10, 10] = np.nan
    out, clipped = physical_tb(fine, coarse)
    assert clipped > 0
    for b in range(2):
        assert np.nanmin(out[b]) >= TB_FLOOR[b] and np.nanmax(out[b]) <= TB_CEILING
    np.testing.assert_array_equal(np.isnan(out), np.isnan(fine))
    with np.errstate(invalid="ignore"):
        means = np.nanmean(out.reshape(2, 30, 4, 40, 4), axis=(2, 4))
    ok = np.isfinite(coarse)
    assert np.abs(means - coarse)[ok].max() < 1e-3
    # blocks that never touch the bounds keep their detail: a pure shift
    d = (out - fine).reshape(2, 30, 4, 40, 4)
    o = out.reshape(2, 30, 4, 40, 4)
    lo = np.array(TB_FLOOR)[:, None, None]
    with np.errstate(invalid="ignore"):
        inside = (np.nanmin(o, axis=(2, 4)) > lo) & (np.nanmax(o, axis=(2, 4)) < TB_CEILING)
        spread = np.nanstd(d, axis=(2, 4))
    assert inside.sum() > 1000 and spread[inside].max() < 1e-3


def test_a_36km_value_below_the_floor_is_raised_to_it_not_followed():
    coarse = np.array([[[100.0]], [[57.8]]], np.float32)  # V and H below open water (a corrected TB artefact)
    fine = np.full((2, 4, 4), 150.0, np.float32)
    out, clipped = physical_tb(fine, coarse)
    assert clipped == 0
    np.testing.assert_allclose(out[0], TB_FLOOR[0], atol=1e-4)
    np.testing.assert_allclose(out[1], TB_FLOOR[1], atol=1e-4)
