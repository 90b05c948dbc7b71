"""Shared base of smapdown's algorithms: naming, help, error translation, feedback, output layers."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from typing import Any

from qgis.core import (
    QgsLayerTreeLayer,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterExtent,
    QgsProject,
    QgsRasterLayer,
)
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..core.errors import Canceled, SmapdownError
from ..core.feedback import Feedback

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GROUPS = {
    "data": "Data",
    "downscaling": "Downscaling",
    "soilmoisture": "Soil moisture",
    "evaluation": "Evaluation",
    "training": "Training",
}


def resource_path(*parts: str) -> str:
    """Absolute path of a file under resources/."""
    return os.path.join(PLUGIN_DIR, "resources", *parts)


def torch_missing_reason() -> str | None:
    """Why torch cannot be used in this QGIS's Python, or None when it can."""
    if importlib.util.find_spec("torch") is None:
        return ("PyTorch is not installed in the Python that QGIS uses "
                f"({sys.executable}). Install it, e.g. `python3 -m pip install torch` in that "
                "environment, then restart QGIS.")
    return None


class ProcessingFeedback(Feedback):
    """Adapts QgsProcessingFeedback to the core's Feedback (progress, log, cancel)."""

    def __init__(self, feedback: QgsProcessingFeedback | None) -> None:
        self.fb = feedback

    def progress(self, percent: float) -> None:
        if self.fb is not None:
            self.fb.setProgress(max(0.0, min(100.0, float(percent))))

    def info(self, message: str) -> None:
        if self.fb is not None:
            self.fb.pushInfo(message)

    def canceled(self) -> bool:
        return self.fb is not None and self.fb.isCanceled()


class StylePostProcessor(QgsProcessingLayerPostProcessorInterface):
    """Applies a QML style from resources/styles to ONE layer loaded on completion, and orders it.

    ``LayerDetails.setPostProcessor()`` transfers ownership to QGIS, which deletes the post-processor with
    the context after the run: an instance must never be shared by two layers or kept for a later run
    (that crashed desktop QGIS). ``create()`` makes a fresh one per layer and keeps a Python reference in
    ``_LIVE`` until it has styled its layer (without it Python would collect the object that QGIS still
    calls); references whose C++ side QGIS has deleted are dropped at the next ``create()``.

    ``rank`` orders the layers of one run in the Layers panel: rank 0 (the main result) on top.
    """

    _LIVE: list[StylePostProcessor] = []

    def __init__(self, style: str, run_id: str = "", rank: int = 0) -> None:
        super().__init__()
        self.style = style
        self.run_id = run_id
        self.rank = rank

    @classmethod
    def create(cls, style: str, run_id: str = "", rank: int = 0) -> StylePostProcessor:
        """A new post-processor for one layer, referenced from Python until it has run."""
        cls._LIVE = [p for p in cls._LIVE if not sip.isdeleted(p)]
        processor = cls(style, run_id, rank)
        cls._LIVE.append(processor)
        return processor

    def postProcessLayer(self, layer, context, feedback) -> None:  # noqa: N802 - QGIS's name
        try:
            if isinstance(layer, QgsRasterLayer):
                qml = resource_path("styles", f"{self.style}.qml")
                if os.path.exists(qml):
                    layer.loadNamedStyle(qml)
                layer.setCustomProperty("smapdown/run", self.run_id)
                layer.setCustomProperty("smapdown/rank", self.rank)
                project = context.project() if context is not None and context.project() else QgsProject.instance()
                order_run_layers(project, layer)
                layer.triggerRepaint()
        finally:
            if self in StylePostProcessor._LIVE:
                StylePostProcessor._LIVE.remove(self)


def order_run_layers(project: QgsProject, layer: QgsRasterLayer) -> None:
    """Put the layers of ``layer``'s run that sit beside it in the layer tree in rank order (main on top).

    QGIS 3.22 loads the outputs of a run in the order of their file paths (random for temporary outputs),
    each on top of the last; this regroups them where the topmost of them is, lowest rank first.
    """
    root = project.layerTreeRoot()
    node = root.findLayer(layer.id())
    if node is None or node.parent() is None:
        return
    parent = node.parent()
    run = layer.customProperty("smapdown/run")
    if not run:
        return
    mine = [(i, n) for i, n in enumerate(parent.children())
            if isinstance(n, QgsLayerTreeLayer) and n.layer() is not None
            and n.layer().customProperty("smapdown/run") == run]
    if len(mine) < 2:
        return
    wanted = sorted(mine, key=lambda t: (int(t[1].layer().customProperty("smapdown/rank") or 0), t[0]))
    if [n for _, n in wanted] == [n for _, n in mine]:
        return
    start = mine[0][0]
    clones = [n.clone() for _, n in wanted]
    for offset, clone in enumerate(clones):
        parent.insertChildNode(start + offset, clone)
    for _, n in mine:
        parent.removeChildNode(n)


class SmapdownAlgorithm(QgsProcessingAlgorithm):
    """Thin base: subclasses set NAME, DISPLAY, GROUP, HELP and implement ``initAlgorithm`` and ``execute``."""

    NAME = ""
    DISPLAY = ""
    GROUP = "data"
    HELP = ""
    NEEDS_TORCH = False

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:
        return self.tr(self.DISPLAY)

    def group(self) -> str:
        return self.tr(GROUPS[self.GROUP])

    def groupId(self) -> str:
        return self.GROUP

    def shortHelpString(self) -> str:
        return self.tr(self.HELP)

    def icon(self) -> QIcon:
        return QIcon(resource_path("icon.svg"))

    def tr(self, text: str) -> str:
        return QCoreApplication.translate("smapdown", text)

    def createInstance(self) -> QgsProcessingAlgorithm:
        return type(self)()

    def canExecute(self) -> tuple[bool, str]:  # noqa: N802 - QGIS's name
        if self.NEEDS_TORCH:
            reason = torch_missing_reason()
            if reason:
                return False, reason
        return True, ""

    # --- parameters ---------------------------------------------------------------------------
    def add(self, param: QgsProcessingParameterDefinition, help_text: str,
            advanced: bool = False) -> None:
        """Add a parameter with its help text; expert options are flagged advanced."""
        param.setHelp(self.tr(help_text))
        if advanced:
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(param)

    def add_extent(self) -> None:
        """The optional EXTENT parameter every reader understands."""
        self.add(QgsProcessingParameterExtent("EXTENT", self.tr("Extent"), optional=True),
                 "Only read and process cells intersecting this extent (any CRS). "
                 "Empty: the whole input.")

    def extent_arg(self, parameters: dict, context: QgsProcessingContext
                   ) -> tuple[tuple[float, float, float, float] | None, str | None]:
        """(xmin, ymin, xmax, ymax) and CRS WKT of the EXTENT parameter, or (None, None)."""
        if parameters.get("EXTENT") in (None, ""):
            return None, None
        rect = self.parameterAsExtent(parameters, "EXTENT", context)
        if rect.isNull() or rect.isEmpty():
            return None, None
        crs = self.parameterAsExtentCrs(parameters, "EXTENT", context)
        wkt = crs.toWkt() if crs.isValid() else None
        return (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum()), wkt

    # --- outputs ------------------------------------------------------------------------------
    def load_styled(self, context: QgsProcessingContext, path: str, name: str, style: str, rank: int = 0) -> None:
        """Name and style a layer that QGIS loads on completion (Toolbox/modeler), via the context.

        Each layer gets its own post-processor (QGIS takes ownership and deletes it with the context);
        ``rank`` orders the layers of this run in the Layers panel, 0 (the main result) on top.
        """
        if not context.willLoadLayerOnCompletion(path):
            return
        details = context.layerToLoadOnCompletionDetails(path)
        details.name = name
        if hasattr(details, "forceName"):
            details.forceName = True
        if not getattr(self, "_run_id", ""):
            self._run_id = uuid.uuid4().hex
        details.setPostProcessor(StylePostProcessor.create(style, self._run_id, rank))

    # --- running ------------------------------------------------------------------------------
    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        ok, reason = self.canExecute()
        if not ok:
            raise QgsProcessingException(reason)
        self._run_id = uuid.uuid4().hex  # groups this run's layers in the Layers panel
        try:
            return self.execute(parameters, context, feedback, ProcessingFeedback(feedback))
        except Canceled:
            raise QgsProcessingException(
                self.tr(f"{self.DISPLAY}: cancelled by the user; no output file was written.")
            ) from None
        except SmapdownError as exc:
            raise QgsProcessingException(str(exc)) from None
        except MemoryError:
            raise QgsProcessingException(
                self.tr(f"{self.DISPLAY}: out of memory; choose a smaller EXTENT.")) from None

    def execute(self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback,
            core_feedback: ProcessingFeedback) -> dict[str, Any]:
        """The algorithm's work; raise core errors, they become QgsProcessingException."""
        raise NotImplementedError


_ROLE_STYLES = {"tb_v": "tb", "tb_h": "tb", "soil_moisture": "soil_moisture",
                "surface_temperature": "temperature", "lst": "temperature", "sigma0_vv": "sigma0"}


def style_for_roles(roles: list[str | None]) -> str:
    """The QML style of a layer whose first band plays the first of ``roles``."""
    for role in roles:
        if role in _ROLE_STYLES:
            return _ROLE_STYLES[role]
    return "tb"


DEVICES = ["auto", "cpu", "cuda"]


def device_param(alg: SmapdownAlgorithm) -> None:
    """The DEVICE parameter: auto takes CUDA when torch sees a GPU."""
    from qgis.core import QgsProcessingParameterEnum

    alg.add(QgsProcessingParameterEnum("DEVICE", alg.tr("Device"), options=DEVICES, defaultValue=0),
            "auto: the GPU when PyTorch sees one (CUDA), else the CPU with all cores. The device "
            "used is written to the log and returned as output DEVICE.", advanced=True)


def precision_param(alg: SmapdownAlgorithm) -> None:
    """The BF16 parameter: bfloat16 autocast, several times faster on CPUs with AMX and on recent GPUs."""
    from qgis.core import QgsProcessingParameterBoolean

    alg.add(QgsProcessingParameterBoolean("BF16", alg.tr("Use bfloat16 (faster, ~0.01 K)"), defaultValue=False),
            "Run the network under bfloat16 autocast: 2.5-5x faster on CPUs with AMX/AVX512-BF16 and on recent "
            "GPUs; differs from float32 by about 0.01 K in TB.", advanced=True)


def static_param(alg: SmapdownAlgorithm) -> None:
    """The STATIC parameter: a static ancillary raster, for models trained with one."""
    from qgis.core import QgsProcessingParameterFile

    alg.add(QgsProcessingParameterFile("STATIC", alg.tr("Static ancillary raster"), optional=True,
                                       fileFilter="GeoTIFF (*.tif *.tiff);;All files (*)"),
            "Soil texture, land-cover and open-water fractions on an EASE2 grid (bands static_clay, static_sand, "
            "static_bare, static_grassland, static_cropland, static_forest, static_urban, static_water), needed "
            "only by a model trained with them ('Train downscaling network', INPUT_STATIC; the bundled models "
            "were not); smapdown:simulate writes one per region (STATIC_M03_SIM.tif).", advanced=True)


def report_outputs(metrics: dict) -> dict[str, float]:
    """Flatten per-band metrics into algorithm outputs like MAE_CNN_TB_V (NaN when missing)."""
    out: dict[str, float] = {}
    for band, per in (metrics.get("bands") or {}).items():
        for method, m in per.items():
            if isinstance(m, dict):
                for key in ("mae", "rmse", "bias", "ubrmse", "r"):
                    v = m.get(key)
                    out[f"{key}_{method}_{band}".upper()] = float(v) if v is not None else float("nan")
    return out
