"""Atomic file output: write beside the destination, move into place only when complete.

Every smapdown writer (GeoTIFF, HDF5, JSON/HTML, PNG, model files) goes through here, so a failure or a
cancel never leaves a partial file under the user's name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

from .errors import InputError


def temp_beside(path: str, suffix: str = "") -> str:
    """Create (empty) and return a hidden temporary file in ``path``'s folder, creating the folder."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".smapdown-", suffix=suffix, dir=folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot write here ({exc.strerror})") from None
    os.close(fd)
    return tmp


def _process_umask() -> int:
    """The umask, read once at import (setting it to read it back is not thread-safe later, when QGIS runs
    algorithms in worker threads)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _process_umask()


def publish(tmp: str, path: str) -> None:
    """Move a finished temporary file onto ``path`` with the permissions a plain new file would get
    (``mkstemp`` makes it private, 0600; the user's umask decides, as for any file they write)."""
    with contextlib.suppress(OSError):  # best effort: some file systems do not keep modes
        os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        os.replace(tmp, os.path.abspath(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the output here ({exc.strerror})") from None


def discard(tmp: str) -> None:
    """Remove a temporary file (and a GDAL .aux.xml beside it) if present."""
    for p in (tmp, tmp + ".aux.xml"):
        if os.path.exists(p):
            os.remove(p)


@contextlib.contextmanager
def atomic_output(path: str, suffix: str = "") -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on any error it is removed."""
    tmp = temp_beside(path, suffix)
    try:
        yield tmp
        publish(tmp, path)
    except BaseException:
        discard(tmp)
        raise
