"""smapdown:downscale — SMAP 36 km brightness temperature to 9 km with the CNN."""

from __future__ import annotations

import os

import numpy as np
from qgis.core import (
    QgsProcessingOutputHtml,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..core.atomic import OutputSet
from ..core.raster import BandSpec, write_geotiff
from .base import SmapdownAlgorithm, bundled_model, model_case_problem
from .layers import layer_name
from .params import DEVICES, device_param, precision_param, reference_params, static_param
from .reports import html_report, input_checks, report_html_path, report_outputs, staged_json

BANDS = [BandSpec("tb_v", "K", "brightness temperature, V polarisation"),
         BandSpec("tb_h", "K", "brightness temperature, H polarisation")]
METRIC_NAMES = [f"{k}_{m}_{b}" for k in ("MAE", "RMSE", "BIAS", "UBRMSE", "R")
                for m in ("CNN", "BICUBIC") for b in ("TB_V", "TB_H")]


def metric_text(name: str) -> str:
    """'MAE_CNN_TB_V' as people read it: 'MAE of the CNN vs the reference, TB V (K)'."""
    stat, method, *band = name.split("_")
    unit = "" if stat == "R" else " (K)"
    return f"{stat.replace('UBRMSE', 'ubRMSE')} of {'the CNN' if method == 'CNN' else 'bicubic'} vs the reference, " \
           f"{' '.join(band).replace('TB ', 'TB ')}{unit}"


class DownscaleAlgorithm(SmapdownAlgorithm):
    """36 km TB → 9 km TB (V, H) with optional baseline, differences, uncertainty and report."""

    NAME = "downscale"
    DISPLAY = "Downscale SMAP brightness temperature (36 km → 9 km)"
    GROUP = "downscaling"
    NEEDS_TORCH = True
    DEFAULT_MODEL = bundled_model("tb_general.pt")
    HELP = (
        "Makes a 9 km map of SMAP brightness temperature (V and H polarisation) from the 36 km observations, "
        "with a convolutional neural network. Choose a SMAP product (SPL1CTB, SPL2SMP, SPL3SMP) or the 36 km "
        "layer that 'Load SMAP product' put in your project; the result is a 9 km layer in kelvin on "
        "EASE-Grid 2.0, aligned with the 36 km cells. Cells without a 36 km observation stay empty.\n\n"
        "Optional outputs: bicubic interpolation for comparison, a map of the network's spread (where it is "
        "unsure) and, with a 9 km reference (SPL3SMAP/SPL2SMAP), difference maps and a report of MAE, RMSE, "
        "bias, ubRMSE and R. The report opens in the Results Viewer.\n\n"
        "Honest limits: the bundled model was trained on SIMULATED scenes, against their true 9 km TB. On "
        "simulated regions it never saw its error is about 0.9 of bicubic's, and the same recipe beats bicubic on "
        "a real SMAP half-orbit one scale up (144 → 36 km); there is no real 9 km truth to score the 36 → 9 km "
        "step itself (its model card, model/tb_general.json, and docs/validation.md give the figures). For a "
        "place you know, train a location-specific model with 'Train downscaling network'.\n\n"
        "Method: the network of a research poster on downscaling SMAP brightness temperature with a CNN (its "
        "title is not recorded in this plugin): 7 groups of 3×3 and dilated 5×5 kernels with a residual "
        "connection from the upsampled 36 km input."
    )
    INPUT, PASS, MODEL, DEVICE, EXTENT, REFERENCE = "INPUT", "PASS", "MODEL", "DEVICE", "EXTENT", "REFERENCE"
    MEAN_PRESERVE, TILE = "MEAN_PRESERVE", "TILE"
    OUTPUT, OUTPUT_BASELINE = "OUTPUT", "OUTPUT_BASELINE"
    OUTPUT_DIFF_LOWRES, OUTPUT_DIFF_CNN = "OUTPUT_DIFF_LOWRES", "OUTPUT_DIFF_CNN"
    OUTPUT_UNCERTAINTY, OUTPUT_REPORT, OUTPUT_HTML = "OUTPUT_UNCERTAINTY", "OUTPUT_REPORT", "OUTPUT_HTML"

    def initAlgorithm(self, config=None) -> None:
        self.add(QgsProcessingParameterRasterLayer(
            self.INPUT, self.tr("SMAP 36 km brightness temperature (product or V/H raster)")),
            "A SMAP product carrying 36 km TB (SPL1CTB, SPL2SMP, SPL2SMP_NRT, SPL3SMP) or a 2-band "
            "(V, H) GeoTIFF on the EASE-Grid 2.0 36 km grid, e.g. the output of 'Load SMAP product'.")
        self.add(QgsProcessingParameterEnum(self.PASS, self.tr("Pass"),
                                            options=["Default (AM)", "AM", "PM"], defaultValue=0),
                 "AM or PM for products that carry both (SPL3SMP).", advanced=True)
        self.add(QgsProcessingParameterFile(self.MODEL, self.tr("Model file"), optional=True,
                                            fileFilter="smapdown model (*.pt)"),
                 "A model written by 'Train downscaling network'. Empty: the bundled general model "
                 "(trained on simulated scenes).")
        device_param(self)
        static_param(self)
        precision_param(self)
        self.add_extent()
        self.add(QgsProcessingParameterRasterLayer(self.REFERENCE, self.tr("9 km reference"), optional=True),
            "9 km TB to compare with: an SPL3SMAP/SPL2SMAP file (tb_v/h_disaggregated) or a V/H raster.")
        reference_params(self)
        self.add(QgsProcessingParameterBoolean(self.MEAN_PRESERVE, self.tr("Preserve 36 km means"),
                                               defaultValue=True),
                 "Shift each 4 × 4 block of 9 km pixels so its mean equals the 36 km observation "
                 "(what the radiometer measured).")
        self.add(QgsProcessingParameterNumber(self.TILE, self.tr("Tile size (pixels)"), minValue=32,
                                              maxValue=4096, defaultValue=256),
                 "Inference tile size on the 9 km grid; memory grows with its square.", advanced=True)
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Downscaled TB 9 km")),
                 "GeoTIFF, bands tb_v and tb_h in K.")
        for name, text, help_text in (
            (self.OUTPUT_BASELINE, "Bicubic 9 km TB", "Bicubic interpolation of the 36 km input."),
            (self.OUTPUT_DIFF_LOWRES, "Low resolution − reference", "Bicubic 36 km TB minus the reference."),
            (self.OUTPUT_DIFF_CNN, "CNN − reference", "Downscaled TB minus the reference."),
            (self.OUTPUT_UNCERTAINTY, "Uncertainty (K)", "Spread of the CNN over the 8 flips/rotations "
             "of the input (test-time augmentation), per pixel and band. A relative indicator of where "
             "the network is unsure: on simulated truth it underestimates the real error 3-12 fold (rank "
             "correlation 0.35-0.45; see the model card's uncertainty_calibration_vs_true_tb9)."),
        ):
            self.add(QgsProcessingParameterRasterDestination(name, self.tr(text), optional=True,
                                                             createByDefault=False), help_text)
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT_REPORT, self.tr("Report"),
                                                       fileFilter="JSON (*.json)", optional=True,
                                                       createByDefault=False),
                 "Metrics of the CNN and of bicubic interpolation against the reference, as JSON "
                 "and an HTML table beside it.")
        self.addOutput(QgsProcessingOutputHtml(self.OUTPUT_HTML, self.tr("Downscaling report")))
        self.addOutput(QgsProcessingOutputString("DEVICE", self.tr("Device used")))
        self.addOutput(QgsProcessingOutputString("REFERENCE_LABEL", self.tr("Reference used")))
        self.addOutput(QgsProcessingOutputNumber("MEAN_PRESERVATION_ERROR",
                                                 self.tr("Largest |4×4 block mean − 36 km TB| (K)")))
        for n in METRIC_NAMES:  # only in the results when a reference was given
            self.addOutput(QgsProcessingOutputNumber(n, self.tr(metric_text(n))))

    def check_values(self, parameters, context):
        diffs = [self.parameterDefinition(k).description() for k in (self.OUTPUT_DIFF_LOWRES, self.OUTPUT_DIFF_CNN)
                 if parameters.get(k) not in (None, "")]
        if diffs and not self.input_file(parameters, self.REFERENCE, context):
            return self.tr(f"{' and '.join(diffs)}: difference maps need a '9 km reference'; give one (an "
                           "SPL3SMAP/SPL2SMAP file or a 9 km V/H raster) or leave these outputs empty.")
        model = self.parameterAsFile(parameters, self.MODEL, context)
        if model:
            problem = model_case_problem(model, "tb", self.tr("Model file"))
            if problem:
                return problem
        return self.extent_problem(parameters, context, self.input_file(parameters, self.INPUT, context),
                                   self.parameterDefinition(self.INPUT).description())

    def execute(self, parameters, context, feedback, core_feedback):
        from ..core.inputs import read_tb36
        from ..workflows.downscale import downscale

        path = self.input_file(parameters, self.INPUT, context)
        extent, crs = self.extent_arg(parameters, context)
        outs = {k: self.parameterAsOutputLayer(parameters, k, context) or None
                for k in (self.OUTPUT, self.OUTPUT_BASELINE, self.OUTPUT_DIFF_LOWRES, self.OUTPUT_DIFF_CNN,
                          self.OUTPUT_UNCERTAINTY)}
        scene = read_tb36(path, extent, crs, [None, "AM", "PM"][self.parameterAsEnum(parameters, self.PASS, context)])
        feedback.pushInfo(f"Input: {scene.label}, 36 km window {scene.grid.rows} x {scene.grid.cols}")
        res = downscale(scene, self.parameterAsFile(parameters, self.MODEL, context) or None,
                        DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
                        self.parameterAsBoolean(parameters, self.MEAN_PRESERVE, context),
                        self.input_file(parameters, self.REFERENCE, context),
                        uncertainty=bool(outs[self.OUTPUT_UNCERTAINTY]),
                        tile=self.parameterAsInt(parameters, self.TILE, context), feedback=core_feedback,
                        **self.run_options(parameters, context))
        checks = self.log_run(feedback, res)
        result = self.write_outputs(parameters, context, core_feedback, scene, res, outs, checks)
        if res.reference is not None:  # metrics only against a reference: never NaN outputs
            result.update({k: v for k, v in report_outputs(res.metrics).items() if k in METRIC_NAMES})
            for band, per in res.metrics["bands"].items():
                feedback.pushInfo(f"{band} vs {res.reference_label}: MAE CNN {per['cnn']['mae']:.3f} K, "
                                  f"bicubic {per['bicubic']['mae']:.3f} K")
        return result

    @staticmethod
    def log_run(feedback, res) -> list[tuple[str, str]]:
        """Log the device, the input checks (returned for the report) and the 36 km block means."""
        feedback.pushInfo(f"Device used: {res.device}")
        checks = input_checks(res.metrics)
        for what, value in checks:
            feedback.pushInfo(f"{what}: {value}")
        mp = res.metrics["mean_preservation"]
        feedback.pushInfo("Largest |4x4 block mean - 36 km TB|: "
                          f"{mp['max_abs_block_mean_minus_36km_K_without']:.3f} K straight from the CNN, "
                          f"{mp['max_abs_block_mean_minus_36km_K_output']:.3f} K in the output (mean "
                          f"preservation {'on' if mp['applied'] else 'off'})")
        if mp["pixels_clipped_to_physical_bounds"]:
            feedback.pushWarning(f"{mp['pixels_clipped_to_physical_bounds']} pixels fell outside "
                                 f"{mp['physical_bounds_K']} K and were clipped (inputs unlike the training data?)")
        return checks

    def write_outputs(self, parameters, context, core_feedback, scene, res, outs: dict, checks: list) -> dict:
        """Every output of the run staged and published together: a failure on any (an unwritable folder, a
        cancel) leaves none of them and no existing file touched. Returns the algorithm's results."""
        path = self.input_file(parameters, self.INPUT, context)
        model = self.parameterAsFile(parameters, self.MODEL, context) or None
        reference = self.input_file(parameters, self.REFERENCE, context)
        report_path = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context) or None
        mp = res.metrics["mean_preservation"]
        training = res.model_card.training.to_dict()
        md = {"product": scene.product, "source_file": path, "model": model or "bundled tb_general",
              "device": res.device, "mean_preserved": str(mp["applied"]),
              "training_data": str(training.get("data", ""))}
        layers = [(self.OUTPUT, res.cnn, "TB 9 km CNN", "tb"),
                  (self.OUTPUT_BASELINE, res.baseline, "TB 9 km bicubic", "tb"),
                  (self.OUTPUT_UNCERTAINTY, res.uncertainty, "TB CNN spread", "uncertainty_tb")]
        if res.reference is not None:
            layers += [(self.OUTPUT_DIFF_LOWRES, res.baseline - res.reference, "TB bicubic − ref.", "difference_tb"),
                       (self.OUTPUT_DIFF_CNN, res.cnn - res.reference, "TB CNN − ref.", "difference_tb")]
        rank = {self.OUTPUT: 0, self.OUTPUT_DIFF_CNN: 1, self.OUTPUT_BASELINE: 2, self.OUTPUT_DIFF_LOWRES: 3,
                self.OUTPUT_UNCERTAINTY: 4}  # Layers panel order: the main result on top
        result = {"DEVICE": res.device, "REFERENCE_LABEL": res.reference_label or "",
                  "MEAN_PRESERVATION_ERROR": mp["max_abs_block_mean_minus_36km_K_output"]}
        written = {}
        with OutputSet({"INPUT": path, "MODEL": model or self.DEFAULT_MODEL, "REFERENCE": reference,
                        "STATIC": self.input_file(parameters, "STATIC", context)}) as out:
            for key, arr, what, style in layers:
                if outs.get(key) and arr is not None:
                    core_feedback.check()
                    final = os.path.abspath(outs[key])
                    write_geotiff(out.stage(final, name=key), res.grid, list(np.asarray(arr)), BANDS,
                                  {**md, "quantity": what})
                    written[key] = final
                    self.load_styled(context, final, layer_name(f"{what} (K)", scene.label), style, rank[key], "K")
            if report_path:
                result[self.OUTPUT_REPORT] = staged_json(
                    out, report_path, f"smapdown downscale: {scene.label}",
                    {"input": path, "model": model or "bundled tb_general", "device": res.device,
                     "model_training_data": training, **res.metrics})
            result[self.OUTPUT_HTML] = html_final = report_html_path(report_path)
            html_report(
                out.stage(html_final, name=self.OUTPUT_HTML),
                f"Downscaled SMAP brightness temperature: {scene.label}",
                [("Input", path), ("Model", model or "bundled general model (model/tb_general.pt)"),
                 ("Model trained on", str(training.get("data", "?"))), ("Device", res.device),
                 ("Reference", res.reference_label or "none"),
                 ("Largest |4×4 block mean − 36 km TB|", f"{mp['max_abs_block_mean_minus_36km_K_output']:.3f} K (mean "
                  f"preservation {'on' if mp['applied'] else 'off'})"),
                 ("Outputs", ", ".join(self.parameterDefinition(k).description() for k in written)), *checks],
                res.metrics.get("bands") if res.reference is not None else None,
                ["The bundled model was trained on simulated scenes; its scores are in its model card "
                 "(model/tb_general.json)." if not model else "",
                 "Units: brightness temperature and differences in kelvin (K)."])
        result.update(written)
        return result
