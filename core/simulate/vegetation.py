"""Vegetation per land-cover class: the tau–omega parameters (VWC, roughness h, b, single-scattering
albedo ω, after the SMAP L2_SM_P ATBD's class tables, rounded) and the canopy backscatter of the
water-cloud model.
"""

from __future__ import annotations

import numpy as np

# per land class (bare, grass, crop, forest, urban): VWC kg/m2 (temperate), roughness h, b, omega,
# canopy VV backscatter at full cover (dB)
_VWC = np.array([0.15, 1.2, 2.5, 9.0, 0.4])
_H = np.array([0.150, 0.156, 0.108, 0.160, 0.150])
_B = np.array([0.10, 0.10, 0.11, 0.10, 0.10])
_OMEGA = np.array([0.00, 0.05, 0.05, 0.07, 0.03])
_CANOPY_DB = np.array([-25.0, -17.0, -14.0, -10.0, -14.0])
_CANOPY_HV_DB = -7.0  # canopy HV relative to its VV
# strength S of the soil-stem double bounce (radar.double_bounce) per class: none without stems (bare,
# urban), little for grass, crops' stalks, tree trunks most (order of magnitude; no measured anchor here)
_DOUBLE_BOUNCE = np.array([0.0, 0.05, 0.5, 2.0, 0.0])
