"""Archive runs, outputs: Cloud-Optimised GeoTIFFs per product and quantity, the manifest (read, write,
verify), the folder lock, temporaries and the VRT per quantity (see workflows.archive)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
from collections.abc import Iterator, Sequence

from ..core.atomic import TEMP_PREFIX, OutputSet, atomic_output, discard, sweep_stale
from ..core.errors import InputError

MANIFEST = "manifest.csv"
LOCK = ".archive.lock"
COLUMNS = ["key", "file", "date", "pass", "status", "seconds", "mean_preservation_error_K", "device", "worker",
           "model_loads", "outputs", "bytes", "sha256", "settings", "computed_utc", "message"]
DONE = ("complete", "skipped")
"""Statuses of a product whose outputs exist (``skipped``: made by an earlier run and verified now)."""
FINAL = DONE + ("empty",)
"""Statuses a rerun does not redo (``empty``: the product has no valid data in the extent)."""
COG_OPTIONS = ["COMPRESS=DEFLATE", "PREDICTOR=YES", "BLOCKSIZE=256", "OVERVIEWS=AUTO", "BIGTIFF=IF_SAFER",
               "NUM_THREADS=1"]
QUANTITIES = {"tb": ("tb_v", "tb_h"), "sm": ("soil_moisture",)}


def sha256(path: str) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_UNITS = {"tb_v": ("K", "brightness temperature, V polarisation, 9 km (CNN)"),
          "tb_h": ("K", "brightness temperature, H polarisation, 9 km (CNN)"),
          "soil_moisture": ("m3/m3", "volumetric soil moisture (CNN)")}


def write_cogs(folder: str, key: str, grid, arrays: Sequence, quantities: Sequence[str],
               metadata: dict[str, str]) -> list[str]:
    """One Cloud-Optimised GeoTIFF per quantity, ``<folder>/<key>_<quantity>.tif``, published together
    (core.atomic.OutputSet: all of a product's files or none). The bands go first through core.raster's EASE2
    GeoTIFF writer into a temporary staging file, then GDAL's COG driver copies each into its own tiled,
    overviewed file."""
    from osgeo import gdal

    from ..core.raster import BandSpec, write_geotiff

    gdal.UseExceptions()
    staging = os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-stage-{key}.tif")  # swept if this process dies
    bands = [BandSpec(q, *_UNITS.get(q, ("", q))) for q in quantities]
    try:
        write_geotiff(staging, grid, list(arrays), bands, metadata)
        src = gdal.Open(staging)
        with OutputSet() as out:
            for i, q in enumerate(quantities, start=1):
                gdal.Translate(out.stage(os.path.join(folder, f"{key}_{q}.tif")), src, format="COG", bandList=[i],
                               creationOptions=COG_OPTIONS, metadataOptions=[f"quantity={q}"])
        src = None
    finally:
        discard(staging)
    return out.published


# --- manifest -----------------------------------------------------------------------------------------
def read_manifest(path: str) -> dict[str, dict]:
    """Rows of a manifest by key ({} when there is none)."""
    if not os.path.exists(path):
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return {r["key"]: r for r in csv.DictReader(fh) if r.get("key")}
    except (OSError, csv.Error, KeyError) as exc:
        raise InputError(f"{path}: the manifest cannot be read ({exc}); move it away to start afresh") from None


def write_manifest(path: str, rows: Sequence[dict]) -> None:
    """Write the manifest atomically (temporary file, then rename), rows in date order."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in sorted(rows, key=lambda r: (r.get("date", ""), r["key"])):
        w.writerow({c: r.get(c, "") for c in COLUMNS})
    with atomic_output(path, ".csv") as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())


def verify(row: dict, folder: str, checksum: bool = True) -> str | None:
    """None when every output of a manifest row exists with its recorded size (and SHA-256); else why not."""
    names = [n for n in row.get("outputs", "").split(";") if n]
    sizes = row.get("bytes", "").split(";")
    sums = row.get("sha256", "").split(";")
    if not names or len(sizes) != len(names) or len(sums) != len(names):
        return "the manifest row lists no outputs"
    for name, size, digest in zip(names, sizes, sums, strict=True):
        p = os.path.join(folder, name)
        if not os.path.isfile(p):
            return f"{name} is missing"
        if str(os.path.getsize(p)) != size:
            return f"{name} has changed size"
        if checksum and sha256(p) != digest:
            return f"{name} has changed contents"
    return None


def clean_temporaries(folder: str) -> list[str]:
    """Remove the temporary files that killed runs left in the output folder (core.atomic.sweep_stale: only
    those whose writing process is gone, whatever their age)."""
    return sweep_stale(folder, 0.0)


@contextlib.contextmanager
def folder_lock(folder: str) -> Iterator[None]:
    """Hold an exclusive lock on the output folder (released by the system if this process dies)."""
    import fcntl

    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(os.path.join(folder, LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"{folder}: cannot write the archive output here ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(f"{folder}: another archive run is writing into this folder; wait for it or choose "
                             "another output folder") from None
        yield
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(os.path.join(folder, LOCK))


def build_vrts(folder: str, rows: Sequence[dict], quantities: Sequence[str]) -> list[str]:
    """A VRT per quantity over the finished outputs, one band per product in date order (described by
    its date and pass); written atomically."""
    from osgeo import gdal

    gdal.UseExceptions()
    done = sorted((r for r in rows if r.get("status") in DONE), key=lambda r: (r.get("date", ""), r["key"]))
    out = []
    for q in quantities:
        target = os.path.join(folder, f"{q}.vrt")
        names = [n for r in done for n in r["outputs"].split(";") if n.endswith(f"_{q}.tif")]
        labels = [f"{r.get('date', '')} {r.get('pass', '')}".strip() for r in done
                  for n in r["outputs"].split(";") if n.endswith(f"_{q}.tif")]
        if not names:
            continue
        with atomic_output(target, ".vrt") as tmp:
            os.remove(tmp)  # BuildVRT creates the file itself
            ds = gdal.BuildVRT(tmp, [os.path.join(folder, n) for n in names], separate=True)
            for i, label in enumerate(labels, start=1):
                ds.GetRasterBand(i).SetDescription(label)
            ds.SetMetadataItem("quantity", q)
            ds = None
        out.append(target)
    return out
