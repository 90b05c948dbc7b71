"""EASE-Grid 2.0 global grids (EPSG:6933) and windows on them.

The SMAP products live on the global cylindrical EASE-Grid 2.0 family. The four grids used here nest
exactly (36 km = 4 x 9 km = 12 x 3 km = 36 x 1 km) and share one upper-left outer corner, so a cell of
one grid maps onto an integer block of cells of a finer one. A :class:`Grid` is a rectangular window
(row/column offset and size) on one of the global grids; the global grid is the window at offset 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from osgeo import osr

from .errors import InputError

osr.UseExceptions()

EPSG = 6933
PROJ4 = "+proj=cea +lat_ts=30 +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
ULX = -17367530.4451615
ULY = 7314540.8306386

# name -> (cell size in m, global columns, global rows)
GRIDS: dict[str, tuple[float, int, int]] = {
    "M36": (36032.220840584, 964, 406),
    "M09": (9008.055210146, 3856, 1624),
    "M03": (3002.6850700487, 11568, 4872),
    "M01": (1000.89502334956, 34704, 14616),
}
# how many 1 km cells span one cell of each grid (exact integers, the nesting ratio)
_UNITS = {"M36": 36, "M09": 9, "M03": 3, "M01": 1}


class GridError(InputError):
    """A grid request that cannot be met (unknown grid, empty or non-intersecting window)."""


def ease_srs() -> osr.SpatialReference:
    """EPSG:6933 with x/y (easting, northing) axis order."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def wgs84_srs() -> osr.SpatialReference:
    """EPSG:4326 with lon/lat axis order."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def srs_from_user(crs: str | int | osr.SpatialReference | None) -> osr.SpatialReference:
    """A spatial reference from an EPSG code, 'EPSG:n', WKT or PROJ string (None means EPSG:6933)."""
    if crs is None:
        return ease_srs()
    if isinstance(crs, osr.SpatialReference):
        srs = crs.Clone()
    else:
        srs = osr.SpatialReference()
        try:
            if isinstance(crs, int):
                srs.ImportFromEPSG(crs)
            else:
                srs.SetFromUserInput(str(crs))
        except RuntimeError as exc:
            raise GridError(f"unknown coordinate reference system {crs!r}: {exc}") from None
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


@dataclass(frozen=True)
class Grid:
    """A window of ``rows`` x ``cols`` cells at (``row_off``, ``col_off``) on global grid ``name``."""

    name: str
    row_off: int
    col_off: int
    rows: int
    cols: int

    def __post_init__(self) -> None:
        if self.name not in GRIDS:
            raise GridError(f"unknown EASE-Grid 2.0 grid {self.name!r}; known: {', '.join(GRIDS)}")
        _, gcols, grows = GRIDS[self.name]
        if self.rows <= 0 or self.cols <= 0:
            raise GridError(f"empty window on {self.name}: {self.rows} x {self.cols}")
        if not (0 <= self.row_off and self.row_off + self.rows <= grows
                and 0 <= self.col_off and self.col_off + self.cols <= gcols):
            raise GridError(
                f"window rows {self.row_off}..{self.row_off + self.rows}, cols "
                f"{self.col_off}..{self.col_off + self.cols} lies outside global {self.name} "
                f"({grows} x {gcols})")

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def global_grid(cls, name: str) -> Grid:
        """The whole global grid ``name`` (M36, M09, M03 or M01)."""
        if name not in GRIDS:
            raise GridError(f"unknown EASE-Grid 2.0 grid {name!r}; known: {', '.join(GRIDS)}")
        _, cols, rows = GRIDS[name]
        return cls(name, 0, 0, rows, cols)

    # --- geometry -----------------------------------------------------------------------------
    @property
    def cell_size(self) -> float:
        """Cell size in metres."""
        return GRIDS[self.name][0]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols), as numpy arrays on this window are shaped."""
        return (self.rows, self.cols)

    @property
    def is_global(self) -> bool:
        """Whether the window is the whole global grid."""
        _, gcols, grows = GRIDS[self.name]
        return self.row_off == 0 and self.col_off == 0 and self.rows == grows and self.cols == gcols

    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        """GDAL geotransform of the window's outer corner (exact multiples of the cell size)."""
        s = self.cell_size
        return (ULX + self.col_off * s, s, 0.0, ULY - self.row_off * s, 0.0, -s)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the window's outer edges in EPSG:6933 metres."""
        x0, s, _, y0, _, _ = self.geotransform()
        return (x0, y0 - self.rows * s, x0 + self.cols * s, y0)

    def xy(self, rows: np.ndarray | int, cols: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """EPSG:6933 x/y of cell centres for window-relative (row, col)."""
        s = self.cell_size
        _, gcols, grows = GRIDS[self.name]
        grow = np.asarray(rows, dtype=np.float64) + self.row_off
        gcol = np.asarray(cols, dtype=np.float64) + self.col_off
        return (gcol - (gcols - 1) / 2.0) * s, ((grows - 1) / 2.0 - grow) * s

    def rowcol(self, x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Window-relative (row, col) of the cells containing EPSG:6933 points (may fall outside)."""
        x0, s, _, y0, _, _ = self.geotransform()
        col = np.floor((np.asarray(x, dtype=np.float64) - x0) / s).astype(np.int64)
        row = np.floor((y0 - np.asarray(y, dtype=np.float64)) / s).astype(np.int64)
        return row, col

    def lonlat(self, rows: np.ndarray | int, cols: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """Longitude/latitude (WGS84 degrees) of cell centres for window-relative (row, col)."""
        x, y = self.xy(rows, cols)
        return transform_points(x, y, ease_srs(), wgs84_srs())

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """2-D arrays of the EPSG:6933 x and y of every cell centre of the window."""
        r, c = np.meshgrid(np.arange(self.rows), np.arange(self.cols), indexing="ij")
        return self.xy(r, c)

    # --- windows ------------------------------------------------------------------------------
    def window(self, row_off: int, col_off: int, rows: int, cols: int) -> Grid:
        """A sub-window, offsets relative to this window."""
        return Grid(self.name, self.row_off + row_off, self.col_off + col_off, rows, cols)

    def clip_window(self, row_off: int, col_off: int, rows: int, cols: int) -> Grid | None:
        """Like :meth:`window` but clipped to this window; None when nothing remains."""
        r0, c0 = max(row_off, 0), max(col_off, 0)
        r1, c1 = min(row_off + rows, self.rows), min(col_off + cols, self.cols)
        if r1 <= r0 or c1 <= c0:
            return None
        return self.window(r0, c0, r1 - r0, c1 - c0)

    def offset_in(self, parent: Grid) -> tuple[int, int]:
        """(row, col) of this window's first cell inside ``parent`` (same grid)."""
        if parent.name != self.name:
            raise GridError(f"{self.name} window is not on {parent.name}")
        return self.row_off - parent.row_off, self.col_off - parent.col_off

    def subset(self, extent: tuple[float, float, float, float],
               crs: str | int | osr.SpatialReference | None = None) -> Grid:
        """The window of cells intersecting ``extent`` = (xmin, ymin, xmax, ymax) given in ``crs``.

        The extent is densified along its edges before reprojection, so a lon/lat box maps onto
        the EASE2 cells it really covers. Raises GridError when it does not intersect this window.
        """
        xmin, ymin, xmax, ymax = (float(v) for v in extent)
        if not (xmax > xmin and ymax > ymin):
            raise GridError(f"extent {extent} is empty")
        src = srs_from_user(crs)
        if not src.IsSame(ease_srs()):
            if src.IsGeographic():  # EPSG:6933 is defined to +-86 degrees of latitude
                ymin, ymax = max(ymin, -86.0), min(ymax, 86.0)
                if ymax <= ymin:
                    raise GridError(f"extent {extent} lies outside EASE-Grid 2.0 latitudes")
            t = np.linspace(0.0, 1.0, 65)
            ex = np.concatenate([xmin + (xmax - xmin) * t, np.full_like(t, xmax),
                                 xmax - (xmax - xmin) * t, np.full_like(t, xmin)])
            ey = np.concatenate([np.full_like(t, ymin), ymin + (ymax - ymin) * t,
                                 np.full_like(t, ymax), ymax - (ymax - ymin) * t])
            px, py = transform_points(ex, ey, src, ease_srs())
            ok = np.isfinite(px) & np.isfinite(py)
            if not ok.any():
                raise GridError(f"extent {extent} cannot be projected to EASE-Grid 2.0")
            xmin, xmax = float(px[ok].min()), float(px[ok].max())
            ymin, ymax = float(py[ok].min()), float(py[ok].max())
        x0, s, _, y0, _, _ = self.geotransform()
        eps = 1e-6  # an edge within a micro-cell of a cell edge is on it (float noise of reprojection)
        c0 = int(np.floor((xmin - x0) / s + eps))
        c1 = int(np.ceil((xmax - x0) / s - eps))
        r0 = int(np.floor((y0 - ymax) / s + eps))
        r1 = int(np.ceil((y0 - ymin) / s - eps))
        win = self.clip_window(r0, c0, r1 - r0, c1 - c0)
        if win is None:
            raise GridError(
                f"extent {tuple(round(v, 4) for v in extent)} does not intersect the {self.name} "
                f"window {self.bounds()}")
        return win

    # --- nesting ------------------------------------------------------------------------------
    def factor_to(self, finer: str) -> int:
        """How many cells of grid ``finer`` span one cell of this grid along each axis."""
        if finer not in GRIDS:
            raise GridError(f"unknown EASE-Grid 2.0 grid {finer!r}; known: {', '.join(GRIDS)}")
        a, b = _UNITS[self.name], _UNITS[finer]
        if a % b:
            raise GridError(f"{finer} does not nest in {self.name}")
        return a // b

    def refine(self, finer: str) -> Grid:
        """The window of grid ``finer`` covering exactly this window."""
        f = self.factor_to(finer)
        return Grid(finer, self.row_off * f, self.col_off * f, self.rows * f, self.cols * f)

    def coarsen(self, coarser: str) -> Grid:
        """The smallest window of grid ``coarser`` that covers this window."""
        f = Grid.global_grid(coarser).factor_to(self.name)
        r0, c0 = self.row_off // f, self.col_off // f
        r1 = -(-(self.row_off + self.rows) // f)
        c1 = -(-(self.col_off + self.cols) // f)
        return Grid(coarser, r0, c0, r1 - r0, c1 - c0)

    def aligned_to(self, coarser: str) -> bool:
        """Whether this window starts and ends on cell edges of grid ``coarser``."""
        return self.coarsen(coarser).refine(self.name) == self


def extent_hint(extent: Iterable[float] | None, crs: object = None) -> str:
    """A hint for messages when an extent taken as EPSG:6933 metres looks like degrees (its CRS was lost or
    unknown, e.g. an EXTENT given with an EPSG code that PROJ does not know): '' otherwise."""
    if extent is None:
        return ""
    try:
        vals = [float(v) for v in extent]
        if crs is not None and not srs_from_user(crs).IsSame(ease_srs()):
            return ""
    except (TypeError, ValueError, InputError):
        return ""
    if vals and all(abs(v) <= 360.0 for v in vals):
        return (f"; the extent {tuple(round(v, 4) for v in vals)} was taken in EPSG:6933 metres but looks like "
                "degrees: was its CRS unknown or missing? Give EXTENT with a known CRS, e.g. [EPSG:4326]")
    return ""


def transform_points(x: Iterable[float] | np.ndarray, y: Iterable[float] | np.ndarray,
                     src: osr.SpatialReference, dst: osr.SpatialReference
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Transform point arrays between two spatial references (x/y axis order); NaN where it fails."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    shape = np.broadcast(xa, ya).shape
    xa, ya = np.broadcast_to(xa, shape).ravel(), np.broadcast_to(ya, shape).ravel()
    ct = osr.CoordinateTransformation(src, dst)
    if xa.size == 0:
        return xa.reshape(shape), ya.reshape(shape)
    pts = np.stack([xa, ya], axis=1)
    try:
        out = np.asarray(ct.TransformPoints(pts), dtype=np.float64)
    except RuntimeError:
        out = np.full((xa.size, 3), np.nan)
        for i, (px, py) in enumerate(pts):
            try:
                out[i] = ct.TransformPoint(float(px), float(py))
            except RuntimeError:
                pass
    out[~np.isfinite(out)] = np.nan
    out[np.abs(out) > 1e20] = np.nan
    return out[:, 0].reshape(shape), out[:, 1].reshape(shape)
