"""Agreement metrics between an estimate and a reference on the same grid (NaN-aware).

Every report names its reference; these functions only compute numbers on cells valid in both.
"""

from __future__ import annotations

import numpy as np


def _pair(est: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(est) & np.isfinite(ref)
    return est[ok].astype(np.float64), ref[ok].astype(np.float64)


def ssim(est: np.ndarray, ref: np.ndarray, data_range: float, window: int = 7) -> float:
    """Mean structural similarity (Wang et al. 2004) over windows fully valid in both images."""
    if est.shape[0] < window or est.shape[1] < window:
        return float("nan")
    ok = (np.isfinite(est) & np.isfinite(ref)).astype(np.float64)
    x = np.where(ok > 0, est, 0.0).astype(np.float64)
    y = np.where(ok > 0, ref, 0.0).astype(np.float64)

    def box(a: np.ndarray) -> np.ndarray:
        c = np.cumsum(np.cumsum(np.pad(a, ((1, 0), (1, 0))), 0), 1)
        return (c[window:, window:] - c[:-window, window:] - c[window:, :-window]
                + c[:-window, :-window])

    n = window * window
    full = box(ok) >= n - 0.5
    if not full.any():
        return float("nan")
    mx, my = box(x) / n, box(y) / n
    vx = box(x * x) / n - mx * mx
    vy = box(y * y) / n - my * my
    cxy = box(x * y) / n - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s[full].mean())


def compare(est: np.ndarray, ref: np.ndarray, data_range: float | None = None) -> dict[str, float]:
    """MAE, RMSE, bias, ubRMSE, Pearson R, PSNR and SSIM of ``est`` against ``ref``, and the count n.

    Bias is est − ref. PSNR and SSIM use ``data_range`` (default: the reference's valid range).
    """
    e, r = _pair(est, ref)
    n = int(e.size)
    if n == 0:
        return {"n": 0, "mae": float("nan"), "rmse": float("nan"), "bias": float("nan"),
                "ubrmse": float("nan"), "r": float("nan"), "psnr": float("nan"), "ssim": float("nan")}
    d = e - r
    bias = float(d.mean())
    rmse = float(np.sqrt((d * d).mean()))
    ubrmse = float(np.sqrt(max(rmse * rmse - bias * bias, 0.0)))
    rr = float(np.corrcoef(e, r)[0, 1]) if n > 1 and e.std() > 0 and r.std() > 0 else float("nan")
    dr = float(data_range) if data_range else float(r.max() - r.min()) or 1.0
    psnr = float(20 * np.log10(dr / rmse)) if rmse > 0 else float("inf")
    return {"n": n, "mae": float(np.abs(d).mean()), "rmse": rmse, "bias": bias, "ubrmse": ubrmse,
            "r": rr, "psnr": psnr, "ssim": ssim(est, ref, dr)}
