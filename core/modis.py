"""MODIS daily land surface temperature (MOD11A1 / MYD11A1) and plain LST rasters onto EASE-Grid 2.0.

The fine-scale LST that guides the downscaling comes either from a real MODIS tile (HDF4-EOS, 1 km
sinusoidal grid) or from any GDAL raster holding LST in Kelvin in band 1 (e.g. a simulated EASE2 M01
GeoTIFF). Both take the same path: mask, then area-weighted averaging onto an EASE2 window, keeping how
many valid source cells contributed to every output cell.

Area weighting. Where the source lies exactly on an EASE2 grid that nests in the output grid, each output
cell is the plain mean of the valid source cells it contains (exact; ``count`` is an integer). Otherwise
the source is resampled (nearest neighbour, nodata kept) with ``gdal.Warp`` onto a sub-grid that splits
every output cell into f x f equal sub-cells, f chosen so that a sub-cell is at most a third of the
source cell's narrowest side (as the source cell appears in EPSG:6933, capped at ``MAX_SUBDIVISION``);
the output value is the mean of the valid sub-cells. EPSG:6933 is equal-area, so equal sub-cells carry
equal area weights: this is the area-weighted mean of the source cells, with each cell's weight exact to
within the sub-cell quantisation of its edges. ``count`` is the valid area divided by the local area of
one source cell (computed in EPSG:6933 from the source pixel's corners), i.e. the number of valid source
cells, fractional where a cell is only partly inside. Work proceeds in bounded blocks of output rows and
never allocates more than the output window.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal, osr

from .blocks import block_mean_count
from .errors import InputError, NoDataError
from .feedback import SILENT, Feedback
from .grid import Grid, GridError, ease_srs, srs_from_user, transform_points
from .physical import check_field, out_of_range
from .raster import grid_from_geotransform
from .scene import Scene, Variable

gdal.UseExceptions()

MODIS_LST_PRODUCTS = ("MOD11A1", "MYD11A1")
PLAIN_PRODUCT = "LST raster"
# layer -> (LST subdataset, QC subdataset)
LAYERS: dict[str, tuple[str, str]] = {
    "day": ("LST_Day_1km", "QC_Day"),
    "night": ("LST_Night_1km", "QC_Night"),
}
# MOD11A1 QC bits 0-1, the mandatory QA flag: 00 produced, good quality; 01 produced, other quality
# (check the other QC bits); 10 not produced, cloud; 11 not produced, other reasons.
QC_MANDATORY_MASK = 0b11
QC_GOOD = 0b00
# MOD11A1 collection 6 defaults, used when the subdataset does not declare them
MODIS_SCALE = 0.02
MODIS_FILL = 0
MODIS_VALID_RANGE = (7500, 65535)
# sub-cells per output cell along each axis at most; blocks of at most this many sub-cells
MAX_SUBDIVISION = 160
BLOCK_SUBCELLS = 4_000_000
SUBCELL_FRACTION = 3.0  # a sub-cell is at most 1/3 of the source cell's narrowest side
KELVIN_PLAUSIBLE = (150.0, 400.0)  # median of a plain raster's valid values must lie here


@dataclass
class _Source:
    """One band of LST (NaN or declared nodata = no data) ready to be aggregated."""

    path: str
    ds: gdal.Dataset
    srs: osr.SpatialReference
    gt: tuple[float, ...]
    product: str
    name: str  # subdataset or band the values come from
    date: dt.date | None = None
    scale: float = 1.0
    offset: float = 0.0
    attrs: dict[str, str] = field(default_factory=dict)
    out_of_range: int = 0  # source values outside the physical LST range (core.physical) set to no data

    @property
    def footprint(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the raster's outer edges in its own CRS."""
        gt, nx, ny = self.gt, self.ds.RasterXSize, self.ds.RasterYSize
        xs = [gt[0] + i * gt[1] + j * gt[2] for i in (0, nx) for j in (0, ny)]
        ys = [gt[3] + i * gt[4] + j * gt[5] for i in (0, nx) for j in (0, ny)]
        return (min(xs), min(ys), max(xs), max(ys))

    def band(self) -> gdal.Band:
        return self.ds.GetRasterBand(1)


def read_lst(path: str, layer: str = "day", grid_name: str = "M09", qc: bool = True,
             extent: tuple[float, float, float, float] | None = None, extent_crs: str | None = None,
             target: Grid | None = None, feedback: Feedback | None = None, qc_option: str | None = "QC") -> Scene:
    """Read MODIS daily LST (or a plain Kelvin LST raster) area-averaged onto an EASE2 window.

    ``path`` is a MOD11A1 / MYD11A1 HDF4-EOS file (recognised by the SHORTNAME in its own metadata,
    not by its name) or any GDAL raster in any CRS with LST in Kelvin in band 1 (nodata honoured).
    ``layer`` is 'day' or 'night' (LST_Day_1km / LST_Night_1km); for a plain raster it only labels the
    pass. With ``qc`` a MODIS cell is kept only where bits 0-1 of QC_Day / QC_Night (the mandatory QA
    flag) are 00, "produced, good quality"; without it every produced value (00 or 01) is kept. Values
    are DN * 0.02 K, fill 0 and the valid range (7500-65535) excluded.

    The output lies on ``target`` when given (``extent`` is then ignored), else on the window of global
    grid ``grid_name`` (M36/M09/M03/M01) covering the raster's footprint, cut to ``extent`` =
    (xmin, ymin, xmax, ymax) in ``extent_crs`` (EPSG:6933 when None) when given. Variables: ``lst``
    (K, NaN where no valid cell contributed) and ``count`` (valid source cells per output cell, see the
    module docstring for the area weighting). Raises InputError naming the file and the problem.

    LST outside the physical range of temperature (:mod:`core.physical`, 200–350 K) becomes no data and is
    counted (``Variable.out_of_range``); a raster whose values lie mostly outside it is refused by name.
    ``qc_option``: the name of the caller's option that turns QC filtering off, suggested when QC left no
    cell (None: the caller has no such option and none is suggested).
    """
    fb = feedback or SILENT
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    key = _layer_key(path, layer)
    src = _open_source(path, key, qc, qc_option)
    work, out_grid = _windows(src, grid_name, extent, extent_crs, target)
    fb.info(f"{os.path.basename(path)}: {src.product} {key} LST onto {out_grid.name} "
            f"window {out_grid.rows} x {out_grid.cols}")
    lst, count, method = _aggregate(src, out_grid, work, fb)
    if not np.isfinite(lst).any():
        where = "the target window" if target is not None else "the requested extent"
        raise NoDataError(f"{path}: no valid {key} LST falls inside {where} "
                         f"({out_grid.name} window {out_grid.bounds()})"
                         + (f"; try again with QC filtering off ({qc_option})" if qc and qc_option
                            and src.product != PLAIN_PRODUCT else ""))
    if src.product == PLAIN_PRODUCT:
        _check_kelvin(path, lst)
    if src.product == PLAIN_PRODUCT:
        short, qc_text, label = src.attrs.get("short_name", ""), "not applicable", f"{key} LST raster"
    else:
        short, label = src.product, f"{src.product} {key}time"
        qc_text = "mandatory QA bits 0-1 == 00 (good quality) only" if qc else "off (all produced values)"
    attrs = {"short_name": short, "layer": key, "qc": qc_text, "source": src.name,
             "source_crs": src.srs.GetName() or "", "aggregation": method}
    attrs.update({k: v for k, v in src.attrs.items() if k not in attrs})
    variables = {
        "lst": Variable("lst", lst, "K", f"land surface temperature ({label})", "lst", src.name, src.out_of_range),
        "count": Variable("count", count, "1", "number of valid source LST cells averaged (area-weighted)",
                          "count", src.name),
    }
    return Scene(src.product, out_grid, variables, path=path, date=src.date, pass_=key, attrs=attrs)


# --- input ----------------------------------------------------------------------------------------
def _layer_key(path: str, layer: str) -> str:
    """'day' or 'night' from a layer name (also accepts the subdataset names)."""
    name = str(layer).strip().lower()
    for key, (sds, _) in LAYERS.items():
        if name in (key, sds.lower()):
            return key
    raise InputError(f"{path}: unknown LST layer {layer!r}; use 'day' or 'night'")


def _open_source(path: str, key: str, qc: bool, qc_option: str | None = "QC") -> _Source:
    """Open ``path`` as MODIS LST (masked into memory) or as a plain single-band LST raster."""
    try:
        ds = gdal.Open(path)
    except RuntimeError as exc:
        raise InputError(f"{path}: not an HDF4 file or a raster GDAL can read ({_short(exc)})") from None
    if ds is None:
        raise InputError(f"{path}: not an HDF4 file or a raster GDAL can read")
    md = ds.GetMetadata() or {}
    short = str(md.get("SHORTNAME", "")).strip()
    driver = ds.GetDriver().ShortName
    subdatasets = ds.GetSubDatasets()
    if short in MODIS_LST_PRODUCTS and subdatasets:
        return _open_modis(path, ds, short, key, qc, qc_option)
    if driver.startswith("HDF4") or driver.startswith("HDF5") or (subdatasets and ds.RasterCount == 0):
        what = f"a {short} product" if short else f"an {driver} file"
        raise InputError(f"{path}: {what}, not MODIS daily land surface temperature "
                         f"({' or '.join(MODIS_LST_PRODUCTS)}) nor a single LST raster")
    return _open_plain(path, ds, md, short)


def _open_modis(path: str, container: gdal.Dataset, short: str, key: str, qc: bool,
                qc_option: str | None = "QC") -> _Source:
    """Read the LST and QC subdatasets of a MOD11A1/MYD11A1 tile and mask them into a float raster."""
    lst_name, qc_name = LAYERS[key]
    names = {s.rsplit(":", 1)[-1]: s for s, _ in container.GetSubDatasets()}
    missing = [n for n in (lst_name, qc_name) if n not in names]
    if missing:
        raise InputError(f"{path}: {short} file without the {' and '.join(missing)} subdataset(s); "
                         f"found {', '.join(sorted(names)) or 'none'}")
    try:
        lds = gdal.Open(names[lst_name])
        dn = lds.GetRasterBand(1).ReadAsArray()
        flags = None
        if qc:  # keep the dataset referenced while its band is read (GDAL's Python lifetime rule)
            qds = gdal.Open(names[qc_name])
            flags = qds.GetRasterBand(1).ReadAsArray()
            qds = None
    except RuntimeError as exc:
        raise InputError(f"{path}: cannot read {lst_name} ({_short(exc)})") from None
    lmd = lds.GetMetadata() or {}
    scale = _num(lmd.get("scale_factor"), MODIS_SCALE)
    offset = _num(lmd.get("add_offset"), 0.0)
    fill = _num(lmd.get("_FillValue"), MODIS_FILL)
    lo, hi = _range(lmd.get("valid_range"), MODIS_VALID_RANGE)
    ok = (dn != fill) & (dn >= lo) & (dn <= hi)
    produced = int(ok.sum())
    if flags is not None:
        ok &= (flags & QC_MANDATORY_MASK) == QC_GOOD
    if not ok.any():
        hint = ""
        if qc and produced:
            hint = (f"; {produced} cells were produced but none has good quality (QC bits 0-1 == 00)"
                    + (f": try again with QC filtering off ({qc_option})" if qc_option else
                       ": use the LST of another day (clouds) or a cloud-free LST raster"))
        raise NoDataError(f"{path}: no valid {key} LST in this {short} tile{hint}")
    # MODIS HDF4 convention: physical = scale_factor * (DN - add_offset)
    values = np.where(ok, scale * (dn.astype(np.float64) - offset), np.nan).astype(np.float32)
    values, check = check_field(values, "lst", f"{path}: {lst_name}")
    srs = lds.GetSpatialRef()
    gt = lds.GetGeoTransform()
    if srs is None:
        raise InputError(f"{path}: {lst_name} has no coordinate reference system")
    srs = srs.Clone()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    mem = gdal.GetDriverByName("MEM").Create("", values.shape[1], values.shape[0], 1, gdal.GDT_Float32)
    mem.SetGeoTransform(gt)
    mem.SetSpatialRef(srs)
    band = mem.GetRasterBand(1)
    band.SetNoDataValue(float("nan"))
    band.WriteArray(values)
    md = container.GetMetadata() or {}
    attrs = {"tile": f"h{md.get('HORIZONTALTILENUMBER', '?')}v{md.get('VERTICALTILENUMBER', '?')}",
             "granule": md.get("LOCALGRANULEID", ""), "valid_1km_cells": str(int(ok.sum()))}
    return _Source(path, mem, srs, gt, short, lst_name, _date(md), attrs=attrs, out_of_range=check.out_of_range)


def _open_plain(path: str, ds: gdal.Dataset, md: dict[str, str], short: str) -> _Source:
    """Band 1 of any georeferenced GDAL raster holding LST in Kelvin."""
    if ds.RasterCount < 1:
        raise InputError(f"{path}: the raster has no bands")
    srs = ds.GetSpatialRef()
    gt = ds.GetGeoTransform(can_return_null=True)
    if srs is None or gt is None:
        raise InputError(f"{path}: the raster has no coordinate reference system or georeferencing; "
                         "cannot place its LST on EASE-Grid 2.0")
    srs = srs.Clone()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    band = ds.GetRasterBand(1)
    scale, offset = band.GetScale(), band.GetOffset()
    name = band.GetDescription() or "band 1"
    band = None
    if ds.RasterCount > 1:  # warp band 1 only
        ds = gdal.Translate("", ds, format="VRT", bandList=[1])
    attrs = {"short_name": short} if short else {}
    # a simulated raster says so (and from which run): training provenance must not call it real
    attrs.update({k: md[k] for k in ("simulated", "seed", "climate") if md.get(k)})
    src = _Source(path, ds, srs, tuple(gt), PLAIN_PRODUCT, name, _date(md),
                  scale=1.0 if scale is None else float(scale),
                  offset=0.0 if offset is None else float(offset), attrs=attrs)
    sample = _sample(src)
    _check_kelvin(path, sample)
    check_field(sample, "lst", f"{path}: band 1 ({name})")  # refuses a raster mostly outside 200-350 K
    return src


def _sample(src: _Source) -> np.ndarray:
    """A decimated read of the source band (at most 512 x 512, NaN = no data) for sanity checks."""
    b = src.band()
    nx, ny = src.ds.RasterXSize, src.ds.RasterYSize
    a = b.ReadAsArray(buf_xsize=min(nx, 512), buf_ysize=min(ny, 512)).astype(np.float64)
    return _physical(src, a)


def _physical(src: _Source, raw: np.ndarray) -> np.ndarray:
    """Raw band values to Kelvin (scale/offset), nodata and non-finite values to NaN."""
    a = raw.astype(np.float64)
    nd = src.band().GetNoDataValue()
    bad = ~np.isfinite(a)
    if nd is not None and np.isfinite(nd):
        bad |= a == nd
    a = a * src.scale + src.offset
    a[bad] = np.nan
    return a


def _check_kelvin(path: str, values: np.ndarray) -> None:
    """InputError when valid values exist and their median is not a plausible LST in Kelvin."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return
    med = float(np.median(v))
    lo, hi = KELVIN_PLAUSIBLE
    if not lo <= med <= hi:
        raise InputError(f"{path}: band 1 holds values around {med:.4g}, which is not a land surface "
                         f"temperature in Kelvin (expected {lo:.0f}-{hi:.0f} K); convert it to Kelvin")


# --- windows --------------------------------------------------------------------------------------
def _windows(src: _Source, grid_name: str, extent: tuple[float, float, float, float] | None,
             extent_crs: str | None, target: Grid | None) -> tuple[Grid, Grid]:
    """(work window, output grid): the output grid and the part of it the source can reach."""
    if target is not None:
        reach = _reach(src, target.name)
        r0, c0 = reach.offset_in(target)
        work = target.clip_window(r0, c0, reach.rows, reach.cols)
        if work is None:
            raise InputError(f"{src.path}: the raster's footprint does not overlap the target "
                             f"{target.name} window {target.bounds()}")
        return work, target
    win = _reach(src, grid_name)
    if extent is not None:
        try:
            crs = srs_from_user(extent_crs)
        except GridError as exc:
            raise InputError(f"{src.path}: {exc}") from None
        try:
            win = win.subset(extent, crs)
        except GridError as exc:
            raise InputError(f"{src.path}: the extent {tuple(extent)} "
                             f"({extent_crs or 'EPSG:6933'}) does not intersect the raster's "
                             f"footprint ({exc})") from None
    return win, win


def _reach(src: _Source, grid_name: str) -> Grid:
    """The window of global grid ``grid_name`` covering the source's footprint.

    A source on a nesting EASE2 grid gets its exact coarsened window (no edge rounding).
    """
    nested = _nested_ease_grid(src, grid_name)
    try:
        if nested is not None:
            return nested.coarsen(grid_name)
        return Grid.global_grid(grid_name).subset(src.footprint, src.srs)
    except GridError as exc:
        raise InputError(f"{src.path}: cannot place the raster on EASE-Grid 2.0 {grid_name} ({exc})") \
            from None


# --- aggregation ----------------------------------------------------------------------------------
def _aggregate(src: _Source, out_grid: Grid, work: Grid, fb: Feedback
               ) -> tuple[np.ndarray, np.ndarray, str]:
    """Area-weighted mean and valid count on ``out_grid``, computed over its part ``work``."""
    lst = np.full(out_grid.shape, np.nan, np.float32)
    count = np.zeros(out_grid.shape, np.float32)
    wr, wc = work.offset_in(out_grid)
    nested = _nested_ease_grid(src, out_grid.name)
    if nested is not None:
        k = out_grid.factor_to(nested.name)
        method = f"exact block mean of {nested.name} cells ({k} x {k} per {out_grid.name} cell)"
        blocks = _exact_blocks(src, nested, work, k)
    else:
        f = _subdivision(src, work)
        method = (f"nearest-neighbour warp onto {f} x {f} equal-area sub-cells per {out_grid.name} "
                  f"cell, mean of valid sub-cells")
        blocks = _warp_blocks(src, work, f)
    done = 0
    fb.check()
    for r0, m, c in blocks:
        fb.check()
        n = m.shape[0]
        lst[wr + r0:wr + r0 + n, wc:wc + work.cols] = m
        count[wr + r0:wr + r0 + n, wc:wc + work.cols] = c
        done += n
        fb.progress(100.0 * done / work.rows)
    return lst, count, method


def _rows_per_block(cols: int, f: int) -> int:
    return max(1, BLOCK_SUBCELLS // max(1, cols * f * f))


def _nested_ease_grid(src: _Source, out_name: str) -> Grid | None:
    """The source's EASE2 grid when it lies exactly on one that nests in ``out_name`` (same or finer)."""
    if not src.srs.IsSame(ease_srs()):
        return None
    g = grid_from_geotransform(src.gt, src.ds.RasterYSize, src.ds.RasterXSize)
    if g is None:
        return None
    try:
        Grid.global_grid(out_name).factor_to(g.name)
    except GridError:
        return None
    return g


def _exact_blocks(src: _Source, g_src: Grid, work: Grid, k: int):
    """Yield (row, mean, count) blocks of ``work`` from a source on a nesting EASE2 grid."""
    band = src.band()
    step = _rows_per_block(work.cols, k)
    fc0 = work.col_off * k
    for r0 in range(0, work.rows, step):
        n = min(step, work.rows - r0)
        fr0 = (work.row_off + r0) * k  # global fine row of this block's first fine row
        buf = np.full((n * k, work.cols * k), np.nan)
        rr0, rr1 = max(fr0, g_src.row_off), min(fr0 + n * k, g_src.row_off + g_src.rows)
        cc0, cc1 = max(fc0, g_src.col_off), min(fc0 + work.cols * k, g_src.col_off + g_src.cols)
        if rr1 > rr0 and cc1 > cc0:
            raw = band.ReadAsArray(cc0 - g_src.col_off, rr0 - g_src.row_off, cc1 - cc0, rr1 - rr0)
            buf[rr0 - fr0:rr1 - fr0, cc0 - fc0:cc1 - fc0] = _limit(src, _physical(src, raw))
        mean, cnt = block_mean_count(buf, k)
        yield r0, mean.astype(np.float32), cnt.astype(np.float32)


def _warp_blocks(src: _Source, work: Grid, f: int):
    """Yield (row, mean, count) blocks of ``work``: warp onto f x f sub-cells, then block-average."""
    step = _rows_per_block(work.cols, f)
    wkt = ease_srs().ExportToWkt()
    sub_area = (work.cell_size / f) ** 2
    for r0 in range(0, work.rows, step):
        n = min(step, work.rows - r0)
        blk = work.window(r0, 0, n, work.cols)
        xmin, ymin, xmax, ymax = blk.bounds()
        try:
            out = gdal.Warp("", src.ds, format="MEM", outputBounds=(xmin, ymin, xmax, ymax),
                            width=work.cols * f, height=n * f, dstSRS=wkt, resampleAlg="near",
                            dstNodata=float("nan"), outputType=gdal.GDT_Float32, multithread=False)
        except RuntimeError as exc:
            raise InputError(f"{src.path}: cannot reproject the LST to EASE-Grid 2.0 ({_short(exc)})") \
                from None
        raw = out.GetRasterBand(1).ReadAsArray()
        out = None
        vals = raw if src.product != PLAIN_PRODUCT else _limit(src, _physical_warped(src, raw))
        mean, cnt = block_mean_count(vals, f)
        mean = mean.astype(np.float32)
        count = np.zeros(cnt.shape, np.float32)
        has = cnt > 0
        if has.any():
            area = _source_cell_area(src, blk, has)
            count[has] = (cnt[has] * sub_area / area).astype(np.float32)
        yield r0, mean, count


def _limit(src: _Source, a: np.ndarray) -> np.ndarray:
    """LST values outside the physical range set to NaN (in place) and counted on the source."""
    bad = out_of_range(a, "lst")
    n = int(np.count_nonzero(bad))
    if n:
        a[bad] = np.nan
        src.out_of_range += n
    return a


def _physical_warped(src: _Source, raw: np.ndarray) -> np.ndarray:
    """Scale/offset warped plain-raster values (nodata is already NaN after the warp)."""
    a = raw.astype(np.float64)
    if src.scale != 1.0 or src.offset != 0.0:
        a = a * src.scale + src.offset
    return a


def _pixel_quads(src: _Source, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:6933 corners (n, 4) of a source-pixel-shaped quad centred on each EPSG:6933 point."""
    sx, sy = transform_points(x, y, ease_srs(), src.srs)
    gt = src.gt
    ax, ay = gt[1], gt[4]  # one pixel along a row
    bx, by = gt[2], gt[5]  # one pixel down a column
    cx = sx[:, None] + 0.5 * np.array([-1, 1, 1, -1]) * ax + 0.5 * np.array([-1, -1, 1, 1]) * bx
    cy = sy[:, None] + 0.5 * np.array([-1, 1, 1, -1]) * ay + 0.5 * np.array([-1, -1, 1, 1]) * by
    ex, ey = transform_points(cx, cy, src.srs, ease_srs())
    return ex, ey


def _quad_area(ex: np.ndarray, ey: np.ndarray) -> np.ndarray:
    """Shoelace area of (n, 4) quads."""
    return 0.5 * np.abs(np.sum(ex * np.roll(ey, -1, axis=1) - np.roll(ex, -1, axis=1) * ey, axis=1))


def _source_cell_area(src: _Source, blk: Grid, where: np.ndarray) -> np.ndarray:
    """Local EPSG:6933 area of one source cell at the output cells ``where`` (flat, in their order)."""
    r, c = np.nonzero(where)
    x, y = blk.xy(r, c)
    area = _quad_area(*_pixel_quads(src, x, y))
    good = np.isfinite(area) & (area > 0)
    if not good.all():
        fallback = float(np.median(area[good])) if good.any() else abs(src.gt[1] * src.gt[5])
        area = np.where(good, area, fallback)
    return area


def _subdivision(src: _Source, work: Grid) -> int:
    """Sub-cells per output cell side so a sub-cell is <= 1/3 of the source cell's narrowest side."""
    t = (np.arange(9) + 0.5) / 9.0
    rr, cc = np.meshgrid(t * work.rows - 0.5, t * work.cols - 0.5, indexing="ij")
    x, y = work.xy(rr.ravel(), cc.ravel())
    ex, ey = _pixel_quads(src, x, y)
    e1 = np.hypot(ex[:, 1] - ex[:, 0], ey[:, 1] - ey[:, 0])
    e2 = np.hypot(ex[:, 3] - ex[:, 0], ey[:, 3] - ey[:, 0])
    area = _quad_area(ex, ey)
    with np.errstate(invalid="ignore", divide="ignore"):
        narrow = np.minimum.reduce([e1, e2, area / e1, area / e2])
    narrow = narrow[np.isfinite(narrow) & (narrow > 0)]
    if narrow.size == 0:
        raise InputError(f"{src.path}: the raster's cells cannot be projected to EASE-Grid 2.0")
    f = math.ceil(work.cell_size / (float(narrow.min()) / SUBCELL_FRACTION) - 1e-9)
    return int(min(max(f, 1), MAX_SUBDIVISION))


# --- small helpers --------------------------------------------------------------------------------
def _num(text: str | None, default: float) -> float:
    try:
        return float(str(text).split(",")[0])
    except (TypeError, ValueError):
        return default


def _range(text: str | None, default: tuple[int, int]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in str(text).split(","))
        return lo, hi
    except (TypeError, ValueError):
        return float(default[0]), float(default[1])


_DATE_KEYS = ("RANGEBEGINNINGDATE", "DATE", "date", "ACQUISITION_DATE")


def _date(md: dict[str, str]) -> dt.date | None:
    """The acquisition date from raster metadata (RANGEBEGINNINGDATE first), or None."""
    for k in _DATE_KEYS:
        m = re.match(r"\s*(\d{4})[-:]?(\d{2})[-:]?(\d{2})", str(md.get(k, "")))
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                continue
    return None


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
