"""smapdown:simulate — a physically based SMAP scene series with known truth, in NASA layouts."""

from __future__ import annotations

import datetime as dt
import json

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
)
from qgis.PyQt.QtCore import QDate

from .base import SmapdownAlgorithm

CLIMATES = ["temperate", "arid", "humid", "continental"]


class SimulateAlgorithm(SmapdownAlgorithm):
    """Simulated SPL3SMP (36 km), SPL3SMAP (9 km radar-guided), SPL2SMAP_S (3 km) and LST files."""

    NAME = "simulate"
    DISPLAY = "Simulate SMAP scenes (training and test data)"
    GROUP = "training"
    HELP = (
        "Makes test and training data with a known truth: a region simulated over a series of days, written as "
        "SMAP and MODIS-like files in the real NASA layouts so every smapdown algorithm reads them: SPL3SMP-like "
        "36 km TB, SPL3SMAP-like radar-guided 9 km TB, SPL2SMAP_S-like 3 km soil moisture, 1 km LST and the "
        "true 9 km TB. Every file says in its metadata that it is SIMULATED, with its seed; the same seed gives "
        "the same files.\n\n"
        "Physics: soil moisture from a climatology with rain and dry-down; Mironov dielectric model, Fresnel "
        "reflectivity at 40°, roughness and the tau-omega vegetation model; the 36 km TB is the fine TB under a "
        "~40 km radiometer footprint with 1.1 K noise and swath gaps; the radar-guided 9 km TB follows SMAP's "
        "active–passive algorithm (TB_9 = TB_36 + β·(σ_9 − σ_36))."
    )
    EXTENT, START, DAYS, SEED, CLIMATE, OUTPUT_FOLDER = "EXTENT", "START", "DAYS", "SEED", "CLIMATE", "OUTPUT_FOLDER"

    def initAlgorithm(self, config=None) -> None:
        self.add_extent()
        self.parameterDefinition(self.EXTENT).setHelp(self.tr(
            "Region to simulate (any CRS), snapped to whole 36 km cells. Empty: a default 108 × 108 km "
            "region in Oklahoma (3 × 3 cells of 36 km)."))
        self.add(QgsProcessingParameterDateTime(self.START, self.tr("First day"),
                                                type=QgsProcessingParameterDateTime.Date,
                                                defaultValue=QDate(2015, 4, 1)),
                 "Date of the first simulated day (default 2015-04-01, the start of the SMAP radar period).")
        self.add(QgsProcessingParameterNumber(self.DAYS, self.tr("Number of days"), minValue=1, maxValue=366,
                                              defaultValue=30),
                 "Length of the daily series.")
        self.add(QgsProcessingParameterNumber(self.SEED, self.tr("Random seed"), minValue=0, defaultValue=1),
                 "The same seed gives the same scenes, byte for byte.")
        self.add(QgsProcessingParameterEnum(self.CLIMATE, self.tr("Climate"), options=CLIMATES, defaultValue=0),
                 "Sets mean soil moisture, vegetation and rain frequency.")
        self.add(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, self.tr("Output folder")),
                 "Where the product files are written (one file per product and day). They appear there all "
                 "together when the run finishes (a cancelled run leaves none), with smapdown-manifest.json "
                 "listing them.")
        self.add(QgsProcessingParameterBoolean("REPLACE", self.tr("Replace files of an earlier run"),
                                               defaultValue=False, optional=True),
                 "When the output folder already holds files of the same names (an earlier simulation), replace "
                 "them. Off: such a folder is refused before anything in it changes; choose an empty folder.",
                 advanced=True)
        for name, text in (("LOW_FILES", "36 km SPL3SMP-like files"), ("HIGH_FILES", "9 km SPL3SMAP-like files"),
                           ("SM_FILES", "3 km SPL2SMAP_S-like files"), ("LST_FILES", "1 km LST GeoTIFFs"),
                           ("TRUTH_FILES", "True 9 km TB GeoTIFFs")):
            self.addOutput(QgsProcessingOutputString(name, self.tr(f"{text} (';'-separated)")))
        self.addOutput(QgsProcessingOutputNumber("SUBCELL_STD_LAND", self.tr("Sub-cell TB std, land cells (K)")))
        self.addOutput(QgsProcessingOutputNumber("SUBCELL_STD_WATER",
                                                 self.tr("Sub-cell TB std, cells with water (K)")))

    def _grid(self, parameters, context):
        from ..core import simulate
        from ..core.grid import Grid

        extent, crs = self.extent_arg(parameters, context)
        return (Grid.global_grid("M36").subset(extent, crs) if extent is not None
                else simulate.default_region())

    def check_values(self, parameters, context):
        from ..core.limits import check_simulate

        grid = self._grid(parameters, context)  # an extent off the grid raises a sentence (InputError)
        check_simulate(grid.rows, grid.cols, self.parameterAsInt(parameters, self.DAYS, context))
        return None

    def execute(self, parameters, context, feedback, core_feedback):
        from ..core import simulate
        from ..core.limits import check_simulate

        grid = self._grid(parameters, context)
        qd = self.parameterAsDateTime(parameters, self.START, context).date()
        start = dt.date(qd.year(), qd.month(), qd.day())
        days = self.parameterAsInt(parameters, self.DAYS, context)
        check_simulate(grid.rows, grid.cols, days)  # also when a caller skipped checkParameterValues
        seed = self.parameterAsInt(parameters, self.SEED, context)
        climate = CLIMATES[self.parameterAsEnum(parameters, self.CLIMATE, context)]
        folder = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        feedback.pushInfo(f"Simulating {grid.rows} x {grid.cols} cells of 36 km, {days} days from {start}, "
                          f"{climate}, seed {seed}")
        series = simulate.simulate_region(grid, start, days, seed, climate=climate, feedback=core_feedback)
        from ..core.atomic import moved, staged_folder

        # the whole day set appears at once, or nothing (cancel, full disk); an earlier run's files are
        # replaced only when asked
        with staged_folder(folder, replace=self.parameterAsBoolean(parameters, "REPLACE", context),
                           manifest={"seed": seed, "start": str(start), "days": days, "climate": climate}) as stage:
            staged = simulate.write_series(series, stage, feedback=core_feedback)
        files = {k: moved(v, stage, folder) for k, v in staged.items()}
        var = simulate.subcell_variability(series)
        feedback.pushInfo("Sub-cell variability of the true 9 km TB within 36 km cells (K): "
                          + json.dumps(var))
        out = {self.OUTPUT_FOLDER: folder,
               "LOW_FILES": ";".join(files["low"]), "HIGH_FILES": ";".join(files["high"]),
               "SM_FILES": ";".join(files["sm3"]), "LST_FILES": ";".join(files["lst"]),
               "TRUTH_FILES": ";".join(files["truth"]),
               "SUBCELL_STD_LAND": _first_number(var, "land"), "SUBCELL_STD_WATER": _first_number(var, "water")}
        return out


def _first_number(var: dict, key: str) -> float:
    """The V-polarisation figure of a sub-cell variability entry whose name contains ``key``."""
    for k, v in var.items():
        if key in k:
            if isinstance(v, dict):
                v = v.get("tb_v", next(iter(v.values()), float("nan")))
            try:
                return float(v)
            except (TypeError, ValueError):
                continue
    return float("nan")
