"""The parts of a model card (see :mod:`smapdown.model.card`): bands, normalisation, location window, the typed
training and validation records, and the immutable JSON values they hold.

Every problem is a :class:`ModelError` whose sentence starts with the file being read (``WHERE``, set by
:meth:`ModelCard.from_dict <smapdown.model.card.ModelCard.from_dict>`).
"""

from __future__ import annotations

import contextvars
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..core.errors import InputError

__all__ = ["Band", "FrozenDict", "Location", "ModelError", "Normalisation", "TrainingRecord", "ValidationRecord",
           "freeze", "thaw"]


class ModelError(InputError):
    """A model file that cannot be used: unreadable, not ours, unsafe, or its card and weights disagree."""


WHERE: contextvars.ContextVar[str] = contextvars.ContextVar("card_where", default="the model card")


# ------------------------------------------------------------------------------------------- frozen JSON
class FrozenDict(dict):
    """A JSON object that cannot be changed (json.dumps and == treat it as the dict it is)."""

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a model card is immutable: build a changed one with ModelCard.merged()")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple:  # pickle (Dask workers) without going through the refused __setitem__
        return (FrozenDict, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(json.dumps(self, sort_keys=True))


def freeze(obj: Any) -> Any:
    """An immutable copy of a JSON value (objects become :class:`FrozenDict`, arrays tuples)."""
    if isinstance(obj, Mapping):
        return FrozenDict({str(k): freeze(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple):
        return tuple(freeze(v) for v in obj)
    return obj


def thaw(obj: Any) -> Any:
    """A plain, mutable copy of a JSON value (dicts and lists)."""
    if isinstance(obj, Mapping):
        return {k: thaw(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [thaw(v) for v in obj]
    return obj


def problem(why: str) -> ModelError:
    """A :class:`ModelError` whose sentence starts with the file being read (``WHERE``)."""
    return ModelError(f"{WHERE.get()}: {why}")


def is_int(v: object) -> bool:
    """An integer, not a bool."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: object) -> bool:
    """A finite int or float, not a bool."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


# ------------------------------------------------------------------------------------------- parts
@dataclass(frozen=True)
class Band:
    """One input or output band: its name (a quantity of core.physical, e.g. 'tb_v'), units and role
    ('residual': added to the output, 'predictor', 'target'; '' when a card did not say)."""

    name: str
    units: str = ""
    role: str = ""

    @classmethod
    def from_dict(cls, d: object) -> Band:
        """A band of a card's JSON (``{"name", "units", "role"}``)."""
        if not isinstance(d, Mapping) or not isinstance(d.get("name"), str):
            raise problem(f"a band must be an object with a 'name', got {d!r}")
        units, role = d.get("units", ""), d.get("role", "")
        if not isinstance(units, str) or not isinstance(role, str):
            raise problem(f"band {d['name']!r}: units and role must be text, got {units!r} / {role!r}")
        return cls(d["name"], units, role)

    def to_dict(self) -> dict:
        """The band's JSON."""
        return {"name": self.name, "units": self.units, "role": self.role}


@dataclass(frozen=True)
class Normalisation:
    """Per-band statistics: physical = normalised * std + mean."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def to_dict(self) -> dict:
        """``{"mean": [...], "std": [...]}``."""
        return {"mean": list(self.mean), "std": list(self.std)}

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) as float32 arrays."""
        return np.asarray(self.mean, np.float32), np.asarray(self.std, np.float32)


@dataclass(frozen=True)
class Location:
    """The window a location-specific model was trained on: a window of a global EASE-Grid 2.0 grid
    (``core.grid.Grid(grid, row_off, col_off, rows, cols)``), in the model's fine-grid pixels."""

    grid: str
    row_off: int
    col_off: int
    rows: int
    cols: int

    @classmethod
    def of(cls, grid: Any) -> Location:
        """The location of a ``core.grid.Grid`` window (anything with name, row_off, col_off, rows, cols)."""
        return cls(str(grid.name), int(grid.row_off), int(grid.col_off), int(grid.rows), int(grid.cols))

    @classmethod
    def from_dict(cls, d: object) -> Location:
        """The location of a card's JSON; :class:`ModelError` unless it is a window of whole pixels."""
        keys = ("row_off", "col_off", "rows", "cols")
        if (not isinstance(d, Mapping) or not isinstance(d.get("grid"), str) or not all(is_int(d.get(k))
                                                                                       for k in keys)
                or d["row_off"] < 0 or d["col_off"] < 0 or d["rows"] < 1 or d["cols"] < 1):
            raise problem(f"its 'location' must be {{'grid', 'row_off', 'col_off', 'rows', 'cols'}} with "
                           f"offsets >= 0 and sizes >= 1, got {d!r}")
        return cls(d["grid"], *(int(d[k]) for k in keys))

    def to_dict(self) -> dict:
        """The location's JSON."""
        return {"grid": self.grid, "row_off": self.row_off, "col_off": self.col_off, "rows": self.rows,
                "cols": self.cols}


_STR, _INT, _NUM, _BOOL, _MAP = "text", "an integer", "a number", "true or false", "an object"
_CHECKS = {_STR: lambda v: isinstance(v, str), _INT: is_int, _NUM: is_number,
           _BOOL: lambda v: isinstance(v, bool), _MAP: lambda v: isinstance(v, Mapping)}


class _Record:
    """Typed fields (None: the card does not say) plus ``details``: every other key, kept as it was written.

    A key given as null stays in ``details`` (so a card reads back exactly as it was written)."""

    KINDS: dict[str, str] = {}
    details: Mapping[str, Any]

    @classmethod
    def from_dict(cls, d: object, what: str):  # noqa: ANN206 - the subclass
        if not isinstance(d, Mapping):
            raise problem(f"its '{what}' must be a JSON object, got {type(d).__name__}")
        typed, details = {}, {}
        for k, v in d.items():
            kind = cls.KINDS.get(k)
            if kind is None or v is None:
                details[k] = v
            elif not _CHECKS[kind](v):
                raise problem(f"{what}.{k} must be {kind}, got {v!r}")
            else:
                typed[k] = freeze(v)
        return cls(**typed, details=freeze(details))

    def to_dict(self) -> dict:
        out = {f.name: thaw(getattr(self, f.name)) for f in fields(self)  # type: ignore[arg-type]
               if f.name != "details" and getattr(self, f.name) is not None}
        return {**out, **thaw(self.details)}


@dataclass(frozen=True)
class TrainingRecord(_Record):
    """How the weights were made: the recipe train() records, and what the caller said about the data."""

    case: str | None = None
    """What the model was trained for as its trainer named it ('tb', 'soil moisture', 'sm', ...)."""
    data: str | None = None
    """'simulated', 'real' or 'mixed simulated and real'."""
    grid: str | None = None
    """The fine grid trained on (M09, M03)."""
    location_specific: bool | None = None
    processes: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    loss: str | None = None
    l2: Mapping[str, Any] | None = None
    epochs: int | None = None
    epochs_done: int | None = None
    canceled: bool | None = None
    batch_size: int | None = None
    patch: int | None = None
    patches_per_epoch: int | None = None
    min_valid_fraction: float | None = None
    seed: int | None = None
    precision: str | None = None
    device: str | None = None
    threads: int | None = None
    torch_version: str | None = None
    days: int | None = None
    first_date: str | None = None
    last_date: str | None = None
    train_mae: Mapping[str, float | None] | None = None
    """Per output band, physical units, of the last epoch."""
    seconds: float | None = None
    host_cpus: int | None = None
    details: Mapping[str, Any] = field(default_factory=FrozenDict)

    KINDS = {"case": _STR, "data": _STR, "grid": _STR, "location_specific": _BOOL, "processes": _INT,
             "optimizer": _STR, "lr": _NUM, "loss": _STR, "l2": _MAP, "epochs": _INT, "epochs_done": _INT,
             "canceled": _BOOL, "batch_size": _INT, "patch": _INT, "patches_per_epoch": _INT,
             "min_valid_fraction": _NUM, "seed": _INT, "precision": _STR, "device": _STR, "threads": _INT,
             "torch_version": _STR, "days": _INT, "first_date": _STR, "last_date": _STR, "train_mae": _MAP,
             "seconds": _NUM, "host_cpus": _INT}


@dataclass(frozen=True)
class ValidationRecord(_Record):
    """How good the weights are on the held-out days (and whatever evaluations were added later)."""

    days: int | None = None
    first_date: str | None = None
    last_date: str | None = None
    mae: Mapping[str, float | None] | None = None
    """Per output band, physical units, on whole validation images."""
    mae_baseline: Mapping[str, float | None] | None = None
    pixels: Mapping[str, int] | None = None
    method: str | None = None
    baseline: str | None = None
    note: str | None = None
    details: Mapping[str, Any] = field(default_factory=FrozenDict)

    KINDS = {"days": _INT, "first_date": _STR, "last_date": _STR, "mae": _MAP, "mae_baseline": _MAP,
             "pixels": _MAP, "method": _STR, "baseline": _STR, "note": _STR}
