"""Named simulated regions: windows on the 36 km grid with a climate and a kind of open water.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..grid import Grid


@dataclass(frozen=True)
class RegionSpec:
    """A named default region: a window on M36, its climate and its kind of open water."""

    name: str
    grid: Grid
    climate: str
    water: str
    description: str


def _window(row: int, col: int, size: int) -> Grid:
    """A size x size M36 window whose cell (size // 2, size // 2) is global cell (row, col)."""
    h = size // 2
    return Grid("M36", row - h, col - h, size, size)


# Cells computed from the lon/lat given (EPSG:4326 -> EPSG:6933 -> M36 row/col).
CLIMATE_REGIONS: dict[str, RegionSpec] = {
    "oklahoma": RegionSpec("oklahoma", _window(81, 220, 4), "temperate", "lakes",
                           "Southern Great Plains grassland and cropland with reservoirs (36.6 N 97.5 W)"),
    "iowa": RegionSpec("iowa", _window(66, 231, 4), "continental", "lakes",
                       "Corn Belt cropland (42.0 N 93.4 W)"),
    "georgia": RegionSpec("georgia", _window(96, 258, 4), "humid", "lakes",
                          "south-eastern US forest and cropland mosaic (31.6 N 83.5 W)"),
    "arizona": RegionSpec("arizona", _window(96, 187, 4), "arid", "none",
                          "semi-arid shrubland and bare soil with irrigated fields (31.7 N 110.0 W)"),
    "chesapeake": RegionSpec("chesapeake", _window(77, 277, 4), "temperate", "coast",
                             "Chesapeake Bay: coast, estuaries and lakes (38.3 N 76.3 W)"),
    "kenaston": RegionSpec("kenaston", _window(44, 197, 4), "continental", "lakes",
                           "Canadian prairie cropland with pothole lakes (51.4 N 106.4 W)"),
}


def default_region() -> Grid:
    """3 x 3 M36 cells (108 km) around 36.6 N 97.5 W, Oklahoma grassland and cropland."""
    return _window(81, 220, 3)
