"""The SMAP/Sentinel-1 3 km soil-moisture product (SPL2SMAP_S-like): only on Sentinel-1 days, with
spatially correlated retrieval errors.

Sentinel-1 images a place every 12 days per satellite, every 6 days with the 1A + 1B pair at the equator
(ESA Sentinel-1 user guide, "Revisit and coverage"; more often at high latitudes, which is left out here:
6 days everywhere is the conservative case). A simulated series starts on an acquisition day.

The retrieval error of the active–passive 3 km product is not white: it comes from the radar's vegetation
and roughness terms (β, Γ) that persist over a place, from the day's vegetation and speckle, and from the
36 km radiometer retrieval it is anchored to. Modelled as white noise per 3 km cell and acquisition, plus a
persistent field correlated over 10 km, plus a daily field correlated over 20 km. The total, about
0.04 m³/m³, is the SMAP mission's accuracy requirement (ubRMSE ≤ 0.04, Colliander et al. 2022, IEEE JSTARS);
real tests of the SMAP/Sentinel-1 algorithms found 0.056–0.067 m³/m³ RMSE at 9 km (He et al. 2018, IEEE
TGRS 56(8)), so this is if anything optimistic. The split between the three parts is an assumption.
"""

from __future__ import annotations

import math

import numpy as np

from ..grid import GRIDS
from .fields import _grf
from .landscape import SM_MAX, SM_MIN
from .series import SimulatedDay

SENTINEL1_REVISIT_DAYS = 6  # Sentinel-1A + 1B exact repeat at the equator (ESA)
SM3_WHITE = 0.025  # m3/m3, per 3 km cell and acquisition
SM3_PERSISTENT = 0.02  # m3/m3, static over the series, correlated over SM3_PERSISTENT_KM
SM3_PERSISTENT_KM = 10.0
SM3_DAILY = 0.02  # m3/m3, new each acquisition, correlated over SM3_DAILY_KM
SM3_DAILY_KM = 20.0
SM3_ERROR = math.sqrt(SM3_WHITE ** 2 + SM3_PERSISTENT ** 2 + SM3_DAILY ** 2)  # total std, m3/m3


def sentinel1_day(index: int) -> bool:
    """Whether day ``index`` of a series (0 = its first day) has a Sentinel-1 acquisition."""
    return index % SENTINEL1_REVISIT_DAYS == 0


def _sentinel_retrievals(days: list[SimulatedDay], entropy: list[int]) -> None:
    """Turn each day's masked true 3 km soil moisture (``sm3``, NaN over water and frozen soil) into the
    product: retrieval errors on Sentinel-1 days, all NaN on the others (no product that day)."""
    shape = days[0].sm3.shape if days else (0, 0)
    dx = GRIDS["M03"][0] / 1000.0
    persistent = SM3_PERSISTENT * _grf(np.random.default_rng(np.random.SeedSequence(entropy + [3, 0])), shape, dx,
                                       SM3_PERSISTENT_KM, 1.0)
    for i, d in enumerate(days):
        if not sentinel1_day(i):
            d.sm3 = np.full(shape, np.nan)
            continue
        rng = np.random.default_rng(np.random.SeedSequence(entropy + [3, i + 1]))
        err = (rng.normal(0.0, SM3_WHITE, shape) + persistent + SM3_DAILY * _grf(rng, shape, dx, SM3_DAILY_KM, 1.0))
        d.sm3 = np.where(np.isfinite(d.sm3), np.clip(d.sm3 + err, SM_MIN, SM_MAX), np.nan)
