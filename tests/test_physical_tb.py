import numpy as np

from smapdown.core.pipeline import TB_BOUNDS, physical_tb


def test_bounds_and_exact_block_means_with_nan():
    rng = np.random.default_rng(0)
    coarse = rng.uniform(60, 300, (2, 30, 40)).astype(np.float32)
    coarse[0, 3, 4] = np.nan
    fine = np.repeat(np.repeat(coarse, 4, 1), 4, 2) + rng.normal(0, 40, (2, 120, 160)).astype(np.float32)
    fine[1, 10, 10] = np.nan
    out, clipped = physical_tb(fine, coarse)
    assert clipped > 0
    assert np.nanmin(out) >= TB_BOUNDS[0] and np.nanmax(out) <= TB_BOUNDS[1]
    np.testing.assert_array_equal(np.isnan(out), np.isnan(fine))
    with np.errstate(invalid="ignore"):
        means = np.nanmean(out.reshape(2, 30, 4, 40, 4), axis=(2, 4))
    ok = np.isfinite(coarse)
    assert np.abs(means - coarse)[ok].max() < 1e-3
    # blocks that never touch the bounds keep their detail: a pure shift
    d = (out - fine).reshape(2, 30, 4, 40, 4)
    o = out.reshape(2, 30, 4, 40, 4)
    with np.errstate(invalid="ignore"):
        inside = (np.nanmin(o, axis=(2, 4)) > TB_BOUNDS[0]) & (np.nanmax(o, axis=(2, 4)) < TB_BOUNDS[1])
        spread = np.nanstd(d, axis=(2, 4))
    assert inside.sum() > 1000 and spread[inside].max() < 1e-3
