"""Parameters several algorithms share (device, precision, static raster, date tolerance and reference
resampling, soil-moisture grids) and the words of core messages as the dialog shows those options."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import SmapdownAlgorithm


#: the output grids of soil moisture (case 2), as the dialogs offer them
SM_GRIDS = ["M03", "M09"]


def grid_labels(names: list[str]) -> list[str]:
    """How a dialog names EASE-Grid 2.0 grids: "9 km (M09)" for M09 (cell size in km, then the id)."""
    return [f"{int(n[1:])} km ({n})" for n in names]


DEVICES = ["auto", "cpu", "cuda"]


def device_param(alg: SmapdownAlgorithm) -> None:
    """The DEVICE parameter: auto takes CUDA when torch sees a GPU."""
    from qgis.core import QgsProcessingParameterEnum

    alg.add(QgsProcessingParameterEnum("DEVICE", alg.tr("Device"), options=DEVICES, defaultValue=0),
            "auto: the GPU when PyTorch sees one (CUDA), else the CPU with all cores. The device "
            "used is written to the log and reported as 'Device used'.", advanced=True)


def precision_param(alg: SmapdownAlgorithm) -> None:
    """The BF16 parameter: bfloat16 autocast, several times faster on CPUs with AMX and on recent GPUs."""
    from qgis.core import QgsProcessingParameterBoolean

    alg.add(QgsProcessingParameterBoolean("BF16", alg.tr("Use bfloat16 (faster, ~0.01 K)"), defaultValue=False),
            "Run the network under bfloat16 autocast: 2.5-5x faster on CPUs with AMX/AVX512-BF16 and on recent "
            "GPUs; differs from float32 by about 0.01 K in TB.", advanced=True)


DATE_TOLERANCE = "Date tolerance (days)"


REFERENCE_REGRID = "Resample a reference on another grid"


CORE_WORDS = {
    "(the date tolerance)": f"('{DATE_TOLERANCE}')",
    "; core: regrid_reference=True)": ")",
    "unless resampling is asked for": f"unless '{REFERENCE_REGRID}' is ticked",
}
"""Words of core messages that name a core argument, and the option of the dialog that sets it."""


def dialog_words(message: str) -> str:
    """A core sentence with the core's argument names replaced by the options as the dialog shows them."""
    for core, dialog in CORE_WORDS.items():
        message = message.replace(core, dialog)
    return message


def reference_params(alg: SmapdownAlgorithm, regrid_default: bool = False, dates: bool = True) -> None:
    """MAX_DAYS_APART (how many days the inputs' observation dates may differ) and REFERENCE_REGRID (compare
    with a reference on another EASE2 grid after resampling it, else refuse it)."""
    from qgis.core import QgsProcessingParameterBoolean, QgsProcessingParameterNumber

    if dates:
        alg.add(QgsProcessingParameterNumber("MAX_DAYS_APART", alg.tr(DATE_TOLERANCE), minValue=0, maxValue=366,
                                             defaultValue=0, optional=True),
                "How many days the dates of the other inputs (LST, reference) may differ from the SMAP input's "
                "date, 0 to 366. 0: the same day only; a larger gap is refused, naming both files and dates. "
                "The dates found are written to the log and the report (an input without a date is reported "
                "as unknown, not refused).", advanced=True)
    alg.add(QgsProcessingParameterBoolean("REFERENCE_REGRID", alg.tr(REFERENCE_REGRID), defaultValue=regrid_default,
                                          optional=True),
            "A reference on another EASE-Grid 2.0 grid than the output is resampled onto it (the mean of the valid "
            "finer cells in each output cell, or the covering coarser cell) and the method is reported. Off: such "
            "a reference is refused; it is compared only on the same grid.", advanced=True)


def static_param(alg: SmapdownAlgorithm) -> None:
    """The STATIC parameter: a static ancillary raster, for models trained with one."""
    from qgis.core import QgsProcessingParameterRasterLayer

    alg.add(QgsProcessingParameterRasterLayer("STATIC", alg.tr("Static ancillary raster"), optional=True),
            "Soil texture, land-cover and open-water fractions on an EASE2 grid (bands static_clay, static_sand, "
            "static_bare, static_grassland, static_cropland, static_forest, static_urban, static_water), needed "
            "only by a model trained with them ('Train downscaling network', Static ancillary raster; the bundled "
            "models were not); 'Simulate SMAP scenes' writes one per region (STATIC_M03_SIM.tif).", advanced=True)
