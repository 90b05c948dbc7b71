"""Archive runs, planning: which products and passes to compute, by file name, date and contents (see
workflows.archive)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..core.errors import InputError, NoDataError
from ..core.feedback import SILENT, Feedback

_DATE_TIME = re.compile(r"(?<!\d)(\d{8}T\d{6})(?!\d)")
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
_JULIAN = re.compile(r"\.A((?:19|20)\d{2})(\d{3})\.")  # MODIS: MOD11A1.A2019305.h14v09...
_ORBIT = re.compile(r"_([AD])_\d{8}T")  # SMAP half orbits: ..._24342_A_20190822T224858_...


# --- jobs ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """One task: a product file and the pass to read from it."""

    key: str
    """Output name stem: ``YYYYMMDD_<pass>`` or ``YYYYMMDDTHHMMSS_<orbit>``; unique within a run."""
    path: str
    date: str
    """ISO date, '' when neither the file name nor the file says."""
    pass_: str | None
    """What the reader is asked for: 'AM'/'PM' for daily products with both passes, None otherwise."""
    pass_label: str
    lst: str | None = None
    """Case 2: the LST file of the same date."""


@dataclass(frozen=True)
class Settings:
    """What every task needs besides its job (sent once to each worker)."""

    output: str
    case: str = "tb"
    model: str | None = None
    device: str = "auto"
    bf16: bool = False
    tile: int = 256
    mean_preserve: bool = True
    extent: tuple[float, float, float, float] | None = None
    extent_crs: str | None = None
    grid: str = "M03"
    static: str | None = None
    ancillary: tuple[str, ...] = ()
    threads: int = 1
    """Torch threads per product: fixed, so the bits of an output do not depend on how many workers ran."""

    def fingerprint(self) -> str:
        """A short hash of everything that changes the outputs (model file identity included)."""
        d = asdict(self)
        d.pop("output")
        model = self.model or _default_model(self.case)
        with contextlib.suppress(OSError):
            st = os.stat(model)
            d["model_file"] = [os.path.realpath(model), st.st_size, st.st_mtime_ns]
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _default_model(case: str) -> str:
    from ..core.files import DEFAULT_SM_MODEL, DEFAULT_TB_MODEL

    return DEFAULT_SM_MODEL if case == "sm" else DEFAULT_TB_MODEL


def file_date(path: str) -> dt.date | None:
    """The observation date in a SMAP/MODIS/simulated file name (YYYYMMDD, or MODIS's AYYYYDDD), or None."""
    name = os.path.basename(path)
    m = _DATE_TIME.search(name)
    if m:
        return dt.date(int(m.group(1)[:4]), int(m.group(1)[4:6]), int(m.group(1)[6:8]))
    m = _JULIAN.search(name)
    if m:
        return dt.date(int(m.group(1)), 1, 1) + dt.timedelta(days=int(m.group(2)) - 1)
    m = _DATE.search(name)
    if m:
        with contextlib.suppress(ValueError):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def _date_from_contents(path: str) -> dt.date | None:
    """The date a product or raster states inside (slower: opens the file)."""
    from ..core import smap
    from ..core.inputs import is_raster, parse_date

    if is_raster(path):
        from ..core.raster import read_ease_raster

        return parse_date(read_ease_raster(path).metadata.get("date"))
    with contextlib.suppress(NoDataError):
        return smap.read_smap(path, variables=["tb_v"]).date
    return None


def expand_inputs(inputs: str | os.PathLike | Sequence[str]) -> list[str]:
    """Files from folders (their 36 km TB products), paths, ';'-separated strings and ``@list.txt`` files
    (one path a line, '#' comments)."""
    from ..core.files import kind_filter, list_files

    items = [os.fspath(inputs)] if isinstance(inputs, str | os.PathLike) else [os.fspath(i) for i in inputs]
    flat: list[str] = []
    for item in items:
        for part in str(item).split(";"):
            part = part.strip()
            if part.startswith("@"):
                try:
                    with open(part[1:], encoding="utf-8") as fh:
                        flat += [ln.strip() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
                except OSError as exc:
                    raise InputError(f"{part[1:]}: cannot read the list of products ({exc.strerror})") from None
            elif part:
                flat.append(part)
    exts = (".h5", ".he5", ".hdf5", ".tif", ".tiff")
    return list_files(flat, exts, accept=kind_filter("tb36"))


def plan_jobs(inputs: str | os.PathLike | Sequence[str], start: dt.date | None = None, end: dt.date | None = None,
              passes: Sequence[str] = ("AM", "PM"), lst: str | Sequence[str] | None = None,
              feedback: Feedback = SILENT) -> list[Job]:
    """The jobs of an archive run, in date order: one per product file, and per pass for daily products
    that hold both. ``start``/``end`` (inclusive) keep the files of those dates; ``lst`` (case 2) pairs each
    job with the LST file of its date (a job without one has ``lst=None``)."""
    from ..core import smap
    from ..core.inputs import is_raster

    files = expand_inputs(inputs)
    if not files:
        raise InputError(f"{inputs}: no SMAP 36 km TB product found")
    passes = [p.strip().upper() for p in passes]
    bad = [p for p in passes if p not in ("AM", "PM")]
    if bad or not passes:
        raise InputError(f"passes must be AM and/or PM, got {', '.join(bad) or 'none'}")
    lst_by_date = _lst_by_date(lst) if lst else {}
    jobs: list[Job] = []
    for path in files:
        date = file_date(path) or _date_from_contents(path)
        if date is not None and ((start and date < start) or (end and date > end)):
            continue
        if date is None and (start or end):
            feedback.info(f"{path}: no date in its name or contents; left out of the date range")
            continue
        day = date.strftime("%Y%m%d") if date else os.path.splitext(os.path.basename(path))[0]
        lst_path = lst_by_date.get(date) if date else None
        if is_raster(path):
            jobs.append(Job(f"{day}", path, date.isoformat() if date else "", None, "", lst_path))
            continue
        spec = smap.PRODUCTS[smap.identify(path)]
        if spec.passes:
            for p in passes:
                jobs.append(Job(f"{day}_{p}", path, date.isoformat() if date else "", p, p, lst_path))
        else:
            name = os.path.basename(path)
            t, orbit = _DATE_TIME.search(name), _ORBIT.search(name)
            label = orbit.group(1) if orbit else ""
            stem = t.group(1) if t else os.path.splitext(name)[0]
            jobs.append(Job(f"{stem}_{label}" if label else stem, path, date.isoformat() if date else "", None,
                            label, lst_path))
    seen: dict[str, str] = {}
    for j in jobs:
        if j.key in seen and seen[j.key] != j.path:
            raise InputError(f"{seen[j.key]} and {j.path} would both be written as {j.key}: give only one "
                             "product per date and pass")
        seen[j.key] = j.path
    return sorted(jobs, key=lambda j: (j.date, j.key))


def _lst_by_date(lst: str | Sequence[str]) -> dict[dt.date, str]:
    from ..core.files import kind_filter, list_files

    files = list_files(lst, (".hdf", ".hdf4", ".tif", ".tiff"), accept=kind_filter("lst"))
    out: dict[dt.date, str] = {}
    for f in files:
        d = file_date(f) or _date_from_contents(f)
        if d is not None:
            out.setdefault(d, f)
    if not out:
        raise InputError(f"{lst}: no LST file with a date in its name or metadata")
    return out
