"""Physical ranges of every quantity smapdown reads, and the one check applied wherever a field enters.

A value outside its quantity's physical range is not a measurement (a fill value the file does not declare,
the wrong units, a scale factor not applied, bands in the wrong order): it becomes no data and is counted.
A field whose valid values lie MOSTLY outside the range is not that quantity at all and is refused by name,
so a GeoTIFF of TB in Celsius or of soil moisture in percent never yields a plausible-looking map.

The readers of SMAP HDF5 (:mod:`core.smap`), MODIS / LST rasters (:mod:`core.modis`) and EASE2 GeoTIFFs
(:mod:`core.inputs`, through :func:`check_field`) all use :data:`RANGES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class Range:
    """The physical range [lo, hi] of one quantity, in ``units``."""

    quantity: str
    lo: float
    hi: float
    units: str
    why: str = ""

    @property
    def span(self) -> float:
        """hi − lo (for plausibility tests of model normalisation)."""
        return self.hi - self.lo

    def text(self) -> str:
        """'50–350 K' for messages."""
        return f"{self.lo:g}–{self.hi:g} {self.units}".strip()


#: quantity -> range. TB: below calm water at 40° H polarisation (≈ 70 K) there is no L-band scene, above
#: 350 K no land surface; soil moisture: 0 to above any soil's porosity (SMAP's own valid_max is 0.5);
#: temperatures: 200 K (polar winter land) to 350 K (hottest deserts); σ0: radar backscatter in dB;
#: fractions 0–1; vegetation water content up to dense tropical forest; counts non-negative.
RANGES: dict[str, Range] = {
    "tb": Range("brightness temperature", 50.0, 350.0, "K", "no L-band scene is colder than calm water "
                "(≈ 70 K, H pol.) or hotter than 350 K"),
    "soil_moisture": Range("volumetric soil moisture", 0.0, 0.6, "m3/m3", "no soil holds more water than its "
                           "porosity (SMAP's valid maximum is 0.5)"),
    "temperature": Range("temperature", 200.0, 350.0, "K", "land surfaces range from polar winter to the "
                         "hottest deserts"),
    "sigma0": Range("radar backscatter σ0", -50.0, 20.0, "dB", "L-band σ0 of land in decibels"),
    "fraction": Range("fraction", 0.0, 1.0, "1", "a fraction of an area"),
    "vegetation_water_content": Range("vegetation water content", 0.0, 30.0, "kg/m2",
                                      "dense tropical forest holds about 20 kg/m²"),
    "count": Range("count", 0.0, math.inf, "1", "a number of cells"),
}

#: role (core.scene.ROLES, static_* bands, model input names) -> quantity
ROLE_QUANTITY: dict[str, str] = {
    "tb_v": "tb", "tb_h": "tb", "tb_v_uncorrected": "tb", "tb_h_uncorrected": "tb",
    "soil_moisture": "soil_moisture",
    "lst": "temperature", "surface_temperature": "temperature",
    "sigma0_vv": "sigma0",
    "water_fraction": "fraction",
    "vegetation_water_content": "vegetation_water_content",
    "count": "count",
}

#: a field is refused when more than this share of its valid values lies outside the range
MOSTLY_OUT = 0.5


def quantity_of(name: str | None, units: str = "") -> str | None:
    """The quantity (a key of :data:`RANGES`) a role, band or variable name stands for; None if unknown.

    Knows roles (``tb_v``), model input names (``soil_moisture_36km``), static bands (``static_clay``) and
    SMAP variable names (``tb_v_corrected``, ``soil_moisture_3km``, ``sigma0_vv_aggregated``)."""
    n = (name or "").strip().lower()
    if not n:
        return None
    if n.endswith("_36km"):
        n = n[:-len("_36km")]
    if n in ROLE_QUANTITY:
        return ROLE_QUANTITY[n]
    if n.startswith("static_") or "fraction" in n:
        return "fraction"
    if n.endswith("_std"):
        return None  # a spread, not the quantity itself
    for key, q in (("tb_v", "tb"), ("tb_h", "tb"), ("brightness", "tb"), ("soil_moisture", "soil_moisture"),
                   ("sigma0", "sigma0"), ("vegetation_water", "vegetation_water_content"), ("lst", "temperature"),
                   ("temperature", "temperature")):
        if key in n:
            return q
    return None


def range_of(role: str | None) -> Range | None:
    """The physical range of a role / band name, or None when its quantity is unknown."""
    q = quantity_of(role)
    return RANGES.get(q) if q else None


@dataclass
class RangeCheck:
    """What :func:`check_field` did: how many values were valid before, and how many it set to no data."""

    role: str
    valid: int
    out_of_range: int

    @property
    def share(self) -> float:
        """Fraction of the valid values that lay outside the range."""
        return self.out_of_range / self.valid if self.valid else 0.0


def out_of_range(values: np.ndarray, role: str | None) -> np.ndarray:
    """Boolean mask of finite values outside ``role``'s physical range (all False for unknown roles)."""
    rng = range_of(role)
    a = np.asarray(values)
    if rng is None:
        return np.zeros(a.shape, bool)
    with np.errstate(invalid="ignore"):
        return np.isfinite(a) & ((a < rng.lo) | (a > rng.hi))


def refuse_message(where: str, role: str, valid: int, bad: int, example: float | None = None) -> str:
    """The sentence of a refusal: the file/band, the share out of range, the range and what to check."""
    rng = range_of(role)
    assert rng is not None
    ex = f" (e.g. {example:.6g})" if example is not None and math.isfinite(example) else ""
    return (f"{where}: {100.0 * bad / max(valid, 1):.0f} % of its {valid} valid {role} values lie outside the "
            f"physical range of {rng.quantity}, {rng.text()}{ex}; it does not hold {role} in {rng.units} "
            "(wrong band, units or scale factor?)")


def check_field(values: np.ndarray, role: str | None, where: str, refuse: bool = True
                ) -> tuple[np.ndarray, RangeCheck]:
    """``values`` (a float array, NaN = no data) with out-of-range values set to NaN, and the counts.

    ``where`` names the file and band for the message. With ``refuse`` a field whose valid values lie
    mostly (more than :data:`MOSTLY_OUT`) outside the range raises :class:`InputError` naming it.
    Unknown roles pass unchanged. The input array is not modified.
    """
    a = np.asarray(values)
    valid = int(np.count_nonzero(np.isfinite(a))) if a.dtype.kind == "f" else int(a.size)
    bad = out_of_range(a, role)
    n = int(np.count_nonzero(bad))
    check = RangeCheck(role or "", valid, n)
    if n == 0:
        return a, check
    if refuse and valid and n > MOSTLY_OUT * valid:
        raise InputError(refuse_message(where, role or "", valid, n, float(a[bad].flat[0])))
    out = a.astype(np.float32, copy=True)
    out[bad] = np.nan
    return out, check


def plausible_normalisation(name: str, mean: float, std: float) -> str | None:
    """Why a model card's normalisation (physical = normalised · std + mean) of band ``name`` is not
    plausible, or None when it is. Finite, positive std; for a known quantity the mean lies within one
    range-width of the physical range (a residual's mean is ≈ 0) and the std is between a millionth and
    twice the range's width; for unknown bands both are below 10⁴ in magnitude."""
    if not (math.isfinite(mean) and math.isfinite(std)) or std <= 0:
        return f"mean {mean!r} / std {std!r} must be finite with std > 0"
    rng = range_of(name)
    if rng is None or not math.isfinite(rng.span):
        if abs(mean) > 1e4 or std > 1e4:
            return f"mean {mean:.6g} and std {std:.6g} exceed 10^4 in magnitude"
        return None
    span = rng.span
    if not rng.lo - span <= mean <= rng.hi + span:
        return f"mean {mean:.6g} is far outside the physical range of {rng.quantity} ({rng.text()})"
    if not span * 1e-6 <= std <= 2 * span:
        return f"std {std:.6g} is implausible for {rng.quantity} (range {rng.text()})"
    return None
