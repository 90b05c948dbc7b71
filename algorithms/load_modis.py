"""smapdown:loadmodis — MODIS daily LST area-averaged onto an EASE-Grid 2.0 grid."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
)

from ..core import modis
from ..core.raster import write_scene
from .base import SmapdownAlgorithm
from .layers import layer_name
from .params import grid_labels

LAYERS = ["day", "night"]
GRIDS = ["M36", "M09", "M03", "M01"]
GRID_LABELS = grid_labels(GRIDS)


class LoadModisAlgorithm(SmapdownAlgorithm):
    """MOD11A1/MYD11A1 LST (or an LST raster) onto EASE2 with area weighting and valid counts."""

    NAME = "loadmodis"
    DISPLAY = "Load MODIS land surface temperature"
    GROUP = "data"
    HELP = (
        "Puts MODIS daily land-surface temperature (MOD11A1 Terra or MYD11A1 Aqua, 1 km) into your project on "
        "an EASE-Grid 2.0 grid (36, 9, 3 or 1 km), averaged by area. Band 1 is LST in kelvin, band 2 the number "
        "of valid 1 km cells behind each output cell. With quality control on, only retrievals flagged "
        "'good quality' are kept.\n\nA GeoTIFF of LST in kelvin in any CRS is accepted too."
    )
    INPUT, LAYER, GRID, QC, EXTENT, OUTPUT = "INPUT", "LAYER", "GRID", "QC", "EXTENT", "OUTPUT"

    def initAlgorithm(self, config=None) -> None:
        self.add(QgsProcessingParameterFile(
            self.INPUT, self.tr("MODIS LST file"),
            fileFilter="MODIS HDF4 (*.hdf *.HDF);;GeoTIFF (*.tif *.tiff);;All files (*)"),
            "A MOD11A1 or MYD11A1 granule, or a raster of LST in K.")
        self.add(QgsProcessingParameterEnum(self.LAYER, self.tr("Layer"), options=LAYERS, defaultValue=0),
                 "Daytime (LST_Day_1km) or night-time (LST_Night_1km) temperature.")
        self.add(QgsProcessingParameterEnum(self.GRID, self.tr("EASE-Grid 2.0 grid"), options=GRID_LABELS,
                                            defaultValue=1),
                 "Output grid: 36, 9, 3 or 1 km.")
        self.add(QgsProcessingParameterBoolean(self.QC, self.tr("Keep only good-quality retrievals"),
                                               defaultValue=True),
                 "Drop cells whose QC mandatory bits are not 00 (good quality).")
        self.add_extent()
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("LST on EASE2")),
                 "GeoTIFF: band 1 LST (K), band 2 count of valid 1 km cells.")
        self.addOutput(QgsProcessingOutputString("DATE", self.tr("Observation date")))

    def check_values(self, parameters, context):
        return self.extent_problem(parameters, context, self.input_file(parameters, self.INPUT, context),
                                   self.parameterDefinition(self.INPUT).description())

    def execute(self, parameters, context, feedback, core_feedback):
        path = self.input_file(parameters, self.INPUT, context)
        layer = LAYERS[self.parameterAsEnum(parameters, self.LAYER, context)]
        grid = GRIDS[self.parameterAsEnum(parameters, self.GRID, context)]
        qc = self.parameterAsBoolean(parameters, self.QC, context)
        extent, crs = self.extent_arg(parameters, context)
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        feedback.pushInfo(f"Reading {path} ({layer}, QC {'on' if qc else 'off'}) onto {grid}")
        scene = modis.read_lst(path, layer=layer, grid_name=grid, qc=qc, extent=extent,
                               extent_crs=crs, feedback=core_feedback)
        write_scene(out, scene)
        km = {"M36": "36 km", "M09": "9 km", "M03": "3 km", "M01": "1 km"}[grid]
        self.load_styled(context, out, layer_name(f"LST {layer} {km} (K)", scene.label), "temperature", 0, "K")
        return {self.OUTPUT: out, "DATE": scene.date.isoformat() if scene.date else ""}
