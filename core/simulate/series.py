"""What the simulator returns: one simulated day (:class:`SimulatedDay`) and a region's series with its
static fields and provenance (:class:`SimulatedSeries`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..grid import Grid


# --- results ------------------------------------------------------------------------------------------
@dataclass
class SimulatedDay:
    """One simulated day. Grids: 36 km arrays on ``series.grid36``, 9 km on ``grid9``, 3 km on ``grid3``,
    LST on ``series.lst_grid`` (M01, or M03 for very large regions). NaN = no data. float32."""

    date: dt.date
    tb36_v: np.ndarray  # AM (6 AM) pass, footprint-convolved + NEDT, swath gaps NaN
    tb36_h: np.ndarray
    tb9_true_v: np.ndarray  # water-corrected truth: mean TB of the land part of each 9 km cell (AM), no noise,
    tb9_true_h: np.ndarray  # NaN where water covers more than half the cell
    tb9_radar_v: np.ndarray  # radar-guided (active-passive) 9 km TB, the case-1 training target
    tb9_radar_h: np.ndarray
    sigma0_9: np.ndarray  # σ⁰_VV at 9 km (dB), NaN where the AM pass is missing or water > 0.5
    sm9: np.ndarray  # true land-mean soil moisture of 9 km cells (NaN where water > 0.5)
    sm3: np.ndarray  # SPL2SMAP_S-like 3 km soil moisture: truth + correlated errors on Sentinel-1 days, else NaN
    sm3_true: np.ndarray  # true land-mean soil moisture of 3 km cells (NaN where water > 0.5)
    lst1: np.ndarray  # MODIS-like daytime (10:30) LST in K, NaN under clouds
    surface_temperature36: np.ndarray  # 6 AM effective surface temperature of the 36 km cell (K)
    tb36_v_pm: np.ndarray  # PM (6 PM) pass
    tb36_h_pm: np.ndarray
    surface_temperature36_pm: np.ndarray
    sm36: np.ndarray  # true land-mean soil moisture of 36 km cells (NaN where water > 0.5)
    sigma0_hv_9: np.ndarray  # σ⁰_HV at 9 km (dB), same cells as sigma0_9
    gamma36: np.ndarray  # Das heterogeneity parameter Γ (σ_VV on σ_HV) of the day per 36 km cell (dB/dB)
    # the 36 km soil-moisture retrieval (SCA-V from tb36_v with erroneous ancillary data) and its ancillary
    sm36_retrieved: np.ndarray = field(default_factory=lambda: np.empty(0))
    sm36_retrieved_pm: np.ndarray = field(default_factory=lambda: np.empty(0))
    ts36_ancillary: np.ndarray = field(default_factory=lambda: np.empty(0))
    ts36_ancillary_pm: np.ndarray = field(default_factory=lambda: np.empty(0))
    vwc36_ancillary: np.ndarray = field(default_factory=lambda: np.empty(0))
    # before the water-body correction: tb36_* and tb36_*_pm above are water-corrected as SPL2SMP's
    # tb_*_corrected (in retrieval.water_corrected_tb); tb9_true_*_uncorrected is the area mean of the whole
    # 9 km cell, water included
    tb36_v_uncorrected: np.ndarray = field(default_factory=lambda: np.empty(0))
    tb36_h_uncorrected: np.ndarray = field(default_factory=lambda: np.empty(0))
    tb36_v_pm_uncorrected: np.ndarray = field(default_factory=lambda: np.empty(0))
    tb36_h_pm_uncorrected: np.ndarray = field(default_factory=lambda: np.empty(0))
    tb9_true_v_uncorrected: np.ndarray = field(default_factory=lambda: np.empty(0))
    tb9_true_h_uncorrected: np.ndarray = field(default_factory=lambda: np.empty(0))
    # σ⁰_HH at 9 km (dB), same cells as sigma0_9, and Γ of σ_HH on σ_HV: the active–passive TB_H uses them
    sigma0_hh_9: np.ndarray = field(default_factory=lambda: np.empty(0))
    gamma36_hh: np.ndarray = field(default_factory=lambda: np.empty(0))


@dataclass
class SimulatedSeries:
    """A simulated region over consecutive days, its static fields and provenance.

    ``static`` holds: land_cover (uint8 codes of LAND_COVER), water_fraction, vwc, clay, sand, porosity,
    roughness_h, rms_height_cm, sm_climatology on the fine grid; water_fraction3 (M03); water_fraction9,
    vwc9 (M09); water_fraction36, vwc36 (M36); water_fraction1 (M01, when LST is on M01); beta_v, beta_h
    (M36, K/dB, estimated from the whole series).
    """

    grid36: Grid
    grid9: Grid
    grid3: Grid
    grid1: Grid | None
    days: list[SimulatedDay]
    static: dict[str, np.ndarray]
    seed: int
    climate: str
    attrs: dict[str, str]
    fine: str = "M03"
    water: str = "lakes"

    @property
    def grid_fine(self) -> Grid:
        """The grid of the fine truth fields (M03 or M01)."""
        return self.grid36.refine(self.fine)

    @property
    def lst_grid(self) -> Grid:
        """The grid of ``SimulatedDay.lst1``: M01, or M03 when the region is too large."""
        return self.grid1 if self.grid1 is not None else self.grid3
