"""Atomic file output: write beside the destination, move into place only when complete.

Every smapdown writer (GeoTIFF, HDF5, JSON/HTML, PNG, model files) goes through here, so a failure or a
cancel never leaves a partial file under the user's name. Temporary files are hidden (``.smapdown-<pid>-…``,
the pid of the writing process recorded in the name) and live beside their destination; those a killed
process left behind are swept by the next write in that folder (:func:`sweep_stale`).

A run with several outputs stages them all in an :class:`OutputSet` and moves them into place only when every
one was written (all or nothing); a run that writes a whole folder of files (``simulate``'s day set) writes it
through :func:`staged_folder`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator

from .errors import InputError

TEMP_PREFIX = ".smapdown-"
#: a temporary file of a dead process is swept once it is this old (s); one of a live process never
STALE_AFTER_S = 60.0
MANIFEST = "smapdown-manifest.json"
_OLD_SEP = "~was~"  # backups of a commit in progress: .smapdown-<pid>-old-XXXX~was~<destination name>
_swept: dict[str, float] = {}
_swept_lock = threading.Lock()


def _prefix() -> str:
    return f"{TEMP_PREFIX}{os.getpid()}-"


def temp_beside(path: str, suffix: str = "") -> str:
    """Create (empty) and return a hidden temporary file in ``path``'s folder, creating the folder.

    Stale temporaries of dead processes in that folder are swept first (at most once a minute per folder)."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    try:
        os.makedirs(folder, exist_ok=True)
        _sweep_now_and_then(folder)
        fd, tmp = tempfile.mkstemp(prefix=_prefix(), suffix=suffix, dir=folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot write here ({exc.strerror})") from None
    os.close(fd)
    return tmp


def _pid_of(name: str) -> int | None:
    """The pid recorded in a temporary's name (``.smapdown-<pid>-…``), or None (older names)."""
    rest = name[len(TEMP_PREFIX):]
    head = rest.split("-", 1)[0]
    return int(head) if head.isdigit() and "-" in rest else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    except OSError:
        return True
    return True


def sweep_stale(folder: str, min_age_s: float = STALE_AFTER_S) -> list[str]:
    """Remove ``.smapdown-*`` temporaries (files or staging folders) in ``folder`` left by killed runs.

    Only entries at least ``min_age_s`` old whose recorded writer process is gone (or that record none) are
    removed; a live writer's are never touched. Returns the paths removed."""
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        if not name.startswith(TEMP_PREFIX):
            continue
        p = os.path.join(folder, name)
        pid = _pid_of(name)
        try:
            age = now - os.lstat(p).st_mtime
        except OSError:
            continue
        if age < min_age_s or (pid is not None and _alive(pid)):
            continue
        if _OLD_SEP in name:  # an earlier version moved aside by a commit that was killed: restore it if missing
            final = os.path.join(folder, name.split(_OLD_SEP, 1)[1])
            if not os.path.exists(final):
                with contextlib.suppress(OSError):
                    os.replace(p, final)
                    removed.append(p)
                    continue
        with contextlib.suppress(OSError):
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.remove(p)
            removed.append(p)
    return removed


def _sweep_now_and_then(folder: str) -> None:
    with _swept_lock:
        last = _swept.get(folder, 0.0)
        if time.time() - last < 60.0:
            return
        _swept[folder] = time.time()
    sweep_stale(folder)


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


def same_file(a: str, b: str) -> bool:
    """Whether paths ``a`` and ``b`` name the same file (symlinks, '..', hard links resolved)."""
    if not a or not b:
        return False
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def refuse_overwriting_inputs(outputs: dict[str, str | None], inputs: dict[str, str | None]) -> None:
    """InputError naming both parameters when an output path resolves to an input file (never write over an
    input), or when two outputs share one path. ``outputs`` / ``inputs``: {parameter name: path or None}."""
    seen: dict[str, str] = {}
    for oname, opath in outputs.items():
        if not opath:
            continue
        for iname, ipath in inputs.items():
            if ipath and same_file(opath, ipath):
                raise InputError(f"{oname} ({opath}) is the input {iname}: smapdown never writes over an input; "
                                 "choose another output file")
        key = os.path.realpath(opath)
        if key in seen:
            raise InputError(f"{oname} and {seen[key]} are the same file ({opath}); give each output its own path")
        seen[key] = oname


class OutputSet:
    """All outputs of one run, moved into place together only when every one was written.

    ::

        with OutputSet() as out:
            write_geotiff(out.stage(final_tif), ...)
            write_report(out.stage(final_json), ...)
        # here every final path holds its new file; after an exception (cancel included) none was touched

    ``stage(path)`` returns a hidden temporary beside ``path`` to write instead. On a clean exit all are
    published: existing destinations are first moved aside, so a failure while publishing restores them and
    removes the new files. On an exception every temporary is removed and no destination changes.
    ``inputs``: {parameter: path} of the run's inputs; staging an output onto one is refused by name.
    """

    def __init__(self, inputs: dict[str, str | None] | None = None) -> None:
        self.inputs = dict(inputs or {})
        self.staged: list[tuple[str, str]] = []  # (temporary, final)
        self.published: list[str] = []

    def stage(self, path: str, suffix: str | None = None, name: str = "output") -> str:
        """A temporary path to write ``path``'s content to (same folder, same extension by default)."""
        final = os.path.abspath(path)
        refuse_overwriting_inputs({name: final}, self.inputs)
        if any(os.path.realpath(f) == os.path.realpath(final) for _, f in self.staged):
            raise InputError(f"{path}: given for two outputs of one run; give each output its own path")
        tmp = temp_beside(final, os.path.splitext(final)[1] if suffix is None else suffix)
        self.staged.append((tmp, final))
        return tmp

    def discard(self) -> None:
        """Remove every temporary (and GDAL .aux.xml side files)."""
        for tmp, _ in self.staged:
            with contextlib.suppress(OSError):
                discard(tmp)
        self.staged = []

    def commit(self) -> list[str]:
        """Move every staged file into place (all or nothing); returns the final paths."""
        missing = [f for t, f in self.staged if not os.path.exists(t)]
        if missing:
            self.discard()
            raise InputError(f"{missing[0]}: its output was never written; nothing was published")
        backups: list[tuple[str, str]] = []
        done: list[str] = []
        try:
            for _, final in self.staged:  # move existing destinations aside first
                if os.path.exists(final):
                    fd, bak = tempfile.mkstemp(prefix=_prefix() + "old-", suffix=_OLD_SEP + os.path.basename(final),
                                               dir=os.path.dirname(final))
                    os.close(fd)
                    os.replace(final, bak)
                    backups.append((bak, final))
            for tmp, final in self.staged:
                publish(tmp, final)
                done.append(final)
        except BaseException:
            for final in done:
                with contextlib.suppress(OSError):
                    os.remove(final)
            for bak, final in backups:
                with contextlib.suppress(OSError):
                    os.replace(bak, final)
            self.discard()
            raise
        for bak, _ in backups:
            with contextlib.suppress(OSError):
                os.remove(bak)
        self.published = done
        self.staged = []
        return done

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()
            return
        self.commit()


@contextlib.contextmanager
def staged_folder(folder: str, replace: bool = False, manifest: dict | None = None) -> Iterator[str]:
    """Write a run's whole set of files (e.g. ``simulate``'s days) into a hidden staging folder, yielded, and
    move them into ``folder`` only when the block finished: all files or none.

    When ``folder`` is absent or empty the staging folder is renamed onto it (one atomic step). Otherwise the
    files are moved in one by one; with ``replace`` False an existing file of the same name is refused
    before anything moves (an earlier run's files are never replaced unless asked). A manifest
    (:data:`MANIFEST`: the files and ``manifest``'s entries) is written last, so a set without one is
    incomplete. On an exception (cancel included) the staging folder is removed and ``folder`` is unchanged.
    """
    folder = os.path.abspath(folder)
    parent = os.path.dirname(folder)
    try:
        os.makedirs(parent, exist_ok=True)
        _sweep_now_and_then(parent)
        if os.path.isdir(folder):
            _sweep_now_and_then(folder)
        stage = tempfile.mkdtemp(prefix=_prefix() + "run-", dir=parent)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create the output folder ({exc.strerror})") from None
    try:
        yield stage
        files = sorted(os.path.relpath(os.path.join(d, n), stage) for d, _, ns in os.walk(stage) for n in ns)
        entry = {"complete": True, "files": files, **(manifest or {})}
        with open(os.path.join(stage, MANIFEST), "w", encoding="utf-8") as f:
            json.dump(entry, f, indent=1)
        empty = os.path.isdir(folder) and not os.listdir(folder)
        if not os.path.exists(folder) or empty:
            os.chmod(stage, 0o777 & ~_UMASK)
            os.replace(stage, folder)
            return
        if not os.path.isdir(folder):
            raise InputError(f"{folder}: exists and is not a folder")
        clash = [r for r in [*files, MANIFEST] if os.path.exists(os.path.join(folder, r)) and r != MANIFEST]
        if clash and not replace:
            raise InputError(f"{folder}: already holds {len(clash)} file(s) of an earlier run (e.g. {clash[0]}); "
                             "choose an empty folder or ask to replace them")
        for rel in [*files, MANIFEST]:  # the manifest last: a set without one is incomplete
            dst = os.path.join(folder, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            publish(os.path.join(stage, rel), dst)
        shutil.rmtree(stage, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def leftover_temps(folders: Iterable[str]) -> list[str]:
    """``.smapdown-*`` entries in ``folders`` (for tests and checks after a run)."""
    out: list[str] = []
    for d in folders:
        with contextlib.suppress(OSError):
            out += [os.path.join(d, n) for n in os.listdir(d) if n.startswith(TEMP_PREFIX)]
    return out


def moved(paths: Iterable[str], stage: str, folder: str) -> list[str]:
    """Where ``paths`` written inside a :func:`staged_folder` stage lie once moved into ``folder``."""
    return [os.path.join(os.path.abspath(folder), os.path.relpath(p, stage)) for p in paths]
