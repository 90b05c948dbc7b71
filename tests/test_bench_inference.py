"""The speed-ups the scale benchmark measures do not change outputs: adaptive tiles cover every valid pixel
once, shrinking layers give model.forward's numbers, bf16 stays near fp32; and the benchmark's report renders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from smapdown.model import inference
from smapdown.model.io import Band, ModelCard, Normalisation
from smapdown.model.network import DownscaleCNN


def _card(net: DownscaleCNN) -> ModelCard:
    n_in, n_out = net.in_channels, net.out_channels
    mean, std = (250.0, 200.0, 0.0)[:n_in], (15.0, 20.0, 1.0)[:n_in]
    return ModelCard.for_network(net.config, inputs=[Band(f"b{i}") for i in range(n_in)],
                                 outputs=[Band(f"o{i}") for i in range(n_out)], input_norm=Normalisation(mean, std),
                                 output_norm=Normalisation(mean[:n_out], std[:n_out]), code_version="test")


def _coast(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A valid mask with a ragged coast, an island and a diagonal swath gap."""
    r, c = np.mgrid[:h, :w]
    rng = np.random.default_rng(seed)
    land = c + 8 * np.sin(r / 7.0) + rng.normal(0, 2, (h, w)) > w * 0.45
    land |= (r - h * 0.3) ** 2 + (c - w * 0.2) ** 2 < 40
    land &= ((r + c) % 70) > 9
    return land


@pytest.mark.parametrize("tile", [16, 48, 256])
def test_plan_tiles_cover_every_valid_pixel_once_and_save_work(tile):
    valid = _coast(150, 170)
    tiles = inference.plan_tiles(valid, tile, 16)
    count = np.zeros(valid.shape, int)
    for r0, r1, c0, c1 in tiles:
        assert 0 <= r0 < r1 <= 150 and 0 <= c0 < c1 <= 170
        count[r0:r1, c0:c1] += 1
    assert count.max() == 1 and (count[valid] == 1).all()
    cells = inference.plan_cells(valid, tile, 16)
    assert len(cells) == -(-150 // tile) * -(-170 // tile)
    if tile == 256:  # one cell: shrunk and split, so fewer pixels than the whole window are computed
        assert sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in tiles) < 150 * 170


@pytest.mark.parametrize("location", [False, True])
def test_shrinking_layers_give_the_forward_numbers(location):
    torch.manual_seed(1)
    net = DownscaleCNN(in_channels=3, features=8, groups=3, location_shape=(90, 80) if location else None).eval()
    if location:
        torch.nn.init.normal_(net.location)
    card = _card(net)
    rng = np.random.default_rng(2)
    x = (rng.normal(0, 10, (3, 90, 80)) + np.array([250, 200, 0])[:, None, None]).astype(np.float32)
    x[:2, ~_coast(90, 80, 3)] = np.nan
    whole = inference.predict_tiled(net, card, x, tile=512, device="cpu", shrink=False, origin=(0, 0))
    for tile in (24, 64):
        new = inference.predict_tiled(net, card, x, tile=tile, device="cpu", origin=(0, 0))
        assert np.array_equal(np.isnan(new), np.isnan(whole))
        assert np.nanmax(np.abs(new - whole)) < 1e-3  # K: float rounding of different tile extents
    bf = inference.predict_tiled(net, card, x, tile=64, device="cpu", bf16=True, origin=(0, 0))
    assert np.nanmax(np.abs(bf - whole)) < 0.5


def test_scale_report_renders_every_section():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import scale

    area = {"area": "globe", "grid": [1624, 3856], "valid_px": 1_750_000, "seconds": 60.0, "ideal_seconds": 8.0,
            "time_over_ideal": 7.5, "others": 1.0, "rss_peak_mb": 900.0}
    tr = {"try": "adaptive", "threads": 2, "tiles": 10, "executed_px": 2, "valid_px": 1, "seconds": 1.0,
          "gflop_s_executed": 100.0, "fraction_of_bf16_ceiling": 0.3, "time_over_ideal": 6.0, "others": 1.2}
    res = {"ceiling": {"fp32": 300.0, "bf16": 1500.0}, "other_processes_cores_busy": [1.0, 1.5], "area": [area],
           "bf16_vs_fp32_max_abs_K_continent": 0.15, "bf16_vs_fp32_rms_K_continent": 0.02,
           "bf16_vs_fp32_p999_K_continent": 0.1, "tries": [tr],
           "archive": [{"workers": 1, "products": 6, "seconds": 60.0, "products_per_hour": 360.0, "others": 1.0},
                       {"workers": 2, "products": 6, "seconds": 40.0, "products_per_hour": 540.0, "others": 1.0}],
           "archive_scaling_efficiency": 0.75,
           "ddp": [{"processes": 1, "epoch_seconds": 4.0, "patches_per_s": 16.0, "others": 1.0},
                   {"processes": 2, "epoch_seconds": 3.0, "patches_per_s": 21.3, "others": 1.0}],
           "ddp_scaling_efficiency": 0.67}
    text = scale.report(res)
    for part in ("| globe (1624 x 3856 px, peak RSS 900 MB) | 1,750,000 | 60.00 s", "scaling efficiency 2 vs 1 "
                 "workers: 0.75", "2 process(es)", "rms 0.0200 K"):
        assert part in text
