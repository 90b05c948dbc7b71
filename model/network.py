"""The poster's downscaling CNN and the choice of device it runs on.

Architecture (one sentence of the poster per line):

* 7 groups of layers; each layer has 64 3x3 kernels and 64 dilated "5x5" kernels (3x3 taps, dilation 2,
  so a 5x5 footprint) applied in parallel to the same input, concatenated (128 channels) and ReLU'd;
* the output of the last group is convolved with one 3x3 kernel per output band (V and H polarisation);
* a residual connection adds the input bands to the output, so the net learns the fine-scale detail
  that bicubic upsampling of the 36 km brightness temperature misses.

With the defaults that is 890 242 parameters and ~1.78 MFLOP per output pixel.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch
from torch import nn

from ..core.errors import InputError


class DualConv(nn.Module):
    """One layer: a 3x3 conv and a dilated 3x3 conv in parallel, concatenated, then ReLU.

    Both branches keep the spatial size (zero padding 1 and ``dilation``), so the layer maps
    (N, C_in, H, W) to (N, 2*features, H, W).
    """

    def __init__(self, in_channels: int, features: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, features, 3, padding=1)
        self.dilated = nn.Conv2d(in_channels, features, 3, padding=dilation, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, H, W) -> (N, 2*features, H, W)."""
        return torch.relu(torch.cat([self.conv(x), self.dilated(x)], dim=1))


class DownscaleCNN(nn.Module):
    """The poster's CNN: ``groups`` x ``layers_per_group`` dual-conv layers, a 3x3 output conv, a residual.

    Args:
        in_channels: input bands (case 1: the bicubically upsampled 36 km TB V and H, optionally followed
            by auxiliary fine-grid bands; case 2: TB V, TB H, LST and optional static bands).
        out_channels: output bands (case 1: 2, fine-grid TB V and H; case 2: 1, soil moisture).
        features: kernels per branch per layer (the poster: 64, so 128 channels after concatenation).
        groups: groups of layers (the poster: 7).
        layers_per_group: layers in each group (the poster: 1).
        dilation: dilation of the second branch (2: a 5x5 footprint from 3x3 taps).
        residual: add the first ``out_channels`` input bands to the output (needs
            in_channels >= out_channels).
        location_shape: (rows, cols) of a training region for a LOCATION-SPECIFIC model: a learned static
            map (one value per fine pixel and output band, normalised units) added to the output. It is
            the explicit form of what the poster's region-bound networks learn: the fixed sub-cell
            pattern of one place (land cover, water, soil) that 36 km TB alone cannot reveal. ``forward``
            then takes each sample's ``origin`` in that region; outside the region the map adds nothing.

    The network works on normalised NCHW tensors; see :mod:`smapdown.model.io` for the normalisation the
    model card carries and :func:`smapdown.model.inference.predict_tiled` for running it on rasters.
    """

    def __init__(
        self,
        *,
        in_channels: int = 2,
        out_channels: int = 2,
        features: int = 64,
        groups: int = 7,
        layers_per_group: int = 1,
        dilation: int = 2,
        residual: bool = True,
        location_shape: tuple[int, int] | list[int] | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("features", features), ("groups", groups),
                            ("layers_per_group", layers_per_group), ("dilation", dilation)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"DownscaleCNN: {name} must be a positive integer, got {value!r}.")
        if residual and in_channels < out_channels:
            raise InputError(
                f"DownscaleCNN: a residual network needs at least as many input bands as output bands "
                f"(got {in_channels} in, {out_channels} out).")
        self.config: dict = {
            "in_channels": in_channels, "out_channels": out_channels, "features": features,
            "groups": groups, "layers_per_group": layers_per_group, "dilation": dilation,
            "residual": bool(residual),
        }
        if location_shape is not None:
            if len(location_shape) != 2 or min(int(v) for v in location_shape) < 1:
                raise InputError(f"DownscaleCNN: location_shape must be (rows, cols), got {location_shape!r}.")
            self.config["location_shape"] = [int(v) for v in location_shape]
            self.location = nn.Parameter(torch.zeros(out_channels, *self.config["location_shape"]))
        else:
            self.location = None
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.residual = bool(residual)
        blocks = []
        channels = in_channels
        for _ in range(groups):
            layers = []
            for _ in range(layers_per_group):
                layers.append(DualConv(channels, features, dilation))
                channels = 2 * features
            blocks.append(nn.Sequential(*layers))
        self.body = nn.Sequential(*blocks)
        self.head = nn.Conv2d(channels, out_channels, 3, padding=1)

    @property
    def receptive_radius(self) -> int:
        """Pixels on each side that influence one output pixel (15 for the defaults).

        Each layer reaches ``max(1, dilation)`` pixels, the output conv one more. A tile computed with at
        least this many pixels of real neighbours around it equals the whole-image result.
        """
        c = self.config
        return c["groups"] * c["layers_per_group"] * max(1, c["dilation"]) + 1

    @property
    def macs_per_pixel(self) -> int:
        """Multiply-accumulates per output pixel (x2 for FLOPs: ~1.78 MFLOP for the defaults)."""
        return sum(m.weight.numel() for m in self.modules() if isinstance(m, nn.Conv2d))

    @contextlib.contextmanager
    def without_location(self) -> Iterator[None]:
        """Run as a plain (not location-specific) network inside the block, e.g. for flipped inputs."""
        saved = self.location
        self.location = None
        try:
            yield
        finally:
            self.location = saved

    def location_crop(self, origins: list[tuple[int, int]], rows: int, cols: int) -> torch.Tensor:
        """(N, out_channels, rows, cols) of the static map at each origin (zero outside the region)."""
        if self.location is None:
            raise InputError("this DownscaleCNN is a general model: it has no static map of a training region "
                             "to crop (only a location-specific model has one)")
        lr, lc = self.location.shape[1:]
        out = self.location.new_zeros((len(origins), self.out_channels, rows, cols))
        for i, (r0, c0) in enumerate(origins):
            a0, a1 = max(r0, 0), min(r0 + rows, lr)
            b0, b1 = max(c0, 0), min(c0 + cols, lc)
            if a1 > a0 and b1 > b0:
                out[i, :, a0 - r0:a1 - r0, b0 - c0:b1 - c0] = self.location[:, a0:a1, b0:b1]
        return out

    def forward(self, x: torch.Tensor, origin: tuple[int, int] | list[tuple[int, int]] | None = None
                ) -> torch.Tensor:
        """Map normalised inputs (N, in_channels, H, W) to normalised outputs (N, out_channels, H, W).

        With ``residual`` the output is ``head(body(x)) + x[:, :out_channels]``: the input bands must be
        normalised with the same statistics as the output bands (the model card does this). A
        location-specific model also adds its static map; ``origin`` is the (row, col) of ``x[..., 0, 0]``
        in the training region, one pair for the batch or one per sample.
        """
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise InputError(
                f"DownscaleCNN expects a (N, {self.in_channels}, H, W) tensor, got {tuple(x.shape)}.")
        y = self.head(self.body(x))
        if self.location is not None:
            if origin is None:
                raise InputError("a location-specific DownscaleCNN needs the origin of its input in the region")
            origins = [tuple(origin)] * x.shape[0] if isinstance(origin[0], int) else list(origin)
            if len(origins) != x.shape[0]:
                raise InputError(f"a location-specific DownscaleCNN needs one origin for the batch or one per "
                                 f"sample: got {len(origins)} origins for {x.shape[0]} samples")
            y = y + self.location_crop(origins, x.shape[2], x.shape[3]).to(y.dtype)
        if self.residual:
            # add in the wider of the two dtypes: under bf16 autocast the skip stays exact in fp32
            skip = x[:, : self.out_channels]
            dtype = torch.promote_types(y.dtype, skip.dtype)
            y = y.to(dtype) + skip.to(dtype)
        return y


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The torch device for "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".

    Asking for CUDA on a machine without a usable CUDA build of torch is an :class:`InputError` with a
    sentence, not a silent fall-back to the CPU (users must know which device ran their job).
    """
    if isinstance(device, torch.device):
        name = str(device)
    else:
        name = str(device or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(
                f"Device '{name}' was requested but this torch ({torch.__version__}) sees no usable "
                "CUDA GPU; choose 'cpu' or 'auto', or install a CUDA build of torch matching the driver.")
        try:
            dev = torch.device(name)
        except RuntimeError as exc:
            raise InputError(f"Device '{name}' is not a valid torch device name: {exc}") from None
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(
                f"Device '{name}' was requested but only {torch.cuda.device_count()} CUDA device(s) exist.")
        return dev
    raise InputError(f"Unknown device '{device}': use 'auto', 'cpu', 'cuda' or 'cuda:N'.")


def use_all_cores() -> int:
    """Let torch use every core this process may run on (CPU runs); return the thread count.

    torch often defaults to the physical-core count; QGIS's Python may have set it lower.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    if torch.get_num_threads() < n:
        torch.set_num_threads(n)
    return torch.get_num_threads()
