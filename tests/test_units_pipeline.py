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
