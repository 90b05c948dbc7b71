"""The model card: what a set of weights is, typed, validated and serialised in one place.

A :class:`ModelCard` is immutable. It is made only by :meth:`ModelCard.from_dict` (a card read from a file or
assembled by the training loop) or :meth:`ModelCard.for_network`; both run the same checks (sizes, band
counts, finite and plausible normalisation, known upsampling, location window) and raise
:class:`ModelError` with a sentence naming the file. :meth:`ModelCard.to_dict` / :meth:`ModelCard.to_json`
give back the JSON form stored in ``.pt`` files and written beside them as ``.json``::

    {"architecture": {"class": "DownscaleCNN", "kwargs": {...}},
     "inputs": [{"name", "units", "role"}, ...], "outputs": [...],          # band order
     "normalisation": {"inputs": {"mean": [...], "std": [...]}, "outputs": {...}},  # physical = n * std + mean
     "mask_channels": [...],            # optional: input bands whose validity makes an output pixel valid
     "input_upsampling": "bicubic" | "nearest",   # how coarse inputs reach the fine grid (absent: bicubic)
     "location": {"grid", "row_off", "col_off", "rows", "cols"},   # location-specific models only
     "training": {...}, "validation": {...},   # how the weights were made and how good they are
     "code_version": "0.1.0", ...}           # other top-level keys (a gate, a licence) are kept as they are

Files written before this class existed load unchanged: every key they carry maps onto a typed field or is
kept verbatim (``details`` of the training / validation records, ``extra`` at the top level), so
``ModelCard.from_dict(d).to_dict() == d`` for them (tests/test_model.py checks the bundled models and
tests/data/wald). What code reads (band names, case, upsampling, location window, metric output names) is a
property here, never a dictionary look-up elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.physical import plausible_normalisation
from .card_parts import (
    WHERE,
    Band,
    FrozenDict,
    Location,
    ModelError,
    Normalisation,
    TrainingRecord,
    ValidationRecord,
    freeze,
    is_int,
    is_number,
    problem,
    thaw,
)

__all__ = ["ARCHITECTURE", "Band", "Location", "ModelCard", "ModelError", "Normalisation", "TrainingRecord",
           "ValidationRecord", "metric_output_names"]

ARCHITECTURE = "DownscaleCNN"
REQUIRED_CARD_FIELDS = ("architecture", "inputs", "outputs", "normalisation", "training", "validation",
                        "code_version")
UPSAMPLING = ("bicubic", "nearest")
# plausible sizes of a DownscaleCNN (the poster's is 64 features, 7 groups, 2 in / 2 out)
KWARG_LIMITS = {"in_channels": 64, "out_channels": 16, "features": 1024, "groups": 64, "layers_per_group": 16,
                "dilation": 64}
MAX_LOCATION_SIDE = 14616  # rows of the global M01 grid
METRIC_STATS = ("mae", "rmse", "bias", "ubrmse", "r")
"""The agreement statistics reported per band and method (core.metrics.compare's keys)."""


def metric_output_names(bands: Iterable[str], methods: Iterable[str] = ("cnn", "bicubic")) -> list[str]:
    """Algorithm output names of agreement metrics, e.g. 'MAE_CNN_TB_V': statistic, method, band (upper case),
    statistic-major as the downscale algorithm declares them."""
    bands, methods = list(bands), list(methods)
    return [f"{s}_{m}_{b}".upper() for s in METRIC_STATS for m in methods for b in bands]


# ------------------------------------------------------------------------------------------- the card
@dataclass(frozen=True)
class ModelCard:
    """Everything needed to use a set of weights, and where they came from (see the module docstring)."""

    network: Mapping[str, Any]
    """The DownscaleCNN keyword arguments the network is rebuilt from (``architecture.kwargs``)."""
    inputs: tuple[Band, ...]
    outputs: tuple[Band, ...]
    input_norm: Normalisation
    output_norm: Normalisation
    training: TrainingRecord
    validation: ValidationRecord
    code_version: str
    mask_channels: tuple[int, ...] | None = None
    """Input bands that must be valid for an output pixel to be valid (None: the first out_channels)."""
    input_upsampling: str = "bicubic"
    location: Location | None = None
    extra: Mapping[str, Any] = field(default_factory=FrozenDict)
    """Other top-level keys, kept as written (e.g. the bundled TB model's 'gate')."""

    def __post_init__(self) -> None:
        why = self.problem()
        if why:
            raise problem(why)

    def __hash__(self) -> int:
        return hash(self.to_json())

    # ---------------------------------------------------------------- building
    @classmethod
    def from_dict(cls, card: object, where: str = "the model card") -> ModelCard:
        """The card of a JSON object; :class:`ModelError` naming ``where`` when it is incomplete, of the wrong
        types or inconsistent (band counts, normalisation, sizes, upsampling, mask, location)."""
        token = WHERE.set(where)
        try:
            return cls._parse(card)
        finally:
            WHERE.reset(token)

    @classmethod
    def _parse(cls, card: object) -> ModelCard:
        if not isinstance(card, Mapping):
            raise problem("the model card is not a JSON object.")
        missing = [k for k in REQUIRED_CARD_FIELDS if k not in card]
        if missing:
            raise problem(f"the model card lacks the field(s) {', '.join(missing)}.")
        arch = card["architecture"]
        if not isinstance(arch, Mapping) or arch.get("class") != ARCHITECTURE or not isinstance(
                arch.get("kwargs"), Mapping):
            raise problem(f"the card's architecture must be {{'class': '{ARCHITECTURE}', 'kwargs': {{...}}}}, "
                           f"got {thaw(arch)!r}.")
        kw = arch["kwargs"]
        n_in, n_out = kw.get("in_channels", 2), kw.get("out_channels", 2)
        bands = {}
        for key, n in (("inputs", n_in), ("outputs", n_out)):
            b = card[key]
            if not isinstance(b, list | tuple) or len(b) != n or not all(
                    isinstance(x, Mapping) and "name" in x for x in b):
                raise problem(f"the card lists {len(b) if isinstance(b, list | tuple) else '?'} {key} but the "
                               f"network has {n}; each needs at least a 'name'.")
            bands[key] = tuple(Band.from_dict(x) for x in b)
        norm = card["normalisation"]
        stats = {}
        for key, n in (("inputs", n_in), ("outputs", n_out)):
            part = norm.get(key) if isinstance(norm, Mapping) else None
            if not isinstance(part, Mapping):
                raise problem(f"the card's normalisation lacks '{key}'.")
            for stat in ("mean", "std"):
                vals = part.get(stat)
                if (not isinstance(vals, list | tuple) or not is_int(n) or len(vals) != n
                        or not all(is_number(v) for v in vals)):
                    raise problem(f"normalisation {key}.{stat} must be {n} finite numbers, got {vals!r}.")
            stats[key] = Normalisation(tuple(float(v) for v in part["mean"]), tuple(float(v) for v in part["std"]))
        mask = card.get("mask_channels")
        if mask is not None and (not isinstance(mask, list | tuple) or not all(is_int(i) for i in mask)):
            raise problem(f"mask_channels must list input band indices below {n_in}, got {mask!r}.")
        upsampling = card.get("input_upsampling", "bicubic")
        if not isinstance(upsampling, str):
            raise problem(f"input_upsampling must be 'bicubic' or 'nearest', got {upsampling!r}.")
        version = card["code_version"]
        if not isinstance(version, str):
            raise problem(f"code_version must be text, got {version!r}.")
        loc = card.get("location")
        known = set(REQUIRED_CARD_FIELDS) | {"mask_channels", "input_upsampling", "location"}
        return cls(
            network=freeze(kw), inputs=bands["inputs"], outputs=bands["outputs"],
            input_norm=stats["inputs"], output_norm=stats["outputs"],
            training=TrainingRecord.from_dict(card["training"], "training"),
            validation=ValidationRecord.from_dict(card["validation"], "validation"),
            code_version=version, mask_channels=tuple(mask) if mask is not None else None,
            input_upsampling=upsampling, location=Location.from_dict(loc) if loc is not None else None,
            extra=freeze({k: v for k, v in card.items() if k not in known}))

    @classmethod
    def for_network(cls, network: Mapping[str, Any], inputs: Sequence[Band], outputs: Sequence[Band],
                    input_norm: Normalisation, output_norm: Normalisation, *, code_version: str,
                    mask_channels: Sequence[int] | None = None, input_upsampling: str = "bicubic",
                    location: Location | Mapping[str, Any] | None = None, training: Mapping[str, Any] | None = None,
                    validation: Mapping[str, Any] | None = None, extra: Mapping[str, Any] | None = None
                    ) -> ModelCard:
        """A card for a network's ``config`` (its DownscaleCNN kwargs), validated like a file's."""
        return cls.from_dict({
            "architecture": {"class": ARCHITECTURE, "kwargs": dict(network)},
            "inputs": [b.to_dict() for b in inputs], "outputs": [b.to_dict() for b in outputs],
            "normalisation": {"inputs": input_norm.to_dict(), "outputs": output_norm.to_dict()},
            **({"mask_channels": list(mask_channels)} if mask_channels is not None else {}),
            "input_upsampling": input_upsampling,
            **({"location": location.to_dict() if isinstance(location, Location) else dict(location)}
               if location is not None else {}),
            "training": dict(training or {}), "validation": dict(validation or {}), "code_version": code_version,
            **dict(extra or {})})

    def merged(self, updates: Mapping[str, Any], where: str = "the model card") -> ModelCard:
        """A new card with ``updates`` applied: an object value is merged into the card's object of that key
        (``{"validation": {"held_out": ...}}`` adds one entry), any other value replaces it; validated again."""
        card = self.to_dict()
        for k, v in updates.items():
            card[k] = {**card[k], **thaw(v)} if isinstance(v, Mapping) and isinstance(card.get(k), dict) \
                else thaw(v)
        return ModelCard.from_dict(card, where)

    def problem(self) -> str | None:
        """What is inconsistent in the card, or None (the checks every card passes, however it was made)."""
        kw = self.network
        for name, limit in KWARG_LIMITS.items():
            v = kw.get(name)
            if v is not None and (not is_int(v) or not 1 <= v <= limit):
                return f"the card's architecture {name}={v!r} is not an integer in 1..{limit}."
        shape = kw.get("location_shape")
        if shape is not None and (not isinstance(shape, list | tuple) or len(shape) != 2 or not all(
                is_int(v) and 1 <= v <= MAX_LOCATION_SIDE for v in shape)):
            return f"the card's location_shape must be [rows, cols] of 1..{MAX_LOCATION_SIDE}, got {thaw(shape)!r}."
        n_in, n_out = self.in_channels, self.out_channels
        if len(self.inputs) != n_in or len(self.outputs) != n_out:
            return (f"the card lists {len(self.inputs)} inputs / {len(self.outputs)} outputs but the network has "
                    f"{n_in} / {n_out}.")
        for key, bands, norm in (("inputs", self.inputs, self.input_norm), ("outputs", self.outputs,
                                                                            self.output_norm)):
            if len(norm.mean) != len(bands) or len(norm.std) != len(bands):
                return f"normalisation {key} must have {len(bands)} means and stds."
            if any(v <= 0 for v in norm.std):
                return f"normalisation {key}.std must be positive, got {list(norm.std)!r}."
            for band, mean, std in zip(bands, norm.mean, norm.std, strict=True):
                why = plausible_normalisation(band.name, float(mean), float(std))
                if why:
                    return (f"implausible normalisation of {key[:-1]} band {band.name!r}: {why}; the card was "
                            "damaged or edited, the model cannot be used.")
        if self.input_upsampling not in UPSAMPLING:
            return f"input_upsampling must be 'bicubic' or 'nearest', got {self.input_upsampling!r}."
        mask = self.mask_channels
        if mask is not None and (not mask or not all(is_int(i) and 0 <= i < n_in for i in mask)):
            return f"mask_channels must list input band indices below {n_in}, got {list(mask)!r}."
        if self.location is not None and shape is not None and (self.location.rows, self.location.cols) != tuple(
                shape):
            return (f"its location window is {self.location.rows} x {self.location.cols} pixels but the network's "
                    f"static map is {shape[0]} x {shape[1]}.")
        return None

    # ---------------------------------------------------------------- serialising
    @property
    def architecture(self) -> dict:
        """``{"class": "DownscaleCNN", "kwargs": {...}}`` as stored."""
        return {"class": ARCHITECTURE, "kwargs": thaw(self.network)}

    def to_dict(self) -> dict:
        """The card as plain JSON-ready Python objects (new dicts and lists: changing them changes nothing)."""
        out: dict[str, Any] = {
            "architecture": self.architecture,
            "inputs": [b.to_dict() for b in self.inputs], "outputs": [b.to_dict() for b in self.outputs],
            "normalisation": {"inputs": self.input_norm.to_dict(), "outputs": self.output_norm.to_dict()}}
        if self.mask_channels is not None:
            out["mask_channels"] = list(self.mask_channels)
        out["input_upsampling"] = self.input_upsampling
        if self.location is not None:
            out["location"] = self.location.to_dict()
        out.update(training=self.training.to_dict(), validation=self.validation.to_dict(),
                   code_version=self.code_version)
        out.update(thaw(self.extra))
        return out

    def to_json(self, indent: int | None = None) -> str:
        """The card as JSON text (no NaN: :class:`ModelError` if a value is not plain JSON)."""
        try:
            return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=indent is None)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"the model card is not plain JSON ({exc}).") from None

    # ---------------------------------------------------------------- what code reads
    @property
    def in_channels(self) -> int:
        """Input bands of the network."""
        return int(self.network.get("in_channels", 2))

    @property
    def out_channels(self) -> int:
        """Output bands of the network."""
        return int(self.network.get("out_channels", 2))

    @property
    def residual(self) -> bool:
        """Whether the first ``out_channels`` inputs are added to the output (case 1, TB)."""
        return bool(self.network.get("residual", True))

    @property
    def input_names(self) -> list[str]:
        """The input band names in band order (what the caller stacks, in this order)."""
        return [b.name for b in self.inputs]

    @property
    def input_units(self) -> list[str]:
        """The input bands' units."""
        return [b.units for b in self.inputs]

    @property
    def output_names(self) -> list[str]:
        """The output band names in band order (the bands of the GeoTIFFs written from this model)."""
        return [b.name for b in self.outputs]

    @property
    def output_units(self) -> list[str]:
        """The output bands' units."""
        return [b.units for b in self.outputs]

    @property
    def extra_input_names(self) -> list[str]:
        """Inputs after TB V and H: static ancillary bands, LST and 36 km ancillary data."""
        return self.input_names[2:]

    @property
    def static_input_names(self) -> list[str]:
        """The ``static_*`` bands the model reads from a static ancillary raster ([]: it needs none)."""
        return [n for n in self.input_names if n.startswith("static_")]

    @property
    def valid_channels(self) -> list[int]:
        """Input bands that must be valid for an output pixel to be valid (default: the first out bands)."""
        return list(self.mask_channels) if self.mask_channels else list(range(self.out_channels))

    @property
    def case(self) -> str:
        """'tb' (outputs TB V and H), 'soil moisture' (one soil-moisture output) or '' (anything else), read
        from the outputs, so a model whose trainer named its case otherwise is still recognised."""
        if self.output_names[:2] == ["tb_v", "tb_h"]:
            return "tb"
        if self.output_names == ["soil_moisture"]:
            return "soil moisture"
        return ""

    @property
    def upsampling(self) -> str:
        """How inference brings the 36 km inputs to the fine grid: 'bicubic' or 'nearest'."""
        return self.input_upsampling

    @property
    def location_specific(self) -> bool:
        """Whether the network carries a static map of its training window (``location`` says where)."""
        return self.network.get("location_shape") is not None

    @property
    def trained_grid(self) -> str | None:
        """The fine grid the model was trained on (M09, M03), None when the card does not say."""
        return self.training.grid

    @property
    def training_data(self) -> str:
        """'simulated', 'real', ... ('' when the card does not say)."""
        return self.training.data or ""

    def stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(input mean, input std, output mean, output std), float32 arrays, one value per band."""
        return (*self.input_norm.arrays(), *self.output_norm.arrays())

    def metric_output_names(self, methods: Iterable[str] = ("cnn", "bicubic")) -> list[str]:
        """Algorithm output names of the agreement metrics of this model's outputs (e.g. 'MAE_CNN_TB_V')."""
        return metric_output_names(self.output_names, methods)

    def describes(self, config: Mapping[str, Any]) -> bool:
        """Whether the card's architecture is that of a network with ``config`` (DownscaleCNN.config)."""
        return all(config.get(k, thaw(v)) == thaw(v) for k, v in self.network.items()) and (
            int(config.get("out_channels", 2)) == self.out_channels)
