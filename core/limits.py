"""Memory estimates made before allocating, so a request that cannot fit is refused with the estimate in the
message instead of dying in an allocation traceback (or swapping the machine) halfway through.

The figures are approximate and err on the high side; they were calibrated on this project's own code:
``simulate`` keeps ≈ 6.8 kB per 36 km cell and day (the 1 km LST dominates) plus ≈ 13.5 kB of static fields
per cell, and its working arrays on the fine grid take ≈ 0.46 MB per cell while a day is simulated
(measured as the growth of the peak resident memory from a 4 × 4 to an 8 × 8-cell region).
"""

from __future__ import annotations

import os

from .errors import InputError

SIM_BYTES_PER_CELL_DAY = 6_900
SIM_STATIC_BYTES_PER_CELL = 13_600
SIM_WORK_BYTES_PER_CELL = 470_000
#: a request may use at most this share of the memory available when it starts
USABLE_SHARE = 0.6


def available_bytes() -> int:
    """Memory available to a new allocation now (Linux MemAvailable; else physical memory), in bytes."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def gib(n: float) -> str:
    """Bytes as '12.3 GB' (GiB) for messages."""
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def check_fits(estimate: float, what: str, advice: str, available: int | None = None) -> None:
    """InputError with the estimate when ``estimate`` bytes exceed :data:`USABLE_SHARE` of the memory available.

    ``what`` names the request (with its parameters), ``advice`` says how to make it smaller."""
    avail = available_bytes() if available is None else available
    if estimate > USABLE_SHARE * avail:
        raise InputError(f"{what} would need about {gib(estimate)} of memory, more than this machine can give "
                         f"({gib(avail)} available); {advice}")


def simulate_bytes(cells36: int, days: int) -> int:
    """Approximate peak memory (bytes) of ``core.simulate.simulate_region`` over ``cells36`` 36 km cells and
    ``days`` days (the series kept in memory plus the working arrays of one day)."""
    return int(cells36 * (days * SIM_BYTES_PER_CELL_DAY + SIM_STATIC_BYTES_PER_CELL + SIM_WORK_BYTES_PER_CELL))


def check_simulate(rows36: int, cols36: int, days: int, available: int | None = None) -> int:
    """Refuse a simulation that cannot fit (EXTENT / DAYS named in the message); returns the estimate."""
    est = simulate_bytes(rows36 * cols36, days)
    check_fits(est, f"Simulating {rows36} x {cols36} cells of 36 km for {days} days (EXTENT, DAYS)",
               "choose a smaller EXTENT or fewer DAYS", available)
    return est


def train_bytes(features: int, patch: int, batch: int = 16, in_channels: int = 2, out_channels: int = 2,
                groups: int = 7, data_bytes: int = 0) -> int:
    """Approximate peak memory (bytes) of training a DownscaleCNN: weights with their gradients and Adam's two
    moments (4 copies), activations kept for the backward pass (≈ 4 tensors of 2·features channels per group
    per patch pixel), and ``data_bytes`` of training arrays."""
    f = int(features)
    params = 0
    cin = in_channels
    for _ in range(groups):  # a 3x3 and a dilated 3x3 convolution side by side, each cin -> f
        params += 2 * (cin * f * 9 + f)
        cin = 2 * f
    params += cin * out_channels * 9 + out_channels
    weights = 4 * params * 4
    activations = batch * patch * patch * groups * 2 * f * 4 * 4
    return int(weights + activations + data_bytes)


def check_train(features: int, patch: int, batch: int = 16, in_channels: int = 2, out_channels: int = 2,
                groups: int = 7, data_bytes: int = 0, available: int | None = None) -> int:
    """Refuse a training that cannot fit (FEATURES / PATCH named in the message); returns the estimate."""
    est = train_bytes(features, patch, batch, in_channels, out_channels, groups, data_bytes)
    check_fits(est, f"Training with FEATURES={features} and PATCH={patch} (batches of {batch})",
               "lower FEATURES (64 in the poster) or PATCH", available)
    return est
