"""The dynamic state: soil-moisture anomalies (multi-scale, AR(1) in time), rain cells and dry-down, and
the day's temperatures (seasonal, synoptic, diurnal shape at the overpass times; lakes and sea).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .fields import _grf, _soft_bound
from .landscape import SM_MIN, Climate, _Context, _Geometry, _Static

# diurnal shape: T(hour) = daily mean + amplitude/2 * d(hour)
_DIURNAL_SHAPE = {"06:00": -1.0, "10:30": 0.7, "13:30": 1.0, "18:00": 0.15, "22:30": -0.55}

# --- dynamic state --------------------------------------------------------------------------------------
_ANOMALY_SCALES = ((12.0, 0.4), (40.0, 0.6), (100.0, 0.6))  # (correlation length km, weight)
_ANOMALY_TAU_DAYS = 10.0


@dataclass
class _State:
    anomaly: list[np.ndarray]
    store: np.ndarray  # rain store (m3/m3)
    synoptic: float  # regional temperature anomaly (K)
    rained: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def _anomaly_weights(clim: Climate) -> list[float]:
    w = np.array([s[1] for s in _ANOMALY_SCALES])
    return list(clim.anomaly_std * w / math.sqrt(float((w ** 2).sum())))


def _step_moisture(rng: np.random.Generator, st: _State, geo: _Geometry, sta: _Static, clim: Climate
                   ) -> np.ndarray:
    """Advance anomalies and rain store by one day; returns the day's soil moisture (fine, padded)."""
    shape, dx = geo.fine_shape, geo.dx
    rho = math.exp(-1.0 / _ANOMALY_TAU_DAYS)
    for i, (length, _) in enumerate(_ANOMALY_SCALES):
        st.anomaly[i] = rho * st.anomaly[i] + math.sqrt(1.0 - rho ** 2) * _grf(rng, shape, dx, length, 0.5)
    anom = sum(w * a for w, a in zip(_anomaly_weights(clim), st.anomaly, strict=True))
    st.store = st.store * np.exp(-1.0 / sta.drydown)
    rained = np.zeros(shape)
    if rng.random() < clim.rain_prob:
        length = float(rng.integers(15, 41))
        r = _grf(rng, shape, dx, length, 0.5) + 0.5 * _grf(rng, shape, dx, 100.0, 1.0)
        thr = np.quantile(r, 1.0 - rng.uniform(0.2, 0.9))
        amount = rng.uniform(*clim.rain_amount)
        rained = np.where(r > thr, amount * (1.0 - np.exp(-(r - thr) / 0.7)), 0.0)
        st.store = st.store + rained
    base = sta.sm_clim + anom
    st.store = np.clip(np.minimum(st.store, sta.porosity + 0.03 - base), 0.0, None)
    st.rained = rained
    return _soft_bound(base + st.store, SM_MIN, sta.porosity)


# --- the simulator ------------------------------------------------------------------------------------------
def _season(doy: int, lat: float, lag: float = 0.0) -> float:
    """Seasonal temperature shape, +1 in mid-July (north) / mid-January (south), damped in the tropics."""
    s = math.cos(2.0 * math.pi * (doy - 200.0 - lag) / 365.25) * (1.0 if lat >= 0 else -1.0)
    return s * min(1.0, abs(lat) / 25.0)


@dataclass
class _Temperatures:
    """A day's temperatures: land (fine, padded) as a function of the hour, lake and sea scalars."""

    mean: np.ndarray
    amplitude: np.ndarray
    lake: float
    sea: float

    def land(self, hour: str) -> np.ndarray:
        return self.mean + 0.5 * self.amplitude * _DIURNAL_SHAPE[hour]

    def water(self, hour: str) -> tuple[float, float]:
        """(lake, sea) temperatures: 1 K diurnal range."""
        d = 0.5 * _DIURNAL_SHAPE[hour]
        return self.lake + d, self.sea + d


def _temperatures(rng: np.random.Generator, ctx: _Context, st: _State, sm: np.ndarray, doy: int
                  ) -> _Temperatures:
    geo, sta, clim = ctx.geo, ctx.sta, ctx.clim
    st.synoptic = 0.7 * st.synoptic + math.sqrt(1.0 - 0.49) * rng.normal(0.0, clim.t_synoptic)
    season = _season(doy, geo.lat)
    t_air = clim.t_mean + clim.t_season * season + st.synoptic + 0.7 * _grf(rng, geo.fine_shape, geo.dx,
                                                                              150.0, 1.5)
    wet = np.clip((sm - SM_MIN) / (sta.porosity - SM_MIN), 0.0, 1.0)
    mean = t_air + 1.5 + sta.t_offset - 3.0 * (wet - 0.5)  # skin warmer than air; wet soil cooler
    amp = clim.t_diurnal * sta.diurnal * (1.0 - 0.6 * wet) * (0.8 + 0.2 * season)
    lake = clim.t_mean + clim.t_season * _season(doy, geo.lat, 30.0) + 0.3 * st.synoptic
    sea = clim.t_mean + 2.0 + 0.6 * clim.t_season * _season(doy, geo.lat, 45.0)
    return _Temperatures(mean, amp, lake, sea)
