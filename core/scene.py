"""In-memory gridded data: variables on an EASE-Grid 2.0 window, as every reader returns them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .grid import Grid

# Roles give product-independent meaning to product-specific variable names.
ROLES = {
    "tb_v": ("K", "brightness temperature, V polarisation"),
    "tb_h": ("K", "brightness temperature, H polarisation"),
    "soil_moisture": ("m3/m3", "volumetric soil moisture"),
    "surface_temperature": ("K", "surface temperature"),
    "lst": ("K", "land surface temperature"),
    "sigma0_vv": ("dB", "radar backscatter, VV"),
    "water_fraction": ("1", "open water fraction"),
    "vegetation_water_content": ("kg/m2", "vegetation water content"),
    "count": ("1", "number of valid fine cells averaged"),
}


#: bands of a static ancillary raster for case 2 (M03): clay and sand fractions from a soil map, the
#: fractions of the land in each land-cover class from a land-cover map, and the open-water fraction
STATIC_BANDS = ("static_clay", "static_sand", "static_bare", "static_grassland", "static_cropland",
                "static_forest", "static_urban", "static_water")


@dataclass
class Variable:
    """One 2-D float32 field on the scene's grid; NaN marks no data."""

    name: str
    data: np.ndarray
    units: str = ""
    long_name: str = ""
    role: str | None = None
    source: str = ""  # where it came from, e.g. the HDF5 dataset path
    out_of_range: int = 0  # values outside the physical range (core.physical) that were set to no data


@dataclass
class Scene:
    """Variables of one product, date and pass on one grid window."""

    product: str
    grid: Grid
    variables: dict[str, Variable]
    path: str = ""
    date: dt.date | None = None
    pass_: str | None = None  # "AM", "PM", "A" (ascending), "D" (descending) or None
    attrs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for v in self.variables.values():
            if v.data.shape != self.grid.shape:
                raise InputError(f"{self.path or self.product}: variable {v.name} has {v.data.shape} pixels "
                                 f"(rows, cols) but the scene's {self.grid.name} grid window has "
                                 f"{self.grid.shape}")

    def by_role(self, role: str) -> Variable:
        """The variable playing ``role`` (e.g. 'tb_v'); InputError naming the file when absent."""
        for v in self.variables.values():
            if v.role == role:
                return v
        have = ", ".join(sorted(self.variables)) or "none"
        raise InputError(f"{self.path or self.product}: no {role} variable in this {self.product} "
                         f"scene (variables read: {have})")

    def has_role(self, role: str) -> bool:
        """Whether some variable plays ``role``."""
        return any(v.role == role for v in self.variables.values())

    @property
    def label(self) -> str:
        """A short human name: product, date and pass."""
        parts = [self.product]
        if self.date:
            parts.append(self.date.isoformat())
        if self.pass_:
            parts.append(self.pass_)
        return " ".join(parts)

    def out_of_range(self) -> dict[str, int]:
        """Values set to no data because they lay outside their physical range, per variable (non-zero only)."""
        return {k: v.out_of_range for k, v in self.variables.items() if v.out_of_range}

    def valid_fraction(self) -> float:
        """Fraction of cells where at least one variable is valid."""
        if not self.variables:
            return 0.0
        ok = np.zeros(self.grid.shape, bool)
        for v in self.variables.values():
            ok |= np.isfinite(v.data)
        return float(ok.mean())
