"""smapdown:train — train the poster's CNN on 36 km / 9 km pairs (case 1) or TB+LST → soil moisture (case 2)."""

from __future__ import annotations

import datetime as dt
import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputHtml,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingUtils,
)

from ..core.atomic import OutputSet
from ..core.errors import InputError
from .base import SmapdownAlgorithm
from .params import DEVICES, SM_GRIDS, device_param, grid_labels, precision_param
from .reports import html_report, report_html_path, staged_json

CASES = ["tb", "soil moisture"]
UPSAMPLING_OPTIONS = ["auto", "bicubic", "nearest"]
GRIDS = SM_GRIDS
GRID_LABELS = grid_labels(SM_GRIDS)


class TrainAlgorithm(SmapdownAlgorithm):
    """Location-specific (default) or general training with date-split validation and a model card."""

    NAME = "train"
    DISPLAY = "Train downscaling network"
    GROUP = "training"
    NEEDS_TORCH = True
    HELP = (
        "Trains your own network for a region: pairs of 36 km SMAP brightness temperature and 9 km targets of "
        "the same days (case tb: SPL3SMAP/SPL2SMAP radar-guided TB, e.g. April–July 2015), or 36 km TB with MODIS "
        "LST and SPL2SMAP_S soil moisture (case soil moisture). Give files or folders of them; the model file "
        "you choose can then be used in 'Downscale' or 'Estimate soil moisture'.\n\n"
        "By default the model is location-specific: it learns one region (the extent, or the area all files "
        "cover) and applies only there. The last 'Validation days' dates are held out (split by date, never by "
        "pixel) and its error is reported against bicubic interpolation. The model file holds the weights "
        "(loaded without pickle) and a model card saying what it was trained on; a JSON report and a loss-curve "
        "PNG go beside the 'Training report'. Cancel leaves an earlier model file as it was and keeps the finished "
        "epochs in a checkpoint beside it, for 'Resume from the checkpoint'; with 'On cancel, save the last finished "
        "epoch' the model of that epoch is saved instead. A training that diverges (the loss becomes NaN or "
        "infinite, e.g. with too high a learning rate) stops with a message and writes nothing.\n\n"
        "Method: the network of a research poster on downscaling SMAP brightness temperature with a CNN (its "
        "title is not recorded in this plugin): 7 groups of 64 3×3 and 64 dilated 5×5 kernels with ReLU, a 3×3 "
        "output convolution per band, a residual connection from the upsampled 36 km input (case tb); mean "
        "absolute error loss, Adam (learning rate 1e-4), an L2 penalty on the kernels."
    )

    def initAlgorithm(self, config=None) -> None:
        self._add_inputs()
        self._add_training_options()
        self._add_outputs()

    def _add_inputs(self) -> None:
        """The files, the case and how the inputs are read (in the dialog's order)."""
        for name, text, help_text, optional in (
            ("INPUT_LOW", "36 km TB files", "36 km TB product files (or folders of them).", False),
            ("INPUT_HIGH", "High-resolution target files", "Case tb: 9 km SPL3SMAP/SPL2SMAP files; case soil "
             "moisture: SPL2SMAP_S files (or folders).", False),
            ("INPUT_LST", "LST files (soil-moisture case)", "MODIS MOD11A1/MYD11A1 files or LST rasters, one "
             "per day (or folders); only for case soil moisture.", True),
        ):
            self.add(QgsProcessingParameterMultipleLayers(name, self.tr(text), QgsProcessing.TypeRaster,
                                                          optional=optional), help_text)
        self.add(QgsProcessingParameterRasterLayer("INPUT_STATIC", self.tr("Static ancillary raster"),
                                                   optional=True),
                 "Optional high-resolution static inputs: soil texture, land-cover and open-water fractions on an "
                 "EASE2 grid (bands static_*, e.g. STATIC_M03_SIM.tif from smapdown:simulate); every static_* "
                 "band becomes an input of the network (both cases), and the model then needs such a raster "
                 "(STATIC) wherever it is applied.", advanced=True)
        self.add(QgsProcessingParameterEnum("CASE", self.tr("Case"), options=CASES, defaultValue=0),
                 "tb: 36 km → 9 km brightness temperature; soil moisture: TB + LST → soil moisture.")
        self.add(QgsProcessingParameterEnum("GRID", self.tr("Soil-moisture grid"), options=GRID_LABELS, defaultValue=0),
                 "Output grid of the soil-moisture case (3 or 9 km).", advanced=True)
        self.add(QgsProcessingParameterBoolean("SM_ANCILLARY", self.tr("Soil moisture: 36 km retrieval as input"),
                                               defaultValue=True),
                 "Case 2 only: besides TB and LST, the network reads the product's own 36 km soil-moisture "
                 "retrieval and the vegetation water content and surface temperature it used (SPL2SMP/SPL3SMP "
                 "files carry them; SPL1CTB and plain TB rasters do not — untick for those).", advanced=True)
        self.add(QgsProcessingParameterBoolean("LOCATION_SPECIFIC", self.tr("Location-specific"), defaultValue=True),
                 "Learn the static sub-cell pattern of this region (land cover, water, soil) as the poster's "
                 "networks do: the model then applies only to this region. Off: a general model for any place.")
        self.add(QgsProcessingParameterEnum("UPSAMPLING", self.tr("36 km input on the 9 km grid"),
                                            options=UPSAMPLING_OPTIONS, defaultValue=0),
                 "Case tb: how the 36 km TB reaches the 9 km grid before the network (the residual's base). "
                 "auto: nearest (the observation repeated over its 4 x 4 block) for a location-specific model, "
                 "whose static map then carries the sub-cell pattern; bicubic for a general model.",
                 advanced=True)

    def _add_training_options(self) -> None:
        """Extent, dates, validation days and the training's own options (in the dialog's order)."""
        self.add_extent()
        for name, text in (("START", "First date"), ("END", "Last date")):
            self.add(QgsProcessingParameterDateTime(name, self.tr(text), type=QgsProcessingParameterDateTime.Date,
                                                    optional=True),
                     "Only days from First date to Last date are used (e.g. the radar period 2015-04-13..2015-07-07).")
        self.add(QgsProcessingParameterNumber("VALIDATION_DAYS", self.tr("Validation days"), minValue=0,
                                              defaultValue=5),
                 "The last N dates are held out for validation (never trained on).")
        self.add(QgsProcessingParameterNumber("EPOCHS", self.tr("Epochs"), minValue=1, defaultValue=20),
                 "Passes over 'Patches per epoch' random patches.")
        self.add(QgsProcessingParameterNumber("LEARNING_RATE", self.tr("Learning rate"),
                                              QgsProcessingParameterNumber.Double, defaultValue=1e-4, minValue=0),
                 "Adam learning rate (the poster: 1e-4).")
        self.add(QgsProcessingParameterNumber("WEIGHT_DECAY", self.tr("L2 regularisation"),
                                              QgsProcessingParameterNumber.Double, defaultValue=1e-4, minValue=0),
                 "Weight of the L2 penalty on the convolution kernels added to the loss.")
        device_param(self)
        precision_param(self)
        self.add(QgsProcessingParameterNumber("SEED", self.tr("Random seed"), minValue=0, defaultValue=0),
                 "Same seed and data: same model.")
        self.add(QgsProcessingParameterNumber("FEATURES", self.tr("Kernels per branch"), minValue=4,
                                              defaultValue=64),
                 "64 in the poster; smaller trains faster.", advanced=True)
        self.add(QgsProcessingParameterNumber("PATCHES_PER_EPOCH", self.tr("Patches per epoch"), minValue=16,
                                              defaultValue=512),
                 "Random valid patches drawn per epoch.", advanced=True)
        self.add(QgsProcessingParameterNumber("PATCH", self.tr("Patch size (fine pixels)"), minValue=8,
                                              defaultValue=32), "Side of a training patch.", advanced=True)
        self.add(QgsProcessingParameterBoolean("RESUME", self.tr("Resume from the checkpoint"), defaultValue=False),
                 "Continue an interrupted training from the checkpoint beside the model file (<model>.pt.ckpt, "
                 "written after every epoch).",
                 advanced=True)
        self.add(QgsProcessingParameterBoolean("KEEP_PARTIAL", self.tr("On cancel, save the last finished epoch"),
                                               defaultValue=False, optional=True),
                 "Cancel after at least one finished epoch saves that epoch's model as the model file (its card "
                 "records the epochs done and that training was cancelled). Off: cancel writes no model and leaves "
                 "an earlier model file as it was; the finished epochs stay in the checkpoint to resume from.",
                 advanced=True)

    def _add_outputs(self) -> None:
        """The model file, the reports and the numbers the run returns."""
        self.add(QgsProcessingParameterFileDestination("OUTPUT_MODEL", self.tr("Model file"),
                                                       fileFilter="smapdown model (*.pt)"),
                 "Weights and model card (a .json copy of the card is written beside it).")
        self.add(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Training report"),
                                                       fileFilter="JSON (*.json)", optional=True),
                 "Per-epoch history and validation scores as JSON, and a loss-curve PNG beside it.")
        self.addOutput(QgsProcessingOutputHtml("OUTPUT_HTML", self.tr("Training report (HTML)")))
        self.addOutput(QgsProcessingOutputString("DEVICE", self.tr("Device used")))
        self.addOutput(QgsProcessingOutputNumber("EPOCHS_DONE", self.tr("Epochs finished")))
        for n, text in (("VAL_MAE_CNN_1", "Validation MAE of the CNN, first output band"),
                        ("VAL_MAE_CNN_2", "Validation MAE of the CNN, second output band"),
                        ("VAL_MAE_BICUBIC_1", "Validation MAE of bicubic interpolation, first output band"),
                        ("VAL_MAE_BICUBIC_2", "Validation MAE of bicubic interpolation, second output band")):
            self.addOutput(QgsProcessingOutputNumber(n, self.tr(f"{text} (K or m³/m³)")))

    def _date(self, parameters, name, context) -> dt.date | None:
        if parameters.get(name) in (None, ""):
            return None
        q = self.parameterAsDateTime(parameters, name, context)
        if not q.isValid():
            return None
        d = q.date()
        return dt.date(d.year(), d.month(), d.day())

    def check_values(self, parameters, context):
        model = parameters.get("OUTPUT_MODEL")
        model_text = str(getattr(getattr(model, "sink", None), "staticValue", lambda: model)() or "")
        tmp = QgsProcessingUtils.tempFolder()
        if not model_text or model_text == QgsProcessing.TEMPORARY_OUTPUT or \
                os.path.realpath(model_text).startswith(os.path.realpath(tmp) + os.sep):
            return self.tr("Model file: choose where to save the trained model (a .pt file); a temporary file "
                           "would be deleted when QGIS closes, and the training with it.")
        start, end = self._date(parameters, "START", context), self._date(parameters, "END", context)
        if start and end and start > end:
            return self.tr(f"First date {start} is after Last date {end}: choose a First date on or before the "
                           "Last date (e.g. 2015-04-13 .. 2015-07-07, the SMAP radar period).")
        from ..core.limits import check_train

        # memory of the network and its activations alone (the data is checked once read, in the run)
        features, patch = (self.parameterAsInt(parameters, k, context) for k in ("FEATURES", "PATCH"))
        check_train(features, patch)
        case = CASES[self.parameterAsEnum(parameters, "CASE", context)]
        if case == "soil moisture" and not self.input_files(parameters, "INPUT_LST", context):
            return self.tr("Case soil moisture needs 'LST files (soil-moisture case)': one MODIS LST file or LST "
                           "raster per day, or a folder of them.")
        return self.files_problem(case, *self.product_files(parameters, context, case))

    def product_files(self, parameters, context, case: str) -> tuple[list[str], list[str], list[str]]:
        """The 36 km TB files, the target files of ``case`` and the LST files among the inputs (folders listed,
        files kept by what they hold: core.files.product_kind)."""
        from ..core.files import kind_filter, list_files

        exts = (".h5", ".tif", ".tiff")
        low = list_files(self.input_files(parameters, "INPUT_LOW", context), exts, kind_filter("tb36"))
        high = list_files(self.input_files(parameters, "INPUT_HIGH", context), exts,
                          kind_filter("tb9" if case == "tb" else "sm_fine"))
        lst = [] if case == "tb" else list_files(self.input_files(parameters, "INPUT_LST", context),
                                                 (".hdf", ".tif", ".tiff"), kind_filter("lst"))
        return low, high, lst

    @staticmethod
    def files_problem(case: str, low: list[str], high: list[str], lst: list[str]) -> str | None:
        """A sentence naming the input that holds no file of the kind ``case`` trains on; None when each has one."""
        if not low:
            return ("'36 km TB files' (INPUT_LOW): none of the files given is a 36 km TB product (SPL1CTB, SPL2SMP, "
                    "SPL3SMP or a V/H raster on the 36 km grid).")
        if not high:
            what = "a 9 km SPL3SMAP/SPL2SMAP file" if case == "tb" else "an SPL2SMAP_S file"
            return (f"'High-resolution target files' (INPUT_HIGH): none of the files given is {what}, the target "
                    f"of case {case}.")
        if case != "tb" and not lst:
            return "Case soil moisture needs 'LST files (soil-moisture case)': one LST file per day."
        return None

    def execute(self, parameters, context, feedback, core_feedback):
        from ..model.train import is_main_process, split_by_date, train
        from ..workflows.train import card_extra_for, checkpoint_for

        case = CASES[self.parameterAsEnum(parameters, "CASE", context)]
        out_model = self.parameterAsFileOutput(parameters, "OUTPUT_MODEL", context)
        out_model += "" if out_model.lower().endswith(".pt") else ".pt"
        data, grid, prov = self.training_data(parameters, context, feedback, case)
        vdays = self.parameterAsInt(parameters, "VALIDATION_DAYS", context)
        tr, val_set = split_by_date(data, vdays) if vdays > 0 else (data, None)
        feedback.pushInfo(f"{len(tr.dates)} training days ({tr.dates[0]}..{tr.dates[-1]}), "
                          f"{len(val_set.dates) if val_set else 0} validation days, grid {grid.name} "
                          f"{grid.rows} x {grid.cols}; data: {prov['data']}")
        checkpoint = checkpoint_for(out_model, self.parameterAsBoolean(parameters, "RESUME", context))
        config = self.train_config(parameters, context, case, checkpoint)
        result = train(tr, val_set, config, core_feedback, card_extra=card_extra_for(case, grid, config.location, prov))
        out = {"OUTPUT_MODEL": out_model, "DEVICE": result.card.training.device or "",
               "EPOCHS_DONE": len(result.history)}
        if not is_main_process():  # torchrun: every process holds the same model; rank 0 alone writes it
            feedback.pushInfo("Not the main process of this torchrun job: the main process writes the model, "
                              "its card and the reports.")
            return out
        if result.canceled:
            feedback.reportError(self.kept_message(len(result.history), config.epochs, out_model, checkpoint), False)
        out.update(validation_outputs(result.history, data.output_names))
        out.update(self.write_outputs(parameters, context, out_model, case, (data, tr, val_set), grid, prov, result))
        return out

    def training_data(self, parameters, context, feedback, case: str):
        """(TrainingData, fine grid, provenance) from the input files (workflows.training_data); InputError when
        the data cannot train this network (memory of the real channel counts, validation days leaving no day)."""
        from ..core.limits import check_train
        from ..workflows.train import upsampling_for
        from ..workflows.training_data import sm_training_data, tb_training_data

        low, high, lst = self.product_files(parameters, context, case)
        extent, crs = self.extent_arg(parameters, context)
        start, end = self._date(parameters, "START", context), self._date(parameters, "END", context)
        static = self.input_file(parameters, "INPUT_STATIC", context)
        feedback.pushInfo(f"Reading {len(low)} 36 km files and {len(high)} target files")
        if case == "tb":
            method = upsampling_for(UPSAMPLING_OPTIONS[self.parameterAsEnum(parameters, "UPSAMPLING", context)],
                                    self.parameterAsBoolean(parameters, "LOCATION_SPECIFIC", context))
            data, grid, prov = tb_training_data(low, high, extent, crs, start, end, upsampling=method,
                                                static_path=static)
        else:
            data, grid, prov = sm_training_data(
                low, lst, high, GRIDS[self.parameterAsEnum(parameters, "GRID", context)], extent, crs, start, end,
                ancillary=self.parameterAsBoolean(parameters, "SM_ANCILLARY", context), static_path=static)
        # with the real channel counts; the data is already in memory, so the available memory excludes it
        check_train(self.parameterAsInt(parameters, "FEATURES", context), self.parameterAsInt(parameters, "PATCH",
                                                                                                context),
                    in_channels=len(data.input_names), out_channels=len(data.output_names))
        vdays = self.parameterAsInt(parameters, "VALIDATION_DAYS", context)
        if vdays >= len(set(data.dates)):
            raise InputError(f"Validation days (VALIDATION_DAYS) = {vdays} leaves no training day: "
                             f"the files give {len(set(data.dates))} dates; choose fewer.")
        return data, grid, prov

    def train_config(self, parameters, context, case: str, checkpoint: str):
        """The TrainConfig of the dialog's options."""
        from ..model.train import TrainConfig

        return TrainConfig(
            epochs=self.parameterAsInt(parameters, "EPOCHS", context),
            lr=self.parameterAsDouble(parameters, "LEARNING_RATE", context),
            weight_decay=self.parameterAsDouble(parameters, "WEIGHT_DECAY", context),
            device=DEVICES[self.parameterAsEnum(parameters, "DEVICE", context)],
            seed=self.parameterAsInt(parameters, "SEED", context),
            features=self.parameterAsInt(parameters, "FEATURES", context),
            patches_per_epoch=self.parameterAsInt(parameters, "PATCHES_PER_EPOCH", context),
            patch=self.parameterAsInt(parameters, "PATCH", context),
            residual=(case == "tb"), checkpoint=checkpoint,
            location=self.parameterAsBoolean(parameters, "LOCATION_SPECIFIC", context),
            bf16=self.parameterAsBoolean(parameters, "BF16", context),
            keep_partial=self.parameterAsBoolean(parameters, "KEEP_PARTIAL", context))

    def write_outputs(self, parameters, context, out_model: str, case: str, days: tuple, grid, prov: dict,
                      result) -> dict:
        """The model, its card, the reports and the loss curve, together or not at all: a failure on any (a full
        disk, an unwritable report folder) leaves the previous model file and its card as they were. ``days``:
        (all data, training part, validation part or None)."""
        from ..core.plots import loss_curve
        from ..model.io import save_model, write_card_json

        data, tr, val_set = days
        out = {}
        last = result.history[-1] if result.history else {}
        report_path = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context) or None
        units = data.output_units[0] if data.output_units else ""
        html_path = report_html_path(report_path)
        png = os.path.splitext(html_path)[0] + ".png"
        val = {band: {"CNN": {"mae": (last.get("val_mae") or {}).get(band)},
                      "bicubic": {"mae": (last.get("val_mae_baseline") or {}).get(band)}}
               for band in data.output_names} if last.get("val_mae") else None
        with OutputSet({"INPUT_STATIC": self.input_file(parameters, "INPUT_STATIC", context)}) as staged:
            save_model(staged.stage(out_model, name="OUTPUT_MODEL"), result.model, result.card)
            write_card_json(staged.stage(os.path.splitext(out_model)[0] + ".json", name="OUTPUT_MODEL"),
                            result.card)
            if report_path:
                out["OUTPUT_REPORT"] = staged_json(staged, report_path, f"smapdown training ({case})",
                                                   {"model": out_model, "card": result.card.to_dict(),
                                                    "history": result.history})
            loss_curve(result.history, staged.stage(png, name="OUTPUT_REPORT"),
                       f"smapdown training ({case}), data: {prov['data']}", units=units)
            html_report(
                staged.stage(html_path, name="OUTPUT_HTML"), f"Training ({case}): {os.path.basename(out_model)}",
                [("Model file", out_model), ("Case", case), ("Grid", grid.name),
                 ("Location-specific", "yes" if result.card.location_specific else "no"),
                 ("Training days", f"{len(tr.dates)} ({tr.dates[0]} .. {tr.dates[-1]})"),
                 ("Validation days", str(len(val_set.dates)) if val_set else "none"),
                 ("Epochs finished", str(len(result.history))), ("Training data", str(prov.get("data", "?")))],
                val,
                [f"Validation MAE on the held-out days, in {units or 'physical units'}; without validation days "
                 "there are no scores." if val else "No validation days, so no validation scores.",
                 "Loss per epoch (training and validation MAE, with bicubic interpolation's):"], images=[png],
                metrics_title="Validation on the held-out days")
        out["OUTPUT_HTML"] = html_path
        return out

    @staticmethod
    def kept_message(done: int, epochs: int, model: str, checkpoint: str) -> str:
        """What a cancel with 'On cancel, save the last finished epoch' keeps, for the log."""
        ck = f"; {checkpoint} holds it too, to resume the rest" if os.path.exists(checkpoint) else ""
        return (f"Training was cancelled after {done} of {epochs} epochs: {model} holds the model of epoch {done} "
                f"(its card records the cancel){ck}.")


def validation_outputs(history: list[dict], bands: list[str]) -> dict[str, float]:
    """VAL_MAE_CNN_1/2 and VAL_MAE_BICUBIC_1/2 of the last epoch, in the first two output bands' units; only those
    there are (no validation days: none; never NaN)."""
    last = history[-1] if history else {}
    out = {}
    for i, band in enumerate(bands[:2]):
        for key, what in ((f"VAL_MAE_CNN_{i + 1}", "val_mae"), (f"VAL_MAE_BICUBIC_{i + 1}", "val_mae_baseline")):
            v = (last.get(what) or {}).get(band)
            if v is not None and float(v) == float(v):
                out[key] = float(v)
    return out
