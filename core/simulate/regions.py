"""Named simulated regions: windows on the 36 km grid with a climate and a kind of open water.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..grid import Grid, ease_srs, transform_points, wgs84_srs


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


# The world regions of the truth-trained general TB models (scripts/train_bundled.py tb-truth) and of the
# validations (scripts/validate.py): places over every continent, with the simulator's four climate
# parameter sets (arid, temperate, humid, continental) and three kinds of open water; the place sets latitude
# (season, day length of the swath pattern). (name, lat, lon, climate, water, seed).
WORLD_TRAIN = [
    ("oklahoma", 36.6, -97.5, "temperate", "lakes", 101), ("iowa", 42.0, -93.4, "continental", "lakes", 102),
    ("georgia", 31.6, -83.5, "humid", "lakes", 103), ("arizona", 31.7, -110.0, "arid", "none", 104),
    ("chesapeake", 38.3, -76.3, "temperate", "coast", 105), ("nebraska", 41.5, -99.5, "continental", "lakes", 106),
    ("west-texas", 32.0, -102.0, "arid", "none", 107), ("minnesota", 46.5, -94.5, "continental", "lakes", 108),
    ("florida", 28.0, -81.5, "humid", "coast", 109), ("pampas", -35.0, -61.0, "temperate", "lakes", 110),
    ("cerrado", -15.0, -47.0, "humid", "none", 111), ("patagonia", -45.0, -69.0, "arid", "none", 112),
    ("chaco", -23.0, -61.0, "humid", "lakes", 113), ("uruguay-coast", -34.5, -54.5, "temperate", "coast", 114),
    ("spain-meseta", 40.0, -4.0, "arid", "none", 115), ("germany", 51.0, 10.0, "temperate", "lakes", 116),
    ("poland", 52.0, 20.0, "continental", "lakes", 117), ("ukraine", 49.0, 33.0, "continental", "none", 118),
    ("netherlands-coast", 52.5, 5.0, "temperate", "coast", 119), ("finland", 62.0, 26.0, "continental", "lakes", 120),
    ("po-valley", 45.0, 10.0, "temperate", "lakes", 121), ("sahel", 14.0, 0.0, "arid", "none", 122),
    ("zambia", -14.0, 27.0, "humid", "lakes", 123), ("highveld", -27.0, 28.0, "temperate", "none", 124),
    ("morocco-coast", 33.0, -7.5, "arid", "coast", 125), ("ethiopia", 9.0, 39.0, "temperate", "none", 126),
    ("nigeria", 9.0, 8.0, "humid", "none", 127), ("mozambique-coast", -20.0, 35.0, "humid", "coast", 128),
    ("north-china-plain", 36.0, 116.0, "temperate", "lakes", 129), ("deccan", 18.0, 77.0, "arid", "none", 130),
    ("mongolia", 47.0, 105.0, "arid", "lakes", 131), ("kazakhstan", 50.0, 70.0, "continental", "lakes", 132),
    ("bangladesh", 23.0, 90.0, "humid", "coast", 133), ("mekong", 13.0, 105.0, "humid", "lakes", 134),
    ("west-siberia", 55.0, 80.0, "continental", "lakes", 135), ("tibet", 33.0, 90.0, "arid", "lakes", 136),
    ("iran", 33.0, 54.0, "arid", "none", 137), ("korea-coast", 36.0, 126.8, "temperate", "coast", 138),
    ("punjab", 30.0, 75.0, "arid", "none", 139), ("queensland", -25.0, 150.0, "temperate", "none", 140),
    ("perth-coast", -32.0, 116.0, "temperate", "coast", 141), ("manchuria", 46.0, 126.0, "continental", "lakes", 142),
    ("new-zealand-coast", -44.0, 171.5, "temperate", "coast", 143), ("borneo-coast", 1.0, 110.5, "humid", "coast", 144),
]
# never used in training: six places of distinct climate and water, other seeds
WORLD_TEST = [
    ("kenaston", 51.4, -106.4, "continental", "lakes", 201), ("carolina-coast", 34.6, -77.3, "humid", "coast", 202),
    ("yanco", -34.8, 146.1, "arid", "none", 203), ("valencia-coast", 39.4, -0.5, "temperate", "coast", 204),
    ("amazonas", -3.0, -60.0, "humid", "lakes", 205), ("hungary", 47.0, 19.5, "continental", "none", 206),
]


def world_spec(entry: tuple, size: int = 8) -> tuple:
    """(name, lat, lon, climate, water, seed) → (name, row, col, size, climate, water, seed): the M36 cell
    holding the place (EPSG:4326 → EPSG:6933) as the centre of a size × size window."""
    name, lat, lon, climate, water, seed = entry
    x, y = transform_points([lon], [lat], wgs84_srs(), ease_srs())
    r, c = Grid.global_grid("M36").rowcol(x, y)
    return (name, int(np.asarray(r).ravel()[0]), int(np.asarray(c).ravel()[0]), size, climate, water, seed)


def region_grid(spec: tuple) -> Grid:
    """The M36 window of a region spec (name, row, col, size, ...): size × size cells around (row, col)."""
    _, row, col, size = spec[:4]
    return Grid("M36", row - size // 2, col - size // 2, size, size)
