"""GeoTIFF output on EASE-Grid 2.0 and raster input, with atomic writes.

Every output is written to a temporary file beside its destination and moved into place only when
complete, so a failure or a cancel never leaves a partial file under the user's name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from .atomic import discard, publish, temp_beside
from .errors import InputError
from .grid import GRIDS, ULX, ULY, Grid, ease_srs

gdal.UseExceptions()

NODATA = -9999.0
CREATION_OPTIONS = ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3", "BIGTIFF=IF_SAFER"]


@dataclass
class BandSpec:
    """Name (band description), units and long name of one output band."""

    name: str
    units: str = ""
    long_name: str = ""


class GeoTiffWriter:
    """A float32 GeoTIFF on a grid window, written block by block, committed atomically.

    Use as a context manager: on a clean exit the file is moved to ``path``; on an exception
    (cancel included) the temporary file is removed and nothing appears at ``path``.
    """

    def __init__(self, path: str, grid: Grid, bands: Sequence[BandSpec],
                 metadata: dict[str, str] | None = None) -> None:
        if not bands:
            raise InputError(f"{path}: nothing to write (a GeoTIFF needs at least one band)")
        self.path = os.path.abspath(path)
        self.grid = grid
        self.tmp = temp_beside(self.path, ".tif")
        try:
            drv = gdal.GetDriverByName("GTiff")
            self.ds = drv.Create(self.tmp, grid.cols, grid.rows, len(bands), gdal.GDT_Float32,
                                 options=CREATION_OPTIONS)
            self.ds.SetGeoTransform(grid.geotransform())
            self.ds.SetProjection(ease_srs().ExportToWkt())
            md = {"EASE2_GRID": grid.name, "EASE2_ROW_OFFSET": str(grid.row_off),
                  "EASE2_COL_OFFSET": str(grid.col_off)}
            md.update({k: str(v) for k, v in (metadata or {}).items()})
            self.ds.SetMetadata(md)
            for i, spec in enumerate(bands, start=1):
                b = self.ds.GetRasterBand(i)
                b.SetNoDataValue(NODATA)
                b.SetDescription(spec.name)
                if spec.units:
                    b.SetUnitType(spec.units)
                b.SetMetadata({"units": spec.units, "long_name": spec.long_name or spec.name})
                b.Fill(NODATA)
        except Exception:
            self.discard()
            raise

    def write(self, band: int, array: np.ndarray, row: int = 0, col: int = 0) -> None:
        """Write a float block (NaN = no data) into 1-based ``band`` at window (row, col)."""
        out = np.where(np.isfinite(array), array, NODATA).astype(np.float32)
        self.ds.GetRasterBand(band).WriteArray(out, xoff=int(col), yoff=int(row))

    def commit(self) -> str:
        """Flush, close and move the file into place; returns the final path."""
        self.ds.FlushCache()
        self.ds = None
        publish(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        """Close and delete the temporary file."""
        self.ds = None
        discard(self.tmp)

    def __enter__(self) -> GeoTiffWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()
            return
        try:
            self.commit()
        except BaseException:
            self.discard()
            raise


def write_geotiff(path: str, grid: Grid, arrays: Sequence[np.ndarray], bands: Sequence[BandSpec],
                  metadata: dict[str, str] | None = None) -> str:
    """Write whole 2-D arrays (NaN = no data) as one band each; atomic; returns the path."""
    if len(arrays) != len(bands):
        raise InputError(f"{path}: {len(arrays)} array(s) for {len(bands)} band description(s); "
                         "each band needs exactly one")
    for spec, a in zip(bands, arrays, strict=True):  # checked before anything is created
        if np.shape(a) != grid.shape:
            raise InputError(f"{path}: band {spec.name} has {np.shape(a)} pixels (rows, cols) but the "
                             f"{grid.name} grid window has {grid.shape}")
    with GeoTiffWriter(path, grid, bands, metadata) as w:
        for i, a in enumerate(arrays, start=1):
            w.write(i, a)
    return os.path.abspath(path)


def grid_from_geotransform(gt: Sequence[float], rows: int, cols: int) -> Grid | None:
    """The EASE2 window a raster's geotransform and size describe exactly, or None."""
    if abs(gt[2]) > 1e-9 or abs(gt[4]) > 1e-9:
        return None
    for name, (size, _, _) in GRIDS.items():
        if abs(gt[1] - size) > 1e-6 * size or abs(-gt[5] - size) > 1e-6 * size:
            continue
        c = (gt[0] - ULX) / size
        r = (ULY - gt[3]) / size
        if abs(c - round(c)) > 1e-3 or abs(r - round(r)) > 1e-3:
            return None
        try:
            return Grid(name, int(round(r)), int(round(c)), rows, cols)
        except ValueError:
            return None
    return None


@dataclass
class RasterData:
    """Bands of a raster read whole: float32 arrays with NaN for nodata."""

    path: str
    grid: Grid
    arrays: list[np.ndarray]
    names: list[str]
    units: list[str]
    metadata: dict[str, str]


def read_ease_raster(path: str) -> RasterData:
    """Read a GeoTIFF (or any GDAL raster) that lies exactly on an EASE2 grid (EPSG:6933)."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    try:
        ds = gdal.Open(path)
    except RuntimeError as exc:
        raise InputError(f"{path}: GDAL cannot read this raster ({exc})") from None
    srs = ds.GetSpatialRef()
    if srs is None or not srs.IsSame(ease_srs()):
        raise InputError(f"{path}: raster is not in EASE-Grid 2.0 (EPSG:6933); reproject it first")
    grid = grid_from_geotransform(ds.GetGeoTransform(), ds.RasterYSize, ds.RasterXSize)
    if grid is None:
        raise InputError(f"{path}: raster's pixels are not aligned with an EASE-Grid 2.0 grid "
                         f"(M36/M09/M03/M01); geotransform {ds.GetGeoTransform()}")
    if ds.RasterCount < 1:
        raise InputError(f"{path}: the raster has no bands")
    arrays, names, units = [], [], []
    for i in range(1, ds.RasterCount + 1):
        b = ds.GetRasterBand(i)
        try:
            raw = b.ReadAsArray()
        except RuntimeError as exc:  # truncated or damaged blocks
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else "GDAL read error"
            raise InputError(f"{path}: band {i} cannot be read; the file is truncated or damaged ({why})") from None
        if raw is None:
            raise InputError(f"{path}: band {i} cannot be read")
        with np.errstate(invalid="ignore", over="ignore"):
            a = raw.astype(np.float32)
        nd = b.GetNoDataValue()
        if nd is not None and np.isfinite(nd):
            with np.errstate(invalid="ignore", over="ignore"):
                a[a == np.float32(nd)] = np.nan
        a[~np.isfinite(a)] = np.nan
        arrays.append(a)
        names.append(b.GetDescription() or f"band{i}")
        units.append(b.GetUnitType() or b.GetMetadataItem("units") or "")
    return RasterData(path, grid, arrays, names, units, ds.GetMetadata() or {})


def write_scene(path: str, scene, metadata: dict[str, str] | None = None) -> str:
    """Write every variable of a :class:`core.scene.Scene` as one band (name, units kept); atomic."""
    variables = list(scene.variables.values())
    if not variables:
        raise InputError(f"{scene.path}: nothing to write (no variables were read)")
    md = {"product": scene.product, "source_file": os.path.basename(scene.path or "")}
    if scene.date:
        md["date"] = scene.date.isoformat()
    if scene.pass_:
        md["pass"] = scene.pass_
    md.update({k: str(v) for k, v in scene.attrs.items()})
    md.update(metadata or {})
    bands = [BandSpec(v.name, v.units, v.long_name) for v in variables]
    return write_geotiff(path, scene.grid, [v.data for v in variables], bands, md)
