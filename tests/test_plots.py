"""The poster-like panel and the loss curve are real PNGs with the rows and panels asked for."""

from __future__ import annotations

import numpy as np
from osgeo import gdal

from smapdown.core.plots import loss_curve, poster_panel


def _size(path: str) -> tuple[int, int]:
    ds = gdal.Open(path)
    return ds.RasterXSize, ds.RasterYSize


def test_poster_panel_draws_rows_of_maps_with_nan(tmp_path):
    rng = np.random.default_rng(0)
    tb = rng.normal(250, 5, (16, 16))
    tb[:3, :3] = np.nan
    sm = rng.uniform(0.1, 0.4, (48, 48))
    rows = [{"label": "TB V", "panels": [("36 km", tb, "tb"), ("CNN", tb + 1, "tb"), ("diff", tb - 250, "diff")]},
            {"label": "soil moisture", "panels": [("LST", sm * 100 + 270, "lst"), ("SM", sm, "sm"),
                                                  ("SM diff", sm - 0.25, "sm_diff")]}]
    png = poster_panel(str(tmp_path / "panel.png"), "test panel", rows)
    w, h = _size(png)
    assert w > h > 300  # three panels across, two rows down
    wide = poster_panel(str(tmp_path / "wide.png"), "test", [rows[0], {"label": "x", "panels": [("a", tb, "tb")]}])
    assert abs(_size(wide)[0] - w) <= 5  # columns follow the longest row (tight bounding box: ±px)
    assert not list(tmp_path.glob(".smapdown-*"))  # written atomically, no temporary left


def test_loss_curve_png(tmp_path):
    hist = [{"epoch": i + 1, "train_mae": {"tb_v": 3.0 - 0.1 * i}, "val_mae": {"tb_v": 3.1 - 0.1 * i},
             "val_mae_baseline": {"tb_v": 3.5}} for i in range(5)]
    png = loss_curve(hist, str(tmp_path / "loss.png"), "test", units="K")
    assert _size(png)[0] > 200
