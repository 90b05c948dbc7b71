"""smapdown:loadsmap — a SMAP HDF5 product as a GeoTIFF layer on its EASE-Grid 2.0 grid."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)

from ..core import smap
from ..core.raster import write_scene
from ..core.regrid import crop_to_data
from .base import SmapdownAlgorithm
from .layers import layer_name, nice_units, style_for_roles

PASSES = ["Default (AM where the product has AM and PM)", "AM", "PM"]
GRID_KM = {"M36": "36 km", "M09": "9 km", "M03": "3 km", "M01": "1 km"}
QUANTITIES = {"tb_v": "TB V", "tb_h": "TB H", "soil_moisture": "Soil moisture",
              "surface_temperature": "Surface temp.", "vegetation_water_content": "VWC", "sigma0_vv": "Sigma0 VV"}


class LoadSmapAlgorithm(SmapdownAlgorithm):
    """Read SPL1CTB/SPL2SMP/SPL3SMP/SPL3SMAP/SPL2SMAP/SPL2SMAP_S variables onto the EASE2 grid."""

    NAME = "loadsmap"
    DISPLAY = "Load SMAP product"
    GROUP = "data"
    HELP = (
        "Puts a NASA SMAP HDF5 product into your project as map layers on its exact EASE-Grid 2.0 grid "
        "(EPSG:6933; 36 km, 9 km, 3 km or 1 km): one layer per quantity (TB V, TB H, soil moisture, surface "
        "temperature), each styled and with its units.\n\n"
        "The product is recognised from the file's own metadata: SPL1CTB(_E), SPL2SMP(_E, _NRT), SPL3SMP(_E), "
        "SPL3SMAP, SPL2SMAP, SPL2SMAP_S. Fill values, values outside the documented valid range and NaN become "
        "empty cells (nodata -9999). The written GeoTIFF keeps every chosen variable as a band named after it, "
        "so 'Downscale' and 'Estimate soil moisture' can read it back."
    )
    INPUT, VARIABLES, PASS, EXTENT, OUTPUT = "INPUT", "VARIABLES", "PASS", "EXTENT", "OUTPUT"

    def initAlgorithm(self, config=None) -> None:
        self.add(QgsProcessingParameterFile(self.INPUT, self.tr("SMAP product (HDF5)"),
                                            fileFilter="SMAP HDF5 (*.h5 *.H5 *.he5 *.hdf5);;All files (*)"),
                 "A SMAP HDF5 granule as distributed by NASA (e.g. SMAP_L3_SM_P_*.h5).")
        self.add(QgsProcessingParameterString(self.VARIABLES, self.tr("Variables (comma separated)"),
                                              optional=True),
                 "Variable names as in the file (e.g. tb_v_corrected, soil_moisture) or roles "
                 "(tb_v, tb_h, soil_moisture, surface_temperature). Empty: TB V and H, soil moisture "
                 "and surface temperature where the product has them.")
        self.add(QgsProcessingParameterEnum(self.PASS, self.tr("Pass"), options=PASSES, defaultValue=0),
                 "AM (descending, 6 am) or PM (ascending, 6 pm) for products that carry both (SPL3SMP).")
        self.add_extent()
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("SMAP layer")),
                 "GeoTIFF, one band per variable, nodata -9999.")
        self.addOutput(QgsProcessingOutputString("PRODUCT", self.tr("Product short name")))
        self.addOutput(QgsProcessingOutputString("GRID", self.tr("EASE-Grid 2.0 grid")))
        self.addOutput(QgsProcessingOutputString("DATE", self.tr("Observation date")))

    def load_quantities(self, context, out: str, scene) -> None:
        """In the Toolbox: one layer per variable (all of the written GeoTIFF, each showing its own band), named
        with its quantity, grid and units and styled for it, instead of one multiband layer of mixed units."""
        km = GRID_KM.get(scene.grid.name, scene.grid.name)
        layers = []
        for i, v in enumerate(scene.variables.values(), start=1):
            units = nice_units(v.units)
            quantity = f"{QUANTITIES.get(v.role, v.name)} {km}" + (f" ({units})" if units else "")
            layers.append((i, layer_name(quantity, scene.label), style_for_roles([v.role]), units))
        _, name, style, units = layers[0]
        self.load_styled(context, out, name, style, 0, units, more_bands=layers[1:])

    def check_values(self, parameters, context):
        return self.extent_problem(parameters, context, self.input_file(parameters, self.INPUT, context),
                                   self.parameterDefinition(self.INPUT).description())

    def execute(self, parameters, context, feedback, core_feedback):
        path = self.input_file(parameters, self.INPUT, context)
        text = self.parameterAsString(parameters, self.VARIABLES, context).strip()
        variables = [v.strip() for v in text.split(",") if v.strip()] or None
        pass_ = [None, "AM", "PM"][self.parameterAsEnum(parameters, self.PASS, context)]
        extent, crs = self.extent_arg(parameters, context)
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)

        feedback.pushInfo(f"Reading {path}")
        scene = smap.read_smap(path, variables=variables, pass_=pass_, extent=extent, extent_crs=crs)
        if extent is None:
            scene = crop_to_data(scene)
        feedback.pushInfo(f"{scene.label}: {', '.join(scene.variables)} on {scene.grid.name} "
                          f"window {scene.grid.rows} x {scene.grid.cols} "
                          f"({100 * scene.valid_fraction():.1f}% cells with data)")
        feedback.setProgress(60)
        write_scene(out, scene)
        self.load_quantities(context, out, scene)
        return {self.OUTPUT: out, "PRODUCT": scene.product, "GRID": scene.grid.name,
                "DATE": scene.date.isoformat() if scene.date else ""}
