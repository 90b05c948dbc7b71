"""Model files: one ``.pt`` holding the weights and the model card, loaded without running any code.

File layout (a torch zip archive, written atomically)::

    {"format": "smapdown-model", "format_version": 1,
     "card": "<the model card as a JSON string>",
     "state_dict": {name: tensor}}

Loading uses ``torch.load(..., weights_only=True)`` only, so a crafted file cannot execute anything: the
restricted unpickler refuses every global that is not a tensor or a plain container.

The model card (a JSON object) carries everything needed to use the weights:

* ``architecture``: ``{"class": "DownscaleCNN", "kwargs": {...}}`` (the network is rebuilt from these);
* ``inputs`` / ``outputs``: ``[{"name", "units", "role"}]`` in band order;
* ``normalisation``: ``{"inputs": {"mean": [...], "std": [...]}, "outputs": {"mean": [...], "std": [...]}}``
  (physical = normalised * std + mean, one value per band);
* ``mask_channels``: the input bands whose validity makes an output pixel valid (optional; default the
  first ``out_channels`` bands);
* ``training``, ``validation``: how the weights were made and how good they are;
* ``code_version``: the smapdown version that wrote the file.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import torch

from ..core.atomic import atomic_output
from ..core.errors import InputError
from .network import DownscaleCNN, resolve_device

FORMAT = "smapdown-model"
FORMAT_VERSION = 1
REQUIRED_CARD_FIELDS = ("architecture", "inputs", "outputs", "normalisation", "training", "validation",
                        "code_version")


class ModelError(InputError):
    """A model file that cannot be used: unreadable, not ours, unsafe, or its card and weights disagree."""


def code_version() -> str:
    """The plugin version from metadata.txt (recorded in model cards), or "unknown"."""
    meta = Path(__file__).resolve().parents[1] / "metadata.txt"
    try:
        for line in meta.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("version="):
                return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so readers never see a half-written file."""
    with atomic_output(str(path), path.suffix or ".tmp") as tmp:
        write(Path(tmp))


def validate_card(card: dict, where: str = "the model card") -> None:
    """Check the card's fields and their consistency; :class:`ModelError` naming ``where`` if not."""
    if not isinstance(card, dict):
        raise ModelError(f"{where}: the model card is not a JSON object.")
    missing = [k for k in REQUIRED_CARD_FIELDS if k not in card]
    if missing:
        raise ModelError(f"{where}: the model card lacks the field(s) {', '.join(missing)}.")
    arch = card["architecture"]
    if not isinstance(arch, dict) or arch.get("class") != "DownscaleCNN" or not isinstance(
            arch.get("kwargs"), dict):
        raise ModelError(f"{where}: the card's architecture must be "
                         f"{{'class': 'DownscaleCNN', 'kwargs': {{...}}}}, got {arch!r}.")
    kw = arch["kwargs"]
    n_in, n_out = kw.get("in_channels", 2), kw.get("out_channels", 2)
    for key, n in (("inputs", n_in), ("outputs", n_out)):
        bands = card[key]
        if not isinstance(bands, list) or len(bands) != n or not all(
                isinstance(b, dict) and "name" in b for b in bands):
            raise ModelError(f"{where}: the card lists {len(bands) if isinstance(bands, list) else '?'} "
                             f"{key} but the network has {n}; each needs at least a 'name'.")
    norm = card["normalisation"]
    for key, n in (("inputs", n_in), ("outputs", n_out)):
        part = norm.get(key) if isinstance(norm, dict) else None
        if not isinstance(part, dict):
            raise ModelError(f"{where}: the card's normalisation lacks '{key}'.")
        for stat in ("mean", "std"):
            vals = part.get(stat)
            if (not isinstance(vals, list) or len(vals) != n
                    or not all(isinstance(v, int | float) and math.isfinite(v) for v in vals)):
                raise ModelError(f"{where}: normalisation {key}.{stat} must be {n} finite numbers, "
                                 f"got {vals!r}.")
        if any(v <= 0 for v in part["std"]):
            raise ModelError(f"{where}: normalisation {key}.std must be positive, got {part['std']!r}.")
    if card.get("input_upsampling", "bicubic") not in ("bicubic", "nearest"):
        raise ModelError(f"{where}: input_upsampling must be 'bicubic' or 'nearest', got "
                         f"{card.get('input_upsampling')!r}.")
    mask = card.get("mask_channels")
    if mask is not None and (not isinstance(mask, list) or not mask
                             or not all(isinstance(i, int) and 0 <= i < n_in for i in mask)):
        raise ModelError(f"{where}: mask_channels must list input band indices below {n_in}, got {mask!r}.")


def save_model(path: str | os.PathLike, model: DownscaleCNN, card: dict) -> None:
    """Write weights and card to one ``.pt`` file atomically (temporary file, then rename).

    The card's ``architecture`` is filled from the model when absent; when present it must match it.
    """
    path = Path(path)
    card = dict(card)
    arch = {"class": type(model).__name__, "kwargs": dict(model.config)}
    if "architecture" not in card:
        card["architecture"] = arch
    elif card["architecture"] != arch:
        raise ModelError(f"{path}: the card's architecture {card['architecture']!r} does not describe "
                         f"the model being saved ({arch!r}).")
    card.setdefault("code_version", code_version())
    validate_card(card, str(path))
    try:
        card_json = json.dumps(card, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{path}: the model card is not plain JSON ({exc}).") from None
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "card": card_json, "state_dict": state}
    _atomic_write(path, lambda tmp: torch.save(payload, tmp))


def write_card_json(path: str | os.PathLike, card: dict) -> None:
    """Write the card as indented, human-readable JSON (e.g. beside the model as ``name.card.json``)."""
    path = Path(path)
    try:
        text = json.dumps(card, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{path}: the model card is not plain JSON ({exc}).") from None
    _atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_payload(path: str | os.PathLike, expect_format: str = FORMAT) -> dict:
    """``torch.load`` with ``weights_only=True`` and check the format tag; :class:`ModelError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model file {path} does not exist or is not a file.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # refused by the restricted unpickler, truncated, not a torch file...
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
        found = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        if found:
            raise ModelError(
                f"Model file {path} was refused: it references the Python object {found.group(1)}. A smapdown "
                "model holds only tensors and text, so the file is damaged or not what it claims to be; "
                "nothing in it was executed.") from None
        reason = re.search(r"WeightsUnpickler error: ([^\n]+)", text)
        lines = text.strip().splitlines()
        first = reason.group(1) if reason else (lines[0] if lines else "")
        raise ModelError(f"Model file {path} could not be read ({type(exc).__name__}: {first}); it may be "
                         "truncated or of another format (nothing in it was executed).") from None
    if not isinstance(payload, dict) or payload.get("format") != expect_format:
        tag = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise ModelError(f"File {path} is not a {expect_format} file (its 'format' tag is {tag!r}).")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ModelError(f"File {path} has format version {version!r}; this smapdown reads version "
                         f"{FORMAT_VERSION} (update the plugin or re-export the model).")
    return payload


def build_model(card: dict, where: str) -> DownscaleCNN:
    """A fresh network from the card's architecture kwargs (:class:`ModelError` if they are not accepted)."""
    try:
        return DownscaleCNN(**card["architecture"]["kwargs"])
    except (TypeError, InputError) as exc:
        raise ModelError(f"{where}: the card's architecture kwargs cannot build a DownscaleCNN "
                         f"({exc}).") from None


def load_state(model: DownscaleCNN, state: object, where: str) -> None:
    """``load_state_dict(strict=True)``, turning a mismatch into a :class:`ModelError` that names it."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{where}: the weights are not a dictionary of tensors.")
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
             if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} tensor(s) (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensor(s) (e.g. {unexpected[0]})")
        if wrong:
            parts.append(f"{len(wrong)} shape mismatch(es) (e.g. {wrong[0]})")
        raise ModelError(f"{where}: the weights do not match the card's architecture: {'; '.join(parts)}.")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{where}: the weights do not match the card's architecture ({exc}).") from None


def read_card(path: str | os.PathLike) -> dict:
    """The validated model card of a model file, without building the network."""
    where = f"Model file {Path(path)}"
    return _card_of(read_payload(path), where)


def _card_of(payload: dict, where: str) -> dict:
    try:
        card = json.loads(payload.get("card"))
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{where}: its model card is not valid JSON ({exc}).") from None
    validate_card(card, where)
    return card


def load_model(path: str | os.PathLike, device: str = "cpu") -> tuple[DownscaleCNN, dict]:
    """Load a model file safely; return the network (eval mode, on ``device``) and its card.

    Raises :class:`ModelError` (an :class:`InputError`) with a sentence naming the file when the file is
    missing, unsafe, of another format, or when its card and weights disagree.
    """
    where = f"Model file {Path(path)}"
    payload = read_payload(path)
    card = _card_of(payload, where)
    model = build_model(card, where)
    load_state(model, payload.get("state_dict"), where)
    return model.to(resolve_device(device)).eval(), card
