"""Training from product files without QGIS, on one process or data-parallel under ``torchrun``.

The same job as ``smapdown:train`` (workflows.training_data's training pairs + model.train.train), as a command::

    python -m smapdown.workflows.train --low DIR --high DIR -o model.pt            # one process
    torchrun --nproc_per_node 2 -m smapdown.workflows.train --low DIR --high DIR -o model.pt   # DDP

Under torchrun every process reads the files and trains on its share of each batch (see model.train); only
rank 0 writes the model file, its card and the report. The same seed and data give the same model on 1 and
N processes up to float rounding (tests/test_ddp.py states the tolerance).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from ..core.errors import SmapdownError
from ..core.feedback import SILENT, Feedback, PrintFeedback
from .cli import date_arg


class _RankFeedback(PrintFeedback):
    """Prints on rank 0 only (the others would repeat the same lines)."""

    def __init__(self, rank: int) -> None:
        self.rank = rank

    def info(self, message: str) -> None:
        """Print the line on rank 0."""
        if self.rank == 0:
            super().info(message)


def upsampling_for(choice: str, location_specific: bool) -> str:
    """How case-1 inputs reach the 9 km grid: ``choice`` ('bicubic', 'nearest'), or for 'auto' nearest for a
    location-specific model (the 36 km observation as it is; the static map carries the sub-cell pattern) and
    bicubic for a general one."""
    if choice != "auto":
        return choice
    return "nearest" if location_specific else "bicubic"


def checkpoint_for(model_path: str, resume: bool, main_process: bool = True) -> str:
    """The checkpoint file beside ``model_path`` (``<model>.pt.ckpt``); an existing one is deleted unless the
    run resumes from it (by the main process only, under torchrun)."""
    checkpoint = model_path + ".ckpt"
    if not resume and main_process and os.path.exists(checkpoint):
        os.remove(checkpoint)
    return checkpoint


def card_extra_for(case: str, grid: Any, location_specific: bool, provenance: dict,
                   processes: int | None = None) -> dict:
    """What a training from product files adds to the model card (``train(..., card_extra=...)``): the case,
    the fine grid, the data's provenance (core.provenance.provenance), and for a location-specific model its
    window on ``grid`` (a core.grid.Grid)."""
    from ..model.card import Location

    training = {"case": case, "grid": grid.name, "location_specific": location_specific}
    if processes is not None:
        training["processes"] = processes
    extra: dict = {"training": {**training, **provenance}}
    if location_specific:
        extra["location"] = Location.of(grid)
    return extra


def parser() -> argparse.ArgumentParser:
    """The command line (the options of smapdown:train)."""
    p = argparse.ArgumentParser(prog="python -m smapdown.workflows.train",
                                description="Train the poster's CNN from SMAP product files (also under torchrun).")
    p.add_argument("--low", action="append", required=True, help="36 km TB files or folders")
    p.add_argument("--high", action="append", required=True,
                   help="targets: 9 km SPL3SMAP/SPL2SMAP (case tb) or SPL2SMAP_S (case sm) files or folders")
    p.add_argument("--lst", action="append", help="case sm: LST files or folders")
    p.add_argument("--case", choices=("tb", "sm"), default="tb")
    p.add_argument("--grid", choices=("M03", "M09"), default="M03", help="case sm: output grid")
    p.add_argument("--no-ancillary", action="store_true", help="case sm: TB and LST only as inputs")
    p.add_argument("--static", help="static ancillary raster (static_* bands) as extra inputs")
    p.add_argument("--extent", help="xmin,ymin,xmax,ymax")
    p.add_argument("--extent-crs", default="EPSG:4326")
    p.add_argument("--start", type=date_arg)
    p.add_argument("--end", type=date_arg)
    p.add_argument("--validation-days", type=int, default=5)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--patches", type=int, default=512, help="patches per epoch")
    p.add_argument("--patch", type=int, default=32)
    p.add_argument("--features", type=int, default=64)
    p.add_argument("--groups", type=int, default=7)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--general", action="store_true", help="a general model (default: location-specific)")
    p.add_argument("--upsampling", choices=("auto", "bicubic", "nearest"), default="auto")
    p.add_argument("--resume", action="store_true", help="continue from <output>.ckpt")
    p.add_argument("--keep-partial", action="store_true", help="on cancel, keep the last finished epoch's model")
    p.add_argument("-o", "--output", required=True, help="model file (.pt; its card .json beside it)")
    p.add_argument("--report", help="history and card as JSON")
    return p


def main(argv: Sequence[str] | None = None, feedback: Feedback | None = None) -> int:
    """Entry point; returns the exit status (0 trained, 1 bad input or training stopped)."""
    from ..core.files import kind_filter, list_files
    from ..model.io import save_model, write_card_json
    from ..model.train import TrainConfig, distributed_env, split_by_date, train
    from .training_data import sm_training_data, tb_training_data

    args = parser().parse_args(argv)
    rank = distributed_env()[0]
    fb = feedback or (_RankFeedback(rank) if rank == 0 else SILENT)
    out = args.output if args.output.lower().endswith(".pt") else args.output + ".pt"
    extent = tuple(float(v) for v in args.extent.split(",")) if args.extent else None
    crs = args.extent_crs if extent else None
    try:
        exts = (".h5", ".tif", ".tiff")
        low = list_files(args.low, exts, kind_filter("tb36"))
        high = list_files(args.high, exts, kind_filter("tb9" if args.case == "tb" else "sm_fine"))
        if args.case == "tb":
            method = upsampling_for(args.upsampling, not args.general)
            data, grid, prov = tb_training_data(low, high, extent, crs, args.start, args.end,
                                                upsampling=method, static_path=args.static)
        else:
            lst = list_files(args.lst or [], (".hdf", ".tif", ".tiff"), kind_filter("lst"))
            data, grid, prov = sm_training_data(low, lst, high, args.grid, extent, crs, args.start,
                                                args.end, ancillary=not args.no_ancillary,
                                                static_path=args.static)
        tr, val = split_by_date(data, args.validation_days) if args.validation_days > 0 else (data, None)
        checkpoint = checkpoint_for(out, args.resume, rank == 0)
        config = TrainConfig(epochs=args.epochs, lr=args.lr, weight_decay=args.weight_decay,
                             batch_size=args.batch_size, patch=args.patch, patches_per_epoch=args.patches,
                             device=args.device, seed=args.seed, features=args.features, groups=args.groups,
                             residual=args.case == "tb", checkpoint=checkpoint, bf16=args.bf16,
                             location=not args.general, keep_partial=args.keep_partial)
        card_extra = card_extra_for(args.case, grid, config.location, prov, processes=distributed_env()[1])
        result = train(tr, val, config, fb, card_extra=card_extra)
    except SmapdownError as exc:
        print(f"error (rank {rank}): {exc}", file=sys.stderr)
        return 1
    if rank == 0:
        save_model(out, result.model, result.card)
        write_card_json(os.path.splitext(out)[0] + ".json", result.card)
        if args.report:
            with open(args.report, "w", encoding="utf-8") as fh:
                json.dump({"model": out, "card": result.card.to_dict(), "history": result.history}, fh, indent=1)
        fb.info(f"model written to {out} ({len(result.history)} epochs, {result.card.training.seconds} s)")
    return 0


if __name__ == "__main__":
    from importlib import import_module

    sys.exit(import_module(f"{__package__}.train").main())
