"""Training the downscaling CNN on arrays the caller prepared (a Processing algorithm or a script).

Recipe (the poster's): Adam at 1e-4, mean-absolute-error loss, L2 weight regularisation; here on random
``patch`` x ``patch`` fine-grid patches drawn from the training days, with the loss masked to valid pixels.

Design notes
------------
* **Normalisation.** Every band is standardised with the mean and std of its valid pixels over the
  TRAINING days only (validation stays unseen). With ``residual=True`` the output bands reuse the
  statistics of the input bands they are added to: the net computes ``out_n = in_n[:k] + head`` and
  denormalising with the input's (mean, std) gives ``out = in[:k] + std * head``, so the skip connection is
  the identity in kelvin and the head learns only the fine-scale detail. With the targets' own statistics
  the skip would be an affine map of the input that the net first had to learn to undo.
* **L2.** Implemented as an explicit penalty ``weight_decay * sum(w**2)`` over the convolution kernels
  (not the biases) added to the MAE loss, i.e. Keras's ``kernel_regularizer=l2(weight_decay)``, which is
  what "L2 weight regularisation" with Adam means in the poster's setting. It is not AdamW's decoupled
  decay, and not Adam's ``weight_decay`` (which would also hit the biases).
* **Missing data.** NaN marks invalid pixels. Patches are drawn only where at least
  ``min_valid_fraction`` of the pixels have a valid target and valid mask bands; NaN inputs become 0
  after normalisation (the band mean); the loss ignores pixels whose target or mask bands are invalid.
* **Reproducibility.** One seed drives the weights (torch) and the patch draws (numpy, reseeded per epoch
  from ``(seed, epoch)``), deterministic algorithms are switched on for the run, so the same seed gives
  the same model and a resumed run continues exactly as an uninterrupted one would.
* **Precision.** ``bf16=True`` runs the forward pass and the loss under ``torch.autocast`` with bfloat16
  (no loss scaling is needed: bfloat16 has fp32's exponent range). The master weights and Adam's state stay
  fp32, the network's residual skip is added in fp32 (as in inference), and the card records
  ``training.precision``.
* **Validation** runs the network on whole validation images with :func:`predict_tiled` (not patches)
  and compares per band, in physical units, with the residual input itself (the bicubic upsampling).
* **Data-parallel (DDP).** Under ``torchrun`` (``WORLD_SIZE`` > 1) :func:`train` joins the process group
  (gloo on the CPU, NCCL on GPUs, one GPU per process by ``LOCAL_RANK``) and wraps the network in
  ``DistributedDataParallel``. Every process draws the same patches (same seed), takes its share
  ``batch[rank::world]`` of each batch and scales its loss so that the averaged gradient is the gradient of
  the whole batch's loss: the run follows the single-process one up to float rounding (summation order), so
  the same seed and data give the same model within a stated tolerance (``tests/test_ddp.py``). Validation
  days are shared out too; checkpoints are written by rank 0 only; every process returns the same model.
  On one machine the cores are shared out between the processes (torch threads = cores // local world).
* **Divergence.** A non-finite loss stops training at once (before the optimiser step), and an epoch whose
  validation has pixels but no finite score stops it after validation: :class:`DivergedError` (a
  :class:`~smapdown.core.errors.SmapdownError`), no model is returned, so a caller writes nothing and the
  previous model file stays; the checkpoint keeps the last good epoch.
* **Cancel.** With ``keep_partial`` (default) the model of the last finished epoch is returned marked
  ``canceled``; without it :class:`Canceled` is raised saying that nothing was kept (a caller then leaves the
  previous model file as it was) and where the checkpoint of the finished epochs is.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.errors import Canceled, InputError, SmapdownError
from ..core.feedback import SILENT, Feedback
from .card import REQUIRED_CARD_FIELDS, Band, ModelCard, ModelError, Normalisation
from .dataset import CASE1_FACTOR, TrainingData, band_stats, normalise_batch, patch_origins, split_by_date
from .distributed import any_rank, distributed_env, is_main_process, join_process_group
from .inference import fixed_threads
from .io import _atomic_write, code_version, load_state, read_payload
from .network import DownscaleCNN, resolve_device, use_all_cores
from .validation import validate_shared

__all__ = ["CASE1_FACTOR", "DivergedError", "TrainConfig", "TrainResult", "TrainingData", "distributed_env",
           "is_main_process", "split_by_date", "train"]

CHECKPOINT_FORMAT = "smapdown-checkpoint"


class DivergedError(SmapdownError):
    """Training produced a non-finite loss or validation score; no model was returned (nothing is written)."""


@dataclass
class TrainConfig:
    """Training settings (defaults: the poster's recipe with the full-size network)."""

    epochs: int = 20
    lr: float = 1e-4
    weight_decay: float = 1e-4
    """Lambda of the explicit L2 penalty ``lambda * sum(w**2)`` on conv kernels added to the loss."""
    batch_size: int = 16
    patch: int = 32
    """Patch side in fine-grid pixels (clipped to the image size)."""
    patches_per_epoch: int = 512
    device: str = "auto"
    seed: int = 0
    features: int = 64
    groups: int = 7
    residual: bool = True
    checkpoint: str | None = None
    """Resume file: continued from when it exists, rewritten after every epoch."""
    layers_per_group: int = 1
    dilation: int = 2
    mask_channels: list[int] | None = None
    """Input bands that must be valid for a pixel to count (default: the first ``out_channels``)."""
    min_valid_fraction: float = 0.5
    val_tile: int = 256
    bf16: bool = False
    """Run the forward pass and the loss under bfloat16 autocast (CPU or CUDA); weights, optimiser state,
    the residual add and the L2 penalty stay fp32, and validation uses ``predict_tiled(..., bf16=True)``.
    Several times faster on CPUs with AMX / AVX512-BF16 and on recent GPUs (see ``bench/``)."""
    location: bool = False
    """Location-specific model: learn a static sub-cell map of the training region (see DownscaleCNN)."""
    location_lr_scale: float = 100.0
    """The static map is a per-pixel bias, not a kernel: it learns at ``lr * location_lr_scale``."""
    keep_partial: bool = True
    """On cancel after at least one epoch: return that epoch's model marked ``canceled`` (True) or raise
    :class:`Canceled` so that no model is written and the previous model file stays (False)."""


@dataclass
class TrainResult:
    """What :func:`train` returns: the CPU model in eval mode, its card, per-epoch history."""

    model: DownscaleCNN
    card: ModelCard
    history: list[dict]
    canceled: bool


def _to_cpu(obj: object) -> object:
    """A copy of a nested dict/list of tensors with every tensor on the CPU (for weights_only files)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu").clone()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _clean(v: float) -> float | None:
    """A JSON-safe float (NaN -> None)."""
    return float(v) if math.isfinite(v) else None


def _fmt(names: list[str], units: list[str], values: list[float | None]) -> str:
    return ", ".join(f"{n} {v:.3f} {u}".rstrip() if v is not None else f"{n} n/a"
                     for n, u, v in zip(names, units, values, strict=True))


def _base_card(data: TrainingData, config: TrainConfig, model: DownscaleCNN, norm: tuple[Normalisation, Normalisation],
               mask: list[int], card_extra: dict) -> ModelCard:
    """The card of the network being trained (training and validation records are added when it is done);
    ``card_extra`` (the caller's training provenance, location, other keys) is validated here, before training."""
    k = model.out_channels
    roles = ["residual" if config.residual and i < k else "predictor" for i in range(len(data.input_names))]
    extra = dict(card_extra)
    loc = extra.pop("location", None)
    return ModelCard.for_network(
        model.config,
        inputs=[Band(n, u, r) for n, u, r in zip(data.input_names, data.input_units, roles, strict=True)],
        outputs=[Band(n, u, "target") for n, u in zip(data.output_names, data.output_units, strict=True)],
        input_norm=norm[0], output_norm=norm[1], code_version=code_version(), mask_channels=mask,
        input_upsampling=data.upsampling, location=loc, training=extra.pop("training", None),
        validation=extra.pop("validation", None), extra=extra)


def _adam(model: DownscaleCNN, config: TrainConfig) -> torch.optim.Adam:
    """The optimiser of a run: Adam at ``config.lr`` on the kernels, ``lr * location_lr_scale`` on a static map."""
    groups = [{"params": [p for n, p in model.named_parameters() if n != "location"], "lr": config.lr}]
    if model.location is not None:
        groups.append({"params": [model.location], "lr": config.lr * config.location_lr_scale})
    return torch.optim.Adam(groups, lr=config.lr)


def init_checkpoint(path: str, model: DownscaleCNN, card: ModelCard, config: TrainConfig | None = None) -> None:
    """Write a checkpoint that starts a training run from a trained model (fine-tuning): its weights and
    normalisation, epoch 0, no history and a fresh optimiser as ``config`` (default :class:`TrainConfig`) sets
    it. A run with ``TrainConfig(checkpoint=path)`` then resumes from it, so ``epochs`` counts the fine-tuning
    epochs; the run's data must have the same inputs and network."""
    opt = _adam(model, config or TrainConfig())
    payload = {"format": CHECKPOINT_FORMAT, "format_version": 1, "epoch": 0, "card": card.to_json(),
               "config": json.dumps({"init": "fine-tuning start"}),
               "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
               "optimizer": opt.state_dict(), "history": []}
    _atomic_write(Path(path), lambda tmp: torch.save(payload, tmp))


def _read_checkpoint(path: Path, card: ModelCard) -> tuple[dict, ModelCard]:
    """A checkpoint payload whose architecture and inputs match ``card``, and its card (:class:`ModelError`
    if it does not match)."""
    payload = read_payload(path, CHECKPOINT_FORMAT)
    try:
        ck_card = ModelCard.from_dict(json.loads(payload["card"]), f"Checkpoint {path}")
        payload["epoch"] = int(payload["epoch"])
        missing = [k for k in ("state_dict", "optimizer", "history") if k not in payload]
    except ModelError as exc:
        raise ModelError(f"{exc} Delete it to start afresh.") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"Checkpoint {path} is incomplete ({exc!r}); delete it to start afresh.") from None
    if missing:
        raise ModelError(f"Checkpoint {path} lacks {', '.join(missing)}; delete it to start afresh.")
    if ck_card.architecture != card.architecture:
        raise ModelError(f"Checkpoint {path} holds a {ck_card.architecture['kwargs']} network, but "
                         f"this run builds {card.architecture['kwargs']}; use another checkpoint file.")
    if ck_card.input_names != card.input_names:
        raise ModelError(f"Checkpoint {path} was trained on other input bands "
                         f"({ck_card.input_names}); use another checkpoint file.")
    return payload, ck_card


def _kept(ck_path: Path | None, history: list[dict]) -> str:
    """What a stop keeps, for its message."""
    if ck_path is not None and history and ck_path.exists():
        return f"; the previous model file is unchanged and {ck_path} holds epoch {len(history)} to resume from"
    return "; the previous model file is unchanged"


def _diverged(epoch: int, batch: int, ck_path: Path | None, history: list[dict]) -> DivergedError:
    return DivergedError(f"Training diverged: the loss became NaN or infinite in epoch {epoch + 1}, batch "
                            f"{batch + 1}; no model was written{_kept(ck_path, history)}. Try a lower learning "
                            "rate, bf16 off, or check the inputs for extreme values.")


def train(data: TrainingData, val: TrainingData | None, config: TrainConfig,
          feedback: Feedback | None = None, card_extra: dict | None = None) -> TrainResult:
    """Train a :class:`DownscaleCNN` on ``data``, validating on ``val`` after every epoch.

    Reports a log line per epoch (train and validation MAE in physical units, and the bicubic baseline)
    and progress per batch. Cancelling returns the model of the last finished epoch with
    ``canceled=True``; cancelling before the first epoch finished raises :class:`Canceled`. With
    ``config.checkpoint`` the state is saved after every epoch and a run resumes from an existing file.
    ``card_extra``: what the caller adds to the card: ``training`` (provenance of the data: case, grid, data,
    regions...), ``validation``, ``location`` (a :class:`~smapdown.model.card.Location`, for location-specific
    models) and any other top-level key; checked before training starts.
    """
    fb = feedback or SILENT
    t_start = time.perf_counter()
    mask, card_extra = _check_arguments(data, val, config, card_extra, fb)
    dev, threads = _device_and_threads(config)
    n_in, n_out = data.inputs.shape[1], data.targets.shape[1]
    in_mean, in_std = band_stats(data.inputs, data.input_names)
    if config.residual:
        out_mean, out_std = in_mean[:n_out], in_std[:n_out]
    else:
        out_mean, out_std = band_stats(data.targets, data.output_names)
    norm = (Normalisation(tuple(in_mean), tuple(in_std)), Normalisation(tuple(out_mean), tuple(out_std)))

    _, _, H, W = data.inputs.shape
    p = min(config.patch, H, W)
    origins = patch_origins(data, mask, p, config.min_valid_fraction)
    if len(origins) == 0:
        raise InputError(f"No {p}x{p} training patch has {config.min_valid_fraction:.0%} valid pixels "
                         "(valid target and mask bands); use a smaller patch or lower min_valid_fraction.")

    det_before = torch.are_deterministic_algorithms_enabled()
    det_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn_before = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    fork = [dev.index or 0] if dev.type == "cuda" else []
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        with torch.random.fork_rng(devices=fork):
            torch.manual_seed(config.seed)
            model = DownscaleCNN(in_channels=n_in, out_channels=n_out, features=config.features,
                                 groups=config.groups, layers_per_group=config.layers_per_group,
                                 dilation=config.dilation, residual=config.residual,
                                 location_shape=tuple(data.inputs.shape[2:]) if config.location else None)
            card = _base_card(data, config, model, norm, mask, card_extra)
            with fixed_threads(threads) if dev.type == "cpu" else contextlib.nullcontext():
                return _run(model, card, data, val, config, fb, dev, threads, origins, p, t_start)
    finally:
        torch.use_deterministic_algorithms(det_before, warn_only=det_warn)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn_before


def _check_arguments(data: TrainingData, val: TrainingData | None, config: TrainConfig, card_extra: dict | None,
                     fb: Feedback) -> tuple[list[int], dict]:
    """:func:`train`'s arguments checked (InputError naming the problem): the mask bands and card_extra."""
    n_in, n_out = data.inputs.shape[1], data.targets.shape[1]
    if val is not None and (val.inputs.shape[1:2] != data.inputs.shape[1:2]
                            or val.targets.shape[1:2] != data.targets.shape[1:2]):
        raise InputError(f"Validation data has {val.inputs.shape[1]} input / {val.targets.shape[1]} output "
                         f"bands, training data {n_in} / {n_out}.")
    if config.epochs < 1 or config.batch_size < 1 or config.patches_per_epoch < 1 or config.patch < 1:
        raise InputError("epochs, batch_size, patches_per_epoch and patch must all be positive.")
    if not 0.0 < config.min_valid_fraction <= 1.0:
        raise InputError(f"min_valid_fraction must be in (0, 1], got {config.min_valid_fraction}.")
    mask = list(config.mask_channels) if config.mask_channels else list(range(min(n_out, n_in)))
    if not all(0 <= i < n_in for i in mask):
        raise InputError(f"mask_channels {mask} must be input band indices below {n_in}.")
    if config.residual and data.input_units[:n_out] != data.output_units:
        fb.info(f"Note: residual bands {data.input_names[:n_out]} ({data.input_units[:n_out]}) are added to "
                f"outputs {data.output_names} ({data.output_units}); check they are the same quantities.")
    card_extra = dict(card_extra or {})
    clash = [k for k in card_extra if k in REQUIRED_CARD_FIELDS and k not in ("training", "validation")]
    clash += [k for k in ("mask_channels", "input_upsampling", "normalisation") if k in card_extra]
    if clash:
        raise InputError(f"card_extra may not set {', '.join(clash)}: train() computes them.")
    return mask, card_extra


def _device_and_threads(config: TrainConfig) -> tuple[torch.device, int]:
    """The device of this process (one GPU per process under torchrun) and its torch thread count."""
    dev = resolve_device(config.device)
    _, world_env, local_world = distributed_env()
    if world_env > 1 and dev.type == "cuda" and dev.index is None:  # one GPU per process
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0") or 0) % max(torch.cuda.device_count(), 1))
    if config.bf16 and dev.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise InputError(f"bf16 training was requested but the GPU {dev} does not support bfloat16; "
                         "train with bf16 off.")
    if dev.type == "cpu" and local_world > 1:  # processes on one machine share its cores
        threads = max(1, use_all_cores() // local_world)
    else:
        threads = use_all_cores() if dev.type == "cpu" else torch.get_num_threads()
    if world_env > 1 and config.batch_size < world_env:
        raise InputError(f"batch_size {config.batch_size} is below the {world_env} processes of this torchrun "
                         "job: each needs at least one patch per batch")
    return dev, threads


@dataclass
class _Run:
    """What the epoch loop works with: the network (and its DDP wrapper), optimiser, data and state."""

    model: DownscaleCNN
    net: torch.nn.Module
    card: ModelCard
    data: TrainingData
    val: TrainingData | None
    config: TrainConfig
    fb: Feedback
    dev: torch.device
    rank: int
    world: int
    origins: np.ndarray
    p: int
    opt: torch.optim.Optimizer
    ck_path: Path | None
    history: list[dict]
    start_epoch: int = 0

    @property
    def kernels(self) -> list[torch.Tensor]:
        return [m.weight for m in self.model.modules() if isinstance(m, torch.nn.Conv2d)]


def _run(model: DownscaleCNN, card: ModelCard, data: TrainingData, val: TrainingData | None, config: TrainConfig,
         fb: Feedback, dev: torch.device, threads: int, origins: np.ndarray, p: int, t_start: float) -> TrainResult:
    """The epoch loop of :func:`train` (model and card built, RNG seeded)."""
    run = _prepare(model, card, data, val, config, fb, dev, origins, p)
    last_state = _to_cpu(model.state_dict()) if run.start_epoch > 0 else None
    canceled = False
    for epoch in range(run.start_epoch, config.epochs):
        t_epoch = time.perf_counter()
        entry = _train_epoch(run, epoch)
        if entry is None:
            canceled = True
            break
        if val is not None:
            try:
                _validate_epoch(run, epoch, entry)
            except Canceled:
                canceled = True
                break
        entry["seconds"] = round(time.perf_counter() - t_epoch, 3)
        run.history.append(entry)
        _log_epoch(run, epoch, entry)
        last_state = _to_cpu(model.state_dict())
        if run.ck_path is not None and run.rank == 0:
            ck_payload = {"format": CHECKPOINT_FORMAT, "format_version": 1, "epoch": epoch + 1,
                          "card": run.card.to_json(), "config": json.dumps(asdict(config)),
                          "state_dict": last_state, "optimizer": _to_cpu(run.opt.state_dict()),
                          "history": copy.deepcopy(run.history)}
            _atomic_write(run.ck_path, lambda tmp, pl=ck_payload: torch.save(pl, tmp))

    if last_state is None:
        raise Canceled("Training was cancelled before the first epoch finished; no model was produced.")
    if canceled and not config.keep_partial:
        raise Canceled(f"Training was cancelled after {len(run.history)} of {config.epochs} epochs; no model was "
                       f"written (partial training was not asked for){_kept(run.ck_path, run.history)}.")
    final = DownscaleCNN(**model.config)
    final.load_state_dict(last_state, strict=True)
    final.eval()
    card = run.card.merged({"training": _training_record(run, canceled, threads, t_start),
                            "validation": _validation_record(run)})
    return TrainResult(model=final, card=card, history=run.history, canceled=canceled)


def _prepare(model: DownscaleCNN, card: ModelCard, data: TrainingData, val: TrainingData | None,
             config: TrainConfig, fb: Feedback, dev: torch.device, origins: np.ndarray, p: int) -> _Run:
    """Join the process group, move the model, build the optimiser and resume from the checkpoint if any."""
    rank, world = join_process_group(dev)
    model.to(dev, memory_format=torch.channels_last)
    net: torch.nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    opt = _adam(model, config)
    ck_path = Path(config.checkpoint) if config.checkpoint else None
    run = _Run(model, net, card, data, val, config, fb, dev, rank, world, origins, p, opt, ck_path, [])
    if ck_path is not None and ck_path.exists():
        ck, ck_card = _read_checkpoint(ck_path, card)
        # the weights were trained with the checkpoint's normalisation
        run.card = dataclasses.replace(card, input_norm=ck_card.input_norm, output_norm=ck_card.output_norm)
        load_state(model, ck["state_dict"], f"Checkpoint {ck_path}")
        try:
            opt.load_state_dict(ck["optimizer"])
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ModelError(f"Checkpoint {ck_path}: its optimiser state does not fit ({exc}).") from None
        run.history = list(ck["history"])
        run.start_epoch = min(ck["epoch"], config.epochs)
        fb.info(f"Resuming from {ck_path} after epoch {ck['epoch']}.")
    return run


def _train_epoch(run: _Run, epoch: int) -> dict | None:
    """One epoch of batches; its history entry (train MAE per band, physical units), None when cancelled."""
    config, data, model, p, mask = run.config, run.data, run.model, run.p, run.card.valid_channels
    in_mean, in_std, out_mean, out_std = run.card.stats()
    batches = math.ceil(config.patches_per_epoch / config.batch_size)
    rng = np.random.default_rng([config.seed, epoch])
    pick = run.origins[rng.integers(0, len(run.origins), size=config.patches_per_epoch)]
    # channels_last (NHWC) is oneDNN's fast layout for these convolutions (~1.1x fp32, ~1.4x bf16 per
    # step on a CPU with AMX); re-applied every epoch (a no-op: predict_tiled leaves the weights as they are)
    model.train().to(memory_format=torch.channels_last)
    band_err = torch.zeros(model.out_channels, dtype=torch.float64)
    band_cnt = torch.zeros(model.out_channels, dtype=torch.float64)
    kernels = run.kernels
    for b in range(batches):
        if any_rank(run.fb.canceled(), run.world):
            return None
        sel, scale = _share(run, pick[b * config.batch_size:(b + 1) * config.batch_size])
        xs = np.stack([data.inputs[d, :, r:r + p, c:c + p] for d, r, c in sel])
        ys = np.stack([data.targets[d, :, r:r + p, c:c + p] for d, r, c in sel])
        valid = np.isfinite(ys) & np.all(np.isfinite(xs[:, mask]), axis=1)[:, None]
        x = torch.from_numpy(normalise_batch(xs, in_mean, in_std)).to(run.dev).contiguous(
            memory_format=torch.channels_last)
        y = torch.from_numpy(normalise_batch(ys, out_mean, out_std)).to(run.dev)
        m = torch.from_numpy(valid.astype(np.float32)).to(run.dev)
        with torch.autocast(run.dev.type, dtype=torch.bfloat16, enabled=bool(config.bf16)):
            # the residual add (and so the output) is fp32 under autocast; .float() covers residual=False
            out = run.net(x, [(int(r), int(c)) for _, r, c in sel]) if model.location is not None else run.net(x)
            err = (out.float() - y).abs() * m
            loss = err.sum() / m.sum().clamp(min=1.0) if run.world == 1 else err.sum() * scale
        if config.weight_decay:
            loss = loss + config.weight_decay * sum((w * w).sum() for w in kernels)
        if run.world == 1 and not torch.isfinite(loss):
            raise _diverged(epoch, b, run.ck_path, run.history)
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        if run.world > 1 and any_rank(not bool(torch.isfinite(loss)), run.world):
            raise _diverged(epoch, b, run.ck_path, run.history)
        run.opt.step()
        band_err += err.detach().sum(dim=(0, 2, 3)).double().cpu()
        band_cnt += m.sum(dim=(0, 2, 3)).double().cpu()
        run.fb.progress(100.0 * (epoch * batches + b + 1) / (config.epochs * batches))
    if run.world > 1:
        import torch.distributed as dist

        dist.all_reduce(band_err)
        dist.all_reduce(band_cnt)
    ostd_t = torch.tensor(out_std, dtype=torch.float64)
    train_mae = torch.where(band_cnt > 0, band_err / band_cnt.clamp(min=1.0) * ostd_t, torch.nan).tolist()
    return {"epoch": epoch + 1,
            "train_mae": {n: _clean(v) for n, v in zip(data.output_names, train_mae, strict=True)},
            "val_mae": None, "val_mae_baseline": None, "val_pixels": None}


def _share(run: _Run, sel: np.ndarray) -> tuple[np.ndarray, float]:
    """This process's share ``sel[rank::world]`` of a batch, and the scale of its loss sum so that the averaged
    gradient is the whole batch's (its valid-pixel count); (sel, 1.0) on one process."""
    if run.world <= 1:
        return sel, 1.0
    data, p, mask = run.data, run.p, run.card.valid_channels
    full = np.stack([data.targets[d, :, r:r + p, c:c + p] for d, r, c in sel])
    full_valid = np.isfinite(full) & np.all(np.isfinite(
        np.stack([data.inputs[d, mask, r:r + p, c:c + p] for d, r, c in sel])), axis=1)[:, None]
    return sel[run.rank::run.world], run.world / max(float(full_valid.sum()), 1.0)


def _validate_epoch(run: _Run, epoch: int, entry: dict) -> None:
    """Whole-image validation after an epoch into ``entry``; :class:`DivergedError` when no score is finite."""
    val, names = run.val, run.data.output_names
    v_mae, v_base, v_cnt = validate_shared(run.model, run.card, val, run.dev, run.config.val_tile, run.fb,
                                            run.config.bf16, run.rank, run.world)
    if not np.isfinite(v_mae).any():
        if not all(bool(torch.isfinite(t).all()) for t in run.model.parameters()):
            raise DivergedError(
                f"Training diverged: the weights are not finite after epoch {epoch + 1}, so there is no "
                f"finite validation score; no model was written{_kept(run.ck_path, run.history)}. Try a lower "
                "learning rate or bf16 off.")
        raise DivergedError(
            f"No finite validation score after epoch {epoch + 1}: no validation pixel has both a valid "
            f"target and a finite prediction ({len(val.dates)} validation days); no model was written"
            f"{_kept(run.ck_path, run.history)}. Check the validation days' files or choose other ones.")
    entry["val_mae"] = {n: _clean(v) for n, v in zip(names, v_mae, strict=True)}
    entry["val_pixels"] = {n: int(c) for n, c in zip(names, v_cnt, strict=True)}
    if v_base is not None:
        entry["val_mae_baseline"] = {n: _clean(v) for n, v in zip(names, v_base, strict=True)}


def _log_epoch(run: _Run, epoch: int, entry: dict) -> None:
    names, units = run.data.output_names, run.data.output_units
    line = (f"epoch {epoch + 1}/{run.config.epochs}: "
            f"train MAE {_fmt(names, units, list(entry['train_mae'].values()))}")
    if entry["val_mae"] is not None:
        line += f"; validation MAE {_fmt(names, units, list(entry['val_mae'].values()))}"
    if entry["val_mae_baseline"] is not None:
        line += f" (bicubic {_fmt(names, units, list(entry['val_mae_baseline'].values()))})"
    run.fb.info(line + f" [{entry['seconds']:.1f} s on {run.dev}]")


def _training_record(run: _Run, canceled: bool, threads: int, t_start: float) -> dict:
    """The recipe, as the card's ``training`` records it (merged over the caller's provenance)."""
    config, data = run.config, run.data
    last = run.history[-1] if run.history else {}
    return {
        "optimizer": "Adam", "lr": config.lr, "loss": "mean absolute error in normalised units, valid pixels",
        "l2": {"weight_decay": config.weight_decay,
               "form": "explicit penalty weight_decay * sum(w**2) over conv kernels (biases excluded)"},
        "epochs": config.epochs, "epochs_done": len(run.history), "canceled": canceled,
        "batch_size": config.batch_size, "patch": run.p, "patches_per_epoch": config.patches_per_epoch,
        "min_valid_fraction": config.min_valid_fraction, "seed": config.seed,
        "precision": "bf16-autocast" if config.bf16 else "fp32",
        "device": str(run.dev), "threads": threads, "torch_version": torch.__version__,
        "days": int(data.inputs.shape[0]), "first_date": str(min(data.dates)),
        "last_date": str(max(data.dates)),
        "train_mae": last.get("train_mae"), "seconds": round(time.perf_counter() - t_start, 1),
        "host_cpus": os.cpu_count(),
    }


def _validation_record(run: _Run) -> dict:
    """The last epoch's validation, as the card's ``validation`` records it."""
    val = run.val
    if val is None:
        return {"days": 0, "note": "no validation set was given"}
    last = run.history[-1] if run.history else {}
    return {"days": int(val.inputs.shape[0]), "first_date": str(min(val.dates)),
            "last_date": str(max(val.dates)), "mae": last.get("val_mae"),
            "mae_baseline": last.get("val_mae_baseline"), "pixels": last.get("val_pixels"),
            "method": "whole validation images (tiled inference), split by date",
            "baseline": "bicubic upsampling of the 36 km input" if run.model.residual else None}
