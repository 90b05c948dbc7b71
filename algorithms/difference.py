"""smapdown:difference — difference map and agreement metrics of any two EASE2 rasters."""

from __future__ import annotations

import os

from qgis.core import (
    QgsProcessingOutputHtml,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..core.atomic import OutputSet
from ..core.raster import BandSpec, write_geotiff
from .base import SmapdownAlgorithm, source_file
from .layers import layer_name, nice_units
from .params import reference_params
from .reports import html_report, report_html_path, staged_json


class DifferenceAlgorithm(SmapdownAlgorithm):
    """INPUT − REFERENCE per band, on the input's grid, with MAE/RMSE/bias/ubRMSE/R/PSNR/SSIM."""

    NAME = "difference"
    DISPLAY = "Difference and metrics of two rasters"
    GROUP = "evaluation"
    HELP = (
        "Compares two rasters on EASE-Grid 2.0, e.g. a downscaled map with a reference: writes the difference "
        "(input minus reference) band by band and a report of MAE, RMSE, bias, ubRMSE, Pearson R, PSNR and SSIM "
        "over the cells valid in both, which opens in the Results Viewer.\n\n"
        "When the grids differ the reference is brought onto the input's grid: the mean of the valid fine "
        "cells when the reference is finer, the covering coarse cell when it is coarser (the report says which). "
        "Both rasters must be on EASE-Grid 2.0 (EPSG:6933), as every smapdown output is."
    )
    INPUT, REFERENCE, OUTPUT, OUTPUT_REPORT = "INPUT", "REFERENCE", "OUTPUT", "OUTPUT_REPORT"
    OUTPUT_HTML = "OUTPUT_HTML"

    def initAlgorithm(self, config=None) -> None:
        self.add(QgsProcessingParameterRasterLayer(self.INPUT, self.tr("Input raster")),
                 "The estimate, e.g. downscaled TB or soil moisture.")
        self.add(QgsProcessingParameterRasterLayer(self.REFERENCE, self.tr("Reference raster")),
                 "What the input is compared with, on an EASE-Grid 2.0 grid.")
        reference_params(self, regrid_default=True, dates=False)
        self.add(QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Input − reference")),
                 "GeoTIFF with one band per input band.")
        self.add(QgsProcessingParameterFileDestination(self.OUTPUT_REPORT, self.tr("Report"),
                                                       fileFilter="JSON (*.json)", optional=True,
                                                       createByDefault=False),
                 "The metrics per band as JSON and an HTML table beside it.")
        self.addOutput(QgsProcessingOutputHtml(self.OUTPUT_HTML, self.tr("Difference report")))
        self.addOutput(QgsProcessingOutputString("RESAMPLING", self.tr("How the reference was resampled")))
        for n, text in (("MAE", "MAE"), ("RMSE", "RMSE"), ("BIAS", "Bias"), ("UBRMSE", "ubRMSE"), ("R", "R")):
            self.addOutput(QgsProcessingOutputNumber(n, self.tr(f"{text} of the first band")))

    def check_values(self, parameters, context):
        if self.parameterAsRasterLayer(parameters, self.INPUT, context) is None or \
                self.parameterAsRasterLayer(parameters, self.REFERENCE, context) is None:
            return self.tr("'Input raster' and 'Reference raster' must both be readable raster layers")
        return None

    def execute(self, parameters, context, feedback, core_feedback):
        from ..workflows.compare import difference

        a = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        b = self.parameterAsRasterLayer(parameters, self.REFERENCE, context)
        a_path, b_path = source_file(a.source()), source_file(b.source())
        grid, diffs, names, report = difference(
            a_path, b_path, regrid_reference=self.parameterAsBoolean(parameters, "REFERENCE_REGRID", context))
        feedback.pushInfo(f"Reference resampling: {report['resampling']}")
        result = {"RESAMPLING": report["resampling"],
                  **self.write_outputs(parameters, context, (a, a_path), (b, b_path), grid, diffs, names, report)}
        first = next(iter(report["bands"].values()))
        for n in ("MAE", "RMSE", "BIAS", "UBRMSE", "R"):
            v = first.get(n.lower())
            if v is not None and v == v:  # never a NaN output
                result[n] = v
        for band, m in report["bands"].items():
            feedback.pushInfo(f"{band}: MAE {m['mae']:.4g}, RMSE {m['rmse']:.4g}, bias {m['bias']:+.4g}, "
                              f"R {m['r']:.3f}, n {m['n']}")
        return result

    def write_outputs(self, parameters, context, inp: tuple, ref: tuple, grid, diffs, names: list[str],
                      report: dict) -> dict:
        """The difference raster and the reports (``inp``, ``ref``: (layer, file)), all together or none."""
        (a, a_path), (b, b_path) = inp, ref
        units = band_units(a_path)
        bands = [BandSpec(n, units[i] if i < len(units) else "", f"{n}: input - reference")
                 for i, n in enumerate(names)]
        style = "difference_sm" if names and "moisture" in names[0] else "difference_tb"
        qa, _, label = a.name().partition(" · ")
        unit = nice_units(units[0]) if units else ""
        name = layer_name(f"{_short(qa)} − ref." + (f" ({unit})" if unit else ""), label)
        report_path = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context) or None
        result = {}
        with OutputSet({"INPUT": a_path, "REFERENCE": b_path}) as staged:  # all outputs together, or none
            final = os.path.abspath(self.parameterAsOutputLayer(parameters, self.OUTPUT, context))
            write_geotiff(staged.stage(final, name=self.OUTPUT), grid, list(diffs), bands,
                          {"input": a_path, "reference": b_path})
            self.load_styled(context, final, name, style, 0, unit)
            if report_path:
                result[self.OUTPUT_REPORT] = staged_json(staged, report_path, "smapdown difference", report)
            html_final = report_html_path(report_path)
            html_report(
                staged.stage(html_final, name=self.OUTPUT_HTML), f"Difference: {a.name()} − {b.name()}",
                [("Input", a_path), ("Reference", b_path), ("Reference resampling", report["resampling"])],
                {band: {"input vs reference": m} for band, m in report["bands"].items()},
                [f"Units: {unit}." if unit else ""])
        result[self.OUTPUT] = final
        result[self.OUTPUT_HTML] = html_final
        return result


def _short(name: str) -> str:
    """A layer name without its unit suffix, e.g. 'TB 9 km CNN (K)' -> 'TB 9 km CNN'."""
    return name.rsplit(" (", 1)[0] if name.endswith(")") else name


def band_units(path: str) -> list[str]:
    """The units of each band of a raster as GDAL reports them ('' where none)."""
    from osgeo import gdal

    ds = gdal.Open(path)
    if ds is None:
        return []
    return [ds.GetRasterBand(i + 1).GetUnitType() or "" for i in range(ds.RasterCount)]
