import numpy as np
import pytest

from smapdown.core.metrics import compare


def test_metrics_known_values():
    rng = np.random.default_rng(0)
    ref = rng.normal(250, 10, (40, 40))
    est = ref + 2.0
    m = compare(est, ref)
    assert m["mae"] == pytest.approx(2.0) and m["bias"] == pytest.approx(2.0)
    assert m["ubrmse"] == pytest.approx(0.0, abs=1e-6) and m["r"] == pytest.approx(1.0)
    same = compare(ref, ref)
    assert same["ssim"] == pytest.approx(1.0) and same["psnr"] == float("inf")
    noisy = compare(ref + rng.normal(0, 5, ref.shape), ref)
    assert 0 < noisy["ssim"] < 1 and noisy["ubrmse"] == pytest.approx(5, rel=0.1)


def test_metrics_ignore_nan_and_count():
    ref = np.ones((10, 10))
    est = np.full((10, 10), 2.0)
    est[0, :] = np.nan
    m = compare(est, ref)
    assert m["n"] == 90 and m["mae"] == 1.0
    assert compare(np.full((3, 3), np.nan), ref[:3, :3])["n"] == 0
