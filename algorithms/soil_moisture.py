"""smapdown:soilmoisture — soil moisture from SMAP TB and MODIS LST with the case-2 CNN."""

from __future__ import annotations

import os

from qgis.core import (
    QgsProcessingOutputHtml,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..core.atomic import OutputSet
from ..core.raster import BandSpec, write_geotiff
from .base import SmapdownAlgorithm, bundled_model, model_case_problem
from .layers import layer_name
from .params import DEVICES, SM_GRIDS, device_param, grid_labels, precision_param, reference_params, static_param
from .reports import html_report, input_checks, report_html_path, report_outputs, staged_json

GRIDS = SM_GRIDS
GRID_LABELS = grid_labels(SM_GRIDS)
SM_BAND = [BandSpec("soil_moisture", "m3/m3", "volumetric soil moisture")]


class SoilMoistureAlgorithm(SmapdownAlgorithm):
    """SMAP TB (36 km) + LST → soil moisture on the 3 or 9 km EASE2 grid."""

    NAME = "soilmoisture"
    DISPLAY = "Estimate soil moisture (SMAP TB + MODIS LST)"
    GROUP = "soilmoisture"
    NEEDS_TORCH = True
    DEFAULT_MODEL = bundled_model("sm_general.pt")
    HELP = (
        "Estimates soil moisture (m³/m³) on a 3 km (default) or 9 km grid from SMAP 36 km brightness "
        "temperature and MODIS land-surface temperature, with a convolutional neural network. Choose an SPL2SMP "
        "or SPL3SMP product (the bundled model also reads the product's own 36 km soil-moisture retrieval, "
        "vegetation water content and surface temperature) and a MODIS MOD11A1/MYD11A1 day (or an LST raster).\n\n"
        "With a soil-moisture reference (SPL2SMAP_S) you also get a difference map and a report of ubRMSE, "
        "RMSE, bias and R, which opens in the Results Viewer.\n\n"
        "Honest limits: the bundled model was trained on SIMULATED scenes; its model card (model/sm_general.json) "
        "states its held-out ubRMSE. Frozen ground and cells the product did not retrieve stay empty.\n\n"
        "Method: the network of a research poster on CNN downscaling of SMAP data (its title is not recorded in "
        "this plugin), with one output band and no residual connection."
    )
    INPUT, LST, MODEL, GRID, DEVICE, EXTENT = "INPUT", "LST", "MODEL", "GRID", "DEVICE", "EXTENT"
    REFERENCE, OUTPUT, OUTPUT_DIFF, OUTPUT_REPORT = "REFERENCE", "OUTPUT", "OUTPUT_DIFF", "OUTPUT_REPORT"
    OUTPUT_HTML = "OUTPUT_HTML"

    def initAlgorithm(self, config=None) -> None:
        self.add(QgsProcessingParameterRasterLayer(
            self.INPUT, self.tr("SMAP 36 km brightness temperature (product or V/H raster)")),
            "A SMAP product with 36 km TB (SPL1CTB, SPL2SMP, SPL3SMP) or a V/H raster on the 36 km grid.")
        self.add(QgsProcessingParameterRasterLayer(
            self.LST, self.tr("Land surface temperature (MODIS product or raster)")),
            "MOD11A1/MYD11A1 daytime LST, or a raster of LST in K in any CRS; area-averaged onto the grid.")
        self.add(QgsProcessingParameterFile(self.MODEL, self.tr("Model file"), optional=True,
                                            fileFilter="smapdown model (*.pt)"),
                 "A soil-moisture model from 'Train downscaling network' (case soil moisture). Empty: the "
                 "bundled model (trained on simulated scenes).")
        self.add(QgsProcessingParameterEnum(self.GRID, self.tr("Output grid"), options=GRID_LABELS,
                                            defaultValue=0),
                 "EASE-Grid 2.0 3 km (M03) or 9 km (M09).")
        device_param(self)
        precision_param(self)
        static_param(self)
        self.add_extent()
        self.add(QgsProcessingParameterRasterLayer(self.REFERENCE, self.tr("Soil-moisture reference"), optional=True),
            "An SPL2SMAP_S file (3 km / 1 km soil moisture) or a soil-moisture raster on an EASE2 grid.")
        reference_params(self)
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Soil moisture")),
                 "GeoTIFF, band soil_moisture in m³/m³.")
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT_DIFF, self.tr("CNN − reference"),
                                                         optional=True, createByDefault=False),
                 "Soil moisture minus the reference (m³/m³); needs a 'Soil-moisture reference'.")
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT_REPORT, self.tr("Report"),
                                                       fileFilter="JSON (*.json)", optional=True,
                                                       createByDefault=False),
                 "ubRMSE, RMSE, bias, R (and MAE) against the reference, as JSON and HTML.")
        self.addOutput(QgsProcessingOutputHtml(self.OUTPUT_HTML, self.tr("Soil-moisture report")))
        self.addOutput(QgsProcessingOutputString("DEVICE", self.tr("Device used")))
        for n, text in (("UBRMSE", "ubRMSE"), ("RMSE", "RMSE"), ("BIAS", "Bias"), ("R", "R"), ("MAE", "MAE")):
            unit = "" if n == "R" else " (m³/m³)"  # only in the results when a reference was given
            self.addOutput(QgsProcessingOutputNumber(f"{n}_CNN_SOIL_MOISTURE",
                                                     self.tr(f"{text} of the CNN vs the reference{unit}")))

    def check_values(self, parameters, context):
        if parameters.get(self.OUTPUT_DIFF) not in (None, "") and not self.input_file(parameters, self.REFERENCE,
                                                                                       context):
            return self.tr(f"{self.parameterDefinition(self.OUTPUT_DIFF).description()}: the difference map needs "
                           "a 'Soil-moisture reference' (an SPL2SMAP_S file or a soil-moisture raster); give one "
                           "or leave this output empty.")
        model = self.parameterAsFile(parameters, self.MODEL, context)
        if model:
            problem = model_case_problem(model, "soil moisture", self.tr("Model file"))
            if problem:
                return problem
        return self.extent_problem(parameters, context, self.input_file(parameters, self.INPUT, context),
                                   self.parameterDefinition(self.INPUT).description())

    def execute(self, parameters, context, feedback, core_feedback):
        from ..core.inputs import read_tb36
        from ..workflows.soil_moisture import estimate_soil_moisture, sm_model_ancillary

        model = self.parameterAsFile(parameters, self.MODEL, context) or None
        extent, crs = self.extent_arg(parameters, context)
        scene = read_tb36(self.input_file(parameters, self.INPUT, context), extent, crs,
                          ancillary=sm_model_ancillary(model))
        res = estimate_soil_moisture(scene, self.input_file(parameters, self.LST, context), model,
                                     GRIDS[self.parameterAsEnum(parameters, self.GRID, context)],
                                     DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                                     self.input_file(parameters, self.REFERENCE, context), feedback=core_feedback,
                                     **self.run_options(parameters, context))
        feedback.pushInfo(f"Device used: {res.device}")
        checks = input_checks(res.metrics)
        for what, value in checks:
            feedback.pushInfo(f"{what}: {value}")
        result = self.write_outputs(parameters, context, scene, res, checks)
        flat = report_outputs(res.metrics)  # only against a reference: never NaN outputs
        for n in ("UBRMSE", "RMSE", "BIAS", "R", "MAE"):
            if f"{n}_CNN_SOIL_MOISTURE" in flat:
                result[f"{n}_CNN_SOIL_MOISTURE"] = flat[f"{n}_CNN_SOIL_MOISTURE"]
        if "bands" in res.metrics:
            m = res.metrics["bands"]["soil_moisture"]["cnn"]
            feedback.pushInfo(f"vs {res.metrics['reference']}: ubRMSE {m['ubrmse']:.4f}, RMSE {m['rmse']:.4f}, "
                              f"bias {m['bias']:+.4f} m3/m3, R {m['r']:.3f}")
        return result

    def write_outputs(self, parameters, context, scene, res, checks: list) -> dict:
        """The soil-moisture map, its difference to the reference and the reports, staged and published together
        (none on a failure or cancel). Returns the algorithm's results."""
        path, lst = self.input_file(parameters, self.INPUT, context), self.input_file(parameters, self.LST, context)
        model = self.parameterAsFile(parameters, self.MODEL, context) or None
        out_diff = self.parameterAsOutputLayer(parameters, self.OUTPUT_DIFF, context) or None
        report_path = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context) or None
        training = res.model_card.training.to_dict()
        md = {"product": scene.product, "source_file": path, "lst_file": lst,
              "model": model or "bundled sm_general", "device": res.device,
              "training_data": str(training.get("data", ""))}
        km = {"M03": "3 km", "M09": "9 km"}[res.grid.name]
        result = {"DEVICE": res.device}
        with OutputSet({"INPUT": path, "LST": lst, "MODEL": model or self.DEFAULT_MODEL,
                        "REFERENCE": self.input_file(parameters, self.REFERENCE, context),
                        "STATIC": self.input_file(parameters, "STATIC", context)}) as staged:
            final = os.path.abspath(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
            write_geotiff(staged.stage(final, name=self.OUTPUT), res.grid, [res.sm], SM_BAND, md)
            written = {self.OUTPUT: final}
            self.load_styled(context, final, layer_name(f"Soil moisture {km} CNN (m³/m³)", scene.label),
                             "soil_moisture", 0, "m³/m³")
            if out_diff and res.reference is not None:
                final_diff = os.path.abspath(out_diff)
                write_geotiff(staged.stage(final_diff, name=self.OUTPUT_DIFF), res.grid, [res.sm - res.reference],
                              SM_BAND, {**md, "quantity": "CNN - reference"})
                written[self.OUTPUT_DIFF] = final_diff
                self.load_styled(context, final_diff, layer_name("SM CNN − ref. (m³/m³)", scene.label),
                                 "difference_sm", 1, "m³/m³")
            if report_path:
                result[self.OUTPUT_REPORT] = staged_json(staged, report_path, f"smapdown soil moisture: {scene.label}",
                                                         {"input": path, "lst": lst, "device": res.device,
                                                          **res.metrics})
            result[self.OUTPUT_HTML] = html_final = report_html_path(report_path)
            html_report(
                staged.stage(html_final, name=self.OUTPUT_HTML), f"Soil moisture {km}: {scene.label}",
                [("SMAP input", path), ("Land surface temperature", lst),
                 ("Model", model or "bundled soil-moisture model (model/sm_general.pt)"),
                 ("Model trained on", str(training.get("data", "?"))), ("Device", res.device),
                 ("Reference", str(res.metrics.get("reference", "none"))), *checks],
                res.metrics.get("bands") if "bands" in res.metrics else None,
                ["The bundled model was trained on simulated scenes; its held-out scores are in its model card "
                 "(model/sm_general.json)." if not model else "",
                 "Units: volumetric soil moisture in m³/m³."])
        result.update(written)
        return result
