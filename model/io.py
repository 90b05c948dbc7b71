"""Model files: one ``.pt`` holding the weights and the model card, loaded without running any code.

File layout (a torch zip archive, written atomically)::

    {"format": "smapdown-model", "format_version": 1,
     "card": "<the model card as a JSON string>",
     "state_dict": {name: tensor}}

Loading uses ``torch.load(..., weights_only=True)`` only, so a crafted file cannot execute anything: the
restricted unpickler refuses every global that is not a tensor or a plain container.

The model card is a :class:`~smapdown.model.card.ModelCard` (built, validated and serialised in
model/card.py; re-exported here). Saving goes through ``ModelCard.to_json``, loading through
``ModelCard.from_dict``, so a file written by any path (training, a script re-saving a card) is consistent.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings
from pathlib import Path

import torch

from ..core.atomic import atomic_output
from ..core.errors import InputError
from .card import REQUIRED_CARD_FIELDS, Band, Location, ModelCard, ModelError, Normalisation, metric_output_names
from .network import DownscaleCNN, resolve_device

__all__ = ["Band", "Location", "ModelCard", "ModelError", "Normalisation", "REQUIRED_CARD_FIELDS", "code_version",
           "load_model", "metric_output_names", "read_card", "read_payload", "save_model", "write_card_json"]

FORMAT = "smapdown-model"
FORMAT_VERSION = 1

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


def save_model(path: str | os.PathLike, model: DownscaleCNN, card: ModelCard | dict) -> None:
    """Write weights and card to one ``.pt`` file atomically (temporary file, then rename).

    The card's architecture must be the model's (:class:`ModelError` if not). A plain dict is accepted as a
    card in the making: its ``architecture`` and ``code_version`` are filled when absent, then it is read by
    :meth:`ModelCard.from_dict` like a file's card.
    """
    path = Path(path)
    if not isinstance(card, ModelCard):
        d = dict(card)
        d.setdefault("architecture", {"class": type(model).__name__, "kwargs": dict(model.config)})
        d.setdefault("code_version", code_version())
        card = ModelCard.from_dict(d, str(path))
    arch = {"class": type(model).__name__, "kwargs": dict(model.config)}
    if card.architecture != arch:
        raise ModelError(f"{path}: the card's architecture {card.architecture!r} does not describe "
                         f"the model being saved ({arch!r}).")
    card_json = card.to_json()
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "card": card_json, "state_dict": state}
    _atomic_write(path, lambda tmp: torch.save(payload, tmp))


def write_card_json(path: str | os.PathLike, card: ModelCard) -> None:
    """Write the card as indented, human-readable JSON (e.g. beside the model as ``name.json``)."""
    path = Path(path)
    text = card.to_json(indent=2) + "\n"
    _atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_payload(path: str | os.PathLike, expect_format: str = FORMAT) -> dict:
    """``torch.load`` with ``weights_only=True`` and check the format tag; :class:`ModelError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Model file {path} does not exist or is not a file.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # recognised by type; refused objects by reading the stream ourselves
        names = pickle_globals(path)
        if not names:
            raise ModelError(f"Model file {path} could not be read (UnpicklingError: {_first_line(exc)}); it may "
                             "be truncated or of another format (nothing in it was executed).") from None
        what = f" (it references the Python object(s) {', '.join(names[:3])})"
        raise ModelError(
            f"Model file {path} was refused: it holds Python objects other than tensors and text{what}, which "
            "a smapdown model never does, so it is damaged or not what it claims to be; nothing in it was "
            "executed (do not load it by other means).") from None
    except Exception as exc:  # truncated, not a torch file...
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
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


_ALLOWED_GLOBALS = ("torch.", "collections.OrderedDict", "builtins.set", "builtins.frozenset")


def pickle_globals(path: str | os.PathLike) -> list[str]:
    """Python objects (module.name) a pickle in ``path`` (plain, or data.pkl of a torch zip) would import,
    other than torch's and plain containers, read from its opcodes without unpickling anything; [] when
    none or when the stream cannot be parsed."""
    import pickletools
    import zipfile

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                pkl = [n for n in z.namelist() if n.endswith("data.pkl")]
                data = z.read(pkl[0]) if pkl else b""
        else:
            data = Path(path).read_bytes()
    except (OSError, zipfile.BadZipFile, KeyError):
        return []
    names: list[str] = []
    strings: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
                strings.append(str(arg))
            elif op.name == "GLOBAL":
                names.append(str(arg).replace(" ", "."))
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(f"{strings[-2]}.{strings[-1]}")
            elif op.name in ("INST", "OBJ", "NEWOBJ", "NEWOBJ_EX") and not names:
                names.append(str(arg or "an object"))
    except Exception:  # noqa: BLE001 - a malformed stream: fall through with what was found
        pass
    return [n for n in dict.fromkeys(names) if not n.startswith(_ALLOWED_GLOBALS)]


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def build_model(card: ModelCard, where: str) -> DownscaleCNN:
    """A fresh network from the card's architecture kwargs (:class:`ModelError` if they are not accepted)."""
    try:
        return DownscaleCNN(**card.architecture["kwargs"])
    except (TypeError, InputError) as exc:
        raise ModelError(f"{where}: the card's architecture kwargs cannot build a DownscaleCNN "
                         f"({exc}).") from None


def load_state(model: DownscaleCNN, state: object, where: str) -> None:
    """``load_state_dict(strict=True)``, turning a mismatch into a :class:`ModelError` that names it."""
    check_shapes(model, state, where)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{where}: the weights do not match the card's architecture ({exc}).") from None


def check_shapes(model: DownscaleCNN, state: object, where: str) -> None:
    """:class:`ModelError` naming the problem when ``state`` is not a dict of finite tensors with exactly the
    names and shapes of ``model``'s (which may live on the meta device: nothing is allocated)."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{where}: the weights are not a dictionary of tensors.")
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ModelError(f"{where}: {len(bad)} weight tensor(s) hold NaN or infinite values (e.g. {bad[0]}); the "
                         "training diverged or the file is damaged, the model cannot give valid output.")
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


def read_card(path: str | os.PathLike) -> ModelCard:
    """The validated model card of a model file, without building the network."""
    where = f"Model file {Path(path)}"
    return _card_of(read_payload(path), where)


def _card_of(payload: dict, where: str) -> ModelCard:
    try:
        card = json.loads(payload.get("card"))
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{where}: its model card is not valid JSON ({exc}).") from None
    return ModelCard.from_dict(card, where)


def load_model(path: str | os.PathLike, device: str = "cpu") -> tuple[DownscaleCNN, ModelCard]:
    """Load a model file safely; return the network (eval mode, on ``device``) and its card.

    Raises :class:`ModelError` (an :class:`InputError`) with a sentence naming the file when the file is
    missing, unsafe, of another format, or when its card and weights disagree.
    """
    where = f"Model file {Path(path)}"
    payload = read_payload(path)
    card = _card_of(payload, where)
    with torch.device("meta"):  # check the weights against the card before allocating a network of its size
        check_shapes(build_model(card, where), payload.get("state_dict"), where)
    model = build_model(card, where)
    load_state(model, payload.get("state_dict"), where)
    return model.to(resolve_device(device)).eval(), card
