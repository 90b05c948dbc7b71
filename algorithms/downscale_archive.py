"""smapdown:downscalearchive — a folder, list or date range of SMAP products → COGs, VRTs and a manifest, on Dask.

Thin glue over :mod:`smapdown.workflows.archive` (the same job as ``python -m smapdown.workflows.archive``).
"""

from __future__ import annotations

import datetime as dt
import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .base import SmapdownAlgorithm
from .params import DEVICES, SM_GRIDS, device_param, grid_labels, precision_param, static_param

CASES = ["tb", "sm"]
PASSES = [("AM", "PM"), ("AM",), ("PM",)]
GRIDS = SM_GRIDS
GRID_OPTIONS = grid_labels(SM_GRIDS)


class DownscaleArchiveAlgorithm(SmapdownAlgorithm):
    """Many products in one resumable run: one Dask task per product and pass."""

    NAME = "downscalearchive"
    DISPLAY = "Downscale an archive of SMAP products"
    GROUP = "downscaling"
    NEEDS_TORCH = True
    HELP = (
        "Downscales a whole archive of SMAP products in one run that can be resumed: every 36 km product of a "
        "folder, a list of files or a date range becomes 9 km brightness temperature (as 'Downscale SMAP "
        "brightness temperature' makes it) or, with Case: soil moisture, soil moisture from the LST file of the "
        "same date (as 'Estimate soil moisture' makes it). The output folder gets a Cloud-Optimised GeoTIFF per "
        "product, pass and quantity named by date (e.g. 20150401_AM_tb_v.tif), a VRT per quantity stacking them "
        "in date order (tb_v.vrt: one band per product, a time series to open in QGIS), and manifest.csv (file, "
        "date, pass, status, seconds, largest |4×4 block mean − 36 km TB|, device, sizes and checksums).\n\n"
        "Resumable: run it again with the same settings and it skips the products the manifest lists as done "
        "whose files are unchanged, and redoes the rest (an interrupted product is never left half-written); "
        "the log says why a product is redone.\n\n"
        "Each product is one Dask task. Inside QGIS the tasks run on a Dask cluster within QGIS (one thread per "
        "worker); a Dask scheduler address (tcp://host:8786, advanced options) sends them to a "
        "cluster instead (its scheduler and workers must import smapdown; the workers see the same folders). Every "
        "product is computed with one torch thread, so the files are the same bits whichever way they were "
        "scheduled.\n\n"
        "Honest limits: the bundled models were trained on SIMULATED scenes (see their model cards); for a place "
        "you know, train a model with 'Train downscaling network' and give it as the Model file."
    )

    def initAlgorithm(self, config=None) -> None:
        self.add(QgsProcessingParameterFile("INPUT_FOLDER", self.tr("Folder of SMAP products"),
                                            behavior=QgsProcessingParameterFile.Folder, optional=True),
                 "A folder: every 36 km TB product in it (SPL1CTB, SPL2SMP(_NRT), SPL3SMP, or M36 V/H rasters) is "
                 "processed; other files are ignored.")
        self.add(QgsProcessingParameterMultipleLayers("INPUT_FILES", self.tr("SMAP product files"),
                                                      QgsProcessing.TypeFile, optional=True),
                 "Product files (or folders) to process, besides or instead of the folder above.")
        for name, text in (("START", "First date"), ("END", "Last date")):
            self.add(QgsProcessingParameterDateTime(name, self.tr(text), type=QgsProcessingParameterDateTime.Date,
                                                    optional=True),
                     "Only products dated from the first to the last date, both included (the date from the file "
                     "name, else the file's metadata).")
        self.add(QgsProcessingParameterEnum("PASSES", self.tr("Passes"), options=["AM and PM", "AM", "PM"],
                                            defaultValue=0),
                 "Which passes of daily products (SPL3SMP) to process; half-orbit products have one each.")
        self.add(QgsProcessingParameterEnum("CASE", self.tr("Case"), options=["brightness temperature 9 km",
                                                                           "soil moisture"], defaultValue=0),
                 "brightness temperature: 36 km TB → 9 km TB V and H; soil moisture: TB + the LST of the same "
                 "date → soil moisture on the soil-moisture grid (3 or 9 km, advanced options).")
        self.add(QgsProcessingParameterFile("LST", self.tr("LST folder (soil moisture)"),
                                            behavior=QgsProcessingParameterFile.Folder, optional=True),
                 "Soil moisture only: a folder of MODIS MOD11A1/MYD11A1 files or LST rasters, paired with the SMAP "
                 "products by date (from their names, e.g. A2019305 or 20150401). Products without an LST file "
                 "of their date are listed as missing_input and retried by a rerun.")
        self.add(QgsProcessingParameterEnum("GRID", self.tr("Soil-moisture grid"), options=GRID_OPTIONS,
                                            defaultValue=0),
                 "Output grid of the soil-moisture case (3 or 9 km).", advanced=True)
        self.add(QgsProcessingParameterFile("MODEL", self.tr("Model file"), optional=True,
                                            fileFilter="smapdown model (*.pt)"),
                 "A model written by 'Train downscaling network'. Empty: the bundled general model of the case "
                 "(trained on simulated scenes).")
        device_param(self)
        precision_param(self)
        static_param(self)
        self.add_extent()
        self.add(QgsProcessingParameterBoolean("MEAN_PRESERVE", self.tr("Preserve 36 km means"), defaultValue=True),
                 "Brightness temperature: shift each 4 × 4 block of 9 km pixels so its mean equals the 36 km "
                 "observation.")
        self.add(QgsProcessingParameterNumber("TILE", self.tr("Tile size (pixels)"), minValue=32, maxValue=4096,
                                              defaultValue=256),
                 "Inference tile size; memory per worker grows with its square.", advanced=True)
        self.add(QgsProcessingParameterString("SCHEDULER", self.tr("Dask scheduler address"), optional=True),
                 "Empty: a Dask cluster inside QGIS (one thread per worker). An address such as tcp://host:8786: the "
                 "tasks run on that cluster (start it with `dask scheduler` and `dask worker tcp://host:8786 "
                 "--nthreads 1 --nworkers <cores>` on machines that see the same folders).", advanced=True)
        self.add(QgsProcessingParameterNumber("WORKERS", self.tr("Workers (threads)"), minValue=0, defaultValue=0),
                 "Products processed at once inside QGIS; 0: one per core.", advanced=True)
        self.add(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", self.tr("Output folder")),
                 "COGs, VRTs and manifest.csv; a rerun into the same folder resumes.")
        self.addOutput(QgsProcessingOutputFile("MANIFEST", self.tr("Manifest")))
        self.addOutput(QgsProcessingOutputString("VRTS", self.tr("VRT per quantity (';'-separated)")))
        for name in ("TOTAL", "COMPLETE", "SKIPPED", "EMPTY", "MISSING_INPUT"):
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(f"Products {name.lower().replace('_', ' ')}")))
        self.addOutput(QgsProcessingOutputNumber("PRODUCTS_PER_HOUR", self.tr("Products computed per hour")))

    def _date(self, parameters, name, context) -> dt.date | None:
        if parameters.get(name) in (None, ""):
            return None
        q = self.parameterAsDateTime(parameters, name, context)
        if not q.isValid():
            return None
        d = q.date()
        return dt.date(d.year(), d.month(), d.day())

    def _inputs(self, parameters, context) -> list[str]:
        folder = self.input_file(parameters, "INPUT_FOLDER", context)
        return ([folder] if folder else []) + self.input_files(parameters, "INPUT_FILES", context)

    def check_values(self, parameters, context):
        inputs = self._inputs(parameters, context)
        if not inputs:
            return self.tr("Give a 'Folder of SMAP products' or 'SMAP product files'.")
        start, end = self._date(parameters, "START", context), self._date(parameters, "END", context)
        if start and end and start > end:
            return self.tr(f"First date ({start}) is after last date ({end}).")
        if CASES[self.parameterAsEnum(parameters, "CASE", context)] == "sm" and not parameters.get("LST"):
            return self.tr("LST folder (soil moisture): the soil-moisture case needs the LST files of the dates.")
        out = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        if out and any(os.path.isdir(p) and os.path.realpath(p) == os.path.realpath(out) for p in inputs):
            return self.tr(f"Output folder ({out}) is the input folder: choose a folder of its own for the outputs.")
        return None

    def execute(self, parameters, context, feedback, core_feedback):
        from ..workflows.archive import run_archive

        case = CASES[self.parameterAsEnum(parameters, "CASE", context)]
        extent, crs = self.extent_arg(parameters, context)
        scheduler = (self.parameterAsString(parameters, "SCHEDULER", context) or "").strip() or "threads"
        workers = self.parameterAsInt(parameters, "WORKERS", context) or None
        output = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        s = run_archive(
            self._inputs(parameters, context), output,
            start=self._date(parameters, "START", context), end=self._date(parameters, "END", context),
            passes=PASSES[self.parameterAsEnum(parameters, "PASSES", context)], case=case,
            lst=self.input_file(parameters, "LST", context), model=self.input_file(parameters, "MODEL", context),
            device=DEVICES[self.parameterAsEnum(parameters, "DEVICE", context)],
            bf16=self.parameterAsBoolean(parameters, "BF16", context),
            tile=self.parameterAsInt(parameters, "TILE", context),
            mean_preserve=self.parameterAsBoolean(parameters, "MEAN_PRESERVE", context), extent=extent,
            extent_crs=crs, grid=GRIDS[self.parameterAsEnum(parameters, "GRID", context)],
            static=self.input_file(parameters, "STATIC", context), scheduler=scheduler, workers=workers,
            feedback=core_feedback)
        return {"OUTPUT_FOLDER": s.output, "MANIFEST": s.manifest, "VRTS": ";".join(s.vrts), "TOTAL": s.total,
                "COMPLETE": s.complete, "SKIPPED": s.skipped, "EMPTY": s.empty, "MISSING_INPUT": s.missing_input,
                "PRODUCTS_PER_HOUR": s.products_per_hour}
