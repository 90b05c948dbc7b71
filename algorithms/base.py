"""Shared base of smapdown's algorithms: naming, help, input files, checks before Run, error translation,
feedback; the output layers' styles are in :mod:`layers`, reports in :mod:`reports`, shared parameters in
:mod:`params`."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import uuid
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsMapLayer,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterExtent,
    QgsProcessingUtils,
    QgsProperty,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..core.atomic import same_file
from ..core.errors import Canceled, SmapdownError
from ..core.feedback import Feedback
from .params import dialog_words

GENERIC_CANCEL = "cancelled by the user"
"""The sentence of a bare cancel (core.feedback.Feedback.check): it says nothing of what was kept."""

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GROUPS = {
    "data": "Data",
    "downscaling": "Downscaling",
    "soilmoisture": "Soil moisture",
    "evaluation": "Evaluation",
    "training": "Training",
}


def plugin_metadata(key: str) -> str:
    """A value of the [general] section of metadata.txt ('' when absent)."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(PLUGIN_DIR, "metadata.txt"), encoding="utf-8")
    return parser.get("general", key, fallback="").strip()


def help_url(alg_id: str) -> str:
    """docs/algorithms/<id>.md in the repository named by metadata.txt (``repository``), or '' without one."""
    repo = plugin_metadata("repository").rstrip("/")
    return f"{repo}/blob/main/docs/algorithms/{alg_id}.md" if repo else ""


def bundled_model(name: str) -> str:
    """Absolute path of a bundled model file under model/."""
    return os.path.join(PLUGIN_DIR, "model", name)


def model_case_problem(path: str, case: str, label: str) -> str | None:
    """A sentence when the model file at ``path`` is for the other case ('tb' or 'soil moisture')."""
    if not os.path.isfile(path):
        return f"{label}: {path} is not a file."
    try:
        from ..model.io import read_card

        card = read_card(path)
    except Exception as exc:  # noqa: BLE001 - torch missing or a bad file: reported by the run itself
        if isinstance(exc, SmapdownError):
            return str(exc)
        return None
    got = card.case  # read from the model's outputs, whatever its trainer called its case
    if got != case:
        wanted = {"tb": "a brightness-temperature model (case tb)",
                  "soil moisture": "a soil-moisture model (case soil moisture)"}[case]
        what = f"a {got} model" if got else f"a model of {', '.join(card.output_names)}"
        return (f"{label}: {os.path.basename(path)} is {what}; this algorithm needs {wanted}, as "
                "'Train downscaling network' writes them.")
    return None


def resource_path(*parts: str) -> str:
    """Absolute path of a file under resources/."""
    return os.path.join(PLUGIN_DIR, "resources", *parts)


def torch_install_command(platform: str, prefix: str, version: tuple[int, int],
                          externally_managed: bool, python: str = "") -> str:
    """The command that installs PyTorch into the Python QGIS runs, for a person to copy.

    ``prefix`` is that Python's ``sys.prefix`` (inside QGIS ``sys.executable`` is the QGIS program itself,
    so it cannot tell). Windows (OSGeo4W or the standalone installer): the OSGeo4W Shell's ``python``.
    macOS: the ``python3`` inside the QGIS app bundle. Linux: ``<prefix>/bin/python3``; where that Python is the
    distribution's own and refuses pip (PEP 668, "externally managed"), a venv on it with the system packages,
    put first on PATH when QGIS starts (QGIS's Python then takes its prefix from it).
    """
    major, minor = version
    if python:
        prefix = ""
    if platform.startswith("win"):
        return ("open the OSGeo4W Shell (Start menu → QGIS → OSGeo4W Shell, or OSGeo4W.bat in the QGIS "
                "folder) and run:  python -m pip install torch \"numpy<2\"")
    py = python or (f"{prefix.rstrip('/')}/bin/python{major}.{minor}" if platform == "darwin" else
                    f"{prefix.rstrip('/')}/bin/python3")
    if platform == "darwin":
        return f"in Terminal run:  \"{py}\" -m pip install torch \"numpy<2\""
    if externally_managed:
        return (f"make a venv on {py} (the system's Python, which refuses pip) and start QGIS with it first on "
                f"PATH:  {py} -m venv --system-site-packages ~/qgis-torch && "
                "~/qgis-torch/bin/pip install torch \"numpy<2\" && PATH=~/qgis-torch/bin:$PATH qgis")
    return f"run:  {py} -m pip install torch \"numpy<2\""


def torch_missing_reason() -> str | None:
    """Why torch cannot be used in this QGIS's Python, with the command that fixes it; None when it can."""
    if importlib.util.find_spec("torch") is not None:
        return None
    prefix = sys.prefix
    managed = os.path.exists(os.path.join(sys.base_prefix, "lib", f"python{sys.version_info[0]}."
                                          f"{sys.version_info[1]}", "EXTERNALLY-MANAGED")) and \
        sys.prefix == sys.base_prefix
    python = ""
    if sys.platform == "darwin":  # the QGIS app bundle: Contents/MacOS/bin/python3 beside the QGIS program
        from qgis.core import QgsApplication

        for candidate in (os.path.join(QgsApplication.applicationDirPath(), "bin", "python3"),
                          os.path.join(prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}")):
            if os.path.exists(candidate):
                python = candidate
                break
    command = torch_install_command(sys.platform, prefix, sys.version_info[:2], managed, python)
    return ("This algorithm needs PyTorch, which is not installed in the Python that QGIS runs "
            f"(Python {sys.version_info[0]}.{sys.version_info[1]} at {prefix}). To install it, {command}; "
            "then restart QGIS. The loaders, simulation and difference work without it. More in the "
            "plugin's README, section 'PyTorch in QGIS's Python'.")


_GDAL_PREFIX = re.compile(r'^[A-Za-z0-9_]+(?::[A-Za-z0-9_]+)*:"(?P<path>[^"]+)"')


def source_file(source: str) -> str:
    """The file behind a GDAL layer source: ``HDF5:"f.h5"://var``, ``HDF4_EOS:EOS_GRID:"f.hdf":g:v``,
    ``vrt://f.tif?bands=1``, ``f.tif|option`` all give the file; anything else is returned as it is."""
    src = source.split("|", 1)[0].strip()
    if src.startswith("vrt://"):
        return src[len("vrt://"):].split("?", 1)[0]
    m = _GDAL_PREFIX.match(src)
    if m:
        return m.group("path")
    return src


def resolve_input(value: Any, context: QgsProcessingContext | None) -> str | None:
    """A file path from a parameter value: a path, a layer object, a project layer id or name, a source."""
    if value is None:
        return None
    if isinstance(value, QgsMapLayer):
        return source_file(value.source())
    if isinstance(value, QgsProperty):
        value = value.valueAsString(context.expressionContext() if context else None)[0]
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.staticValue()
    text = str(value).strip()
    if not text:
        return None
    if os.path.exists(text):
        return text
    if context is not None:
        layer = QgsProcessingUtils.mapLayerFromString(text, context, False)
        if layer is not None:
            return source_file(layer.source())
    return source_file(text)


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

    def helpUrl(self) -> str:  # noqa: N802 - QGIS's name
        """The algorithm's page under docs/algorithms/ as the repository host renders it (Help button)."""
        return help_url(self.name())

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

    # --- inputs -------------------------------------------------------------------------------
    def input_file(self, parameters: dict, name: str, context: QgsProcessingContext) -> str | None:
        """The file behind an input parameter: a path, a project layer (id or name) or a layer source.

        A layer of a SMAP/MODIS product loaded in QGIS (``HDF5:"file.h5"://group/var``), a band of a
        smapdown output (``vrt://file.tif?bands=1``) and a plain GeoTIFF layer all give their file.
        None when the parameter is empty.
        """
        return resolve_input(parameters.get(name), context)

    def input_files(self, parameters: dict, name: str, context: QgsProcessingContext) -> list[str]:
        """Files or folders of a multiple-input parameter, each resolved like :meth:`input_file`."""
        value = parameters.get(name)
        if value in (None, "", []):
            return []
        items = value if isinstance(value, (list, tuple)) else str(value).split(";")
        out = [resolve_input(v, context) for v in items]
        return [v for v in out if v]

    def checkParameterValues(self, parameters: dict, context: QgsProcessingContext
                             ) -> tuple[bool, str]:  # noqa: N802 - QGIS's name
        """Before Run: each value readable, no output on top of an input, then the algorithm's own checks.

        Messages name the parameter as the dialog shows it and say what is allowed.
        """
        for d in self.parameterDefinitions():
            value = parameters.get(d.name())
            if d.name() in self.input_names() and value not in (None, "", []):
                files = ([resolve_input(value, context)] if not isinstance(value, (list, tuple))
                         else [resolve_input(v, context) for v in value])
                missing = [f for f in files if f and not os.path.exists(f)]
                if missing:
                    return False, self.tr(f"{d.description()}: no such file or project layer: {missing[0]}")
                continue
            if not d.checkValueIsAcceptable(value, context):
                return False, self.tr(f"{d.description()}: the value {value!r} is not acceptable "
                                      f"({'required' if not d.flags() & d.FlagOptional else 'optional'}).")
        clash = self.output_clash(parameters, context)
        if clash:
            return False, clash
        problem = self.values_problem(parameters, context)
        if problem:
            return False, problem
        return True, ""

    def values_problem(self, parameters: dict, context: QgsProcessingContext) -> str | None:
        """:meth:`check_values`, a core error it raises turned into the dialog's words; None when all is well."""
        try:
            return self.check_values(parameters, context)
        except SmapdownError as exc:
            return dialog_words(str(exc))

    def input_names(self) -> list[str]:
        """Names of the parameters that read files (single files, layers, folders)."""
        kinds = {"raster", "file", "multilayer", "layer"}
        return [d.name() for d in self.parameterDefinitions() if d.type() in kinds and not d.isDestination()]

    def output_paths(self, parameters: dict, context: QgsProcessingContext) -> dict[str, list[str]]:
        """Files each destination parameter will write (reports: .json, .html and .png beside; models:
        the .json card and the .ckpt checkpoint), without creating anything. Temporary outputs skipped."""
        out: dict[str, list[str]] = {}
        for d in self.destinationParameterDefinitions():
            value = parameters.get(d.name())
            if isinstance(value, QgsProcessingOutputLayerDefinition):
                value = value.sink.staticValue() if value.sink.propertyType() == QgsProperty.StaticProperty \
                    else value.sink.valueAsString(context.expressionContext())[0]
            if value is None and d.defaultValue() is not None:
                value = d.defaultValue()
            text = str(value or "").strip()
            if not text or text == QgsProcessing.TEMPORARY_OUTPUT or text.startswith(("memory:", "ogr:", "postgres")):
                continue
            if d.type() == "folderDestination":
                continue
            ext = d.defaultFileExtension() if hasattr(d, "defaultFileExtension") else ""
            if ext and not os.path.splitext(text)[1]:
                text = f"{text}.{ext}"
            paths = [text]
            if d.type() == "fileDestination":
                base = os.path.splitext(text)[0]
                paths += [base + e for e in (".json", ".html", ".png", ".pt")] + [text + ".ckpt"]
            out[d.name()] = paths
        return out

    def output_clash(self, parameters: dict, context: QgsProcessingContext) -> str | None:
        """A sentence when an output would be written over an input file of the run, or over another output."""
        inputs: list[tuple[str, str]] = []
        for name in self.input_names():
            d = self.parameterDefinition(name)
            value = parameters.get(name)
            if value in (None, "", []):
                if name == "MODEL" and hasattr(self, "DEFAULT_MODEL"):
                    inputs.append((d.description(), self.DEFAULT_MODEL))
                continue
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                path = resolve_input(item, context)
                if not path:
                    continue
                if os.path.isdir(path):
                    inputs += [(d.description(), os.path.join(path, n)) for n in os.listdir(path)]
                else:
                    inputs.append((d.description(), path))
                    if path.lower().endswith(".pt"):  # a model's card beside it
                        inputs.append((d.description(), os.path.splitext(path)[0] + ".json"))
        seen: dict[str, str] = {}
        for name, paths in self.output_paths(parameters, context).items():
            label = self.parameterDefinition(name).description()
            for i, path in enumerate(paths):
                for in_label, in_path in inputs:
                    if same_file(path, in_path):
                        what = "" if i == 0 else f" (its companion file {os.path.basename(path)})"
                        return self.tr(f"'{label}' would be written over the input file of '{in_label}'{what}: "
                                       f"{in_path}. Choose another output file; smapdown never writes over "
                                       "its inputs.")
                key = os.path.realpath(path)
                if i == 0 and key in seen and seen[key] != label:
                    return self.tr(f"'{label}' and '{seen[key]}' name the same file ({path}); give each output "
                                   "its own file.")
                if i == 0:
                    seen[key] = label
        return None

    def extent_problem(self, parameters: dict, context: QgsProcessingContext, path: str | None,
                       label: str) -> str | None:
        """A sentence when EXTENT does not overlap the data of ``path`` (a raster's own bounds; for a SMAP
        or MODIS product, EASE-Grid 2.0's coverage), giving the range allowed in longitude and latitude."""
        if parameters.get("EXTENT") in (None, "") or not path or not os.path.isfile(path):
            return None
        rect = self.parameterAsExtent(parameters, "EXTENT", context)
        if rect.isNull() or rect.isEmpty():
            return None
        crs = self.parameterAsExtentCrs(parameters, "EXTENT", context)
        ease = QgsCoordinateReferenceSystem("EPSG:6933")
        wgs = QgsCoordinateReferenceSystem("EPSG:4326")
        try:
            rect_e = QgsCoordinateTransform(crs if crs.isValid() else ease, ease,
                                            context.transformContext()).transformBoundingBox(rect)
        except Exception:  # noqa: BLE001 - QgsCsException: outside the projection's domain
            return self.tr(f"Extent: {rect.toString(3)} cannot be placed on EASE-Grid 2.0 (EPSG:6933); choose "
                           "an extent within longitude -180..180 and latitude -85.04..85.04.")
        bounds = QgsRectangle(-17367530.4451615, -7314540.8306386, 17367530.4451615, 7314540.8306386)
        what = f"EASE-Grid 2.0, the grid of {os.path.basename(path)}"
        if path.lower().endswith((".tif", ".tiff", ".vrt", ".img")):
            from osgeo import gdal

            ds = gdal.Open(path)
            if ds is not None:
                gt = ds.GetGeoTransform()
                xs = (gt[0], gt[0] + ds.RasterXSize * gt[1])
                ys = (gt[3], gt[3] + ds.RasterYSize * gt[5])
                own = QgsRectangle(min(xs), min(ys), max(xs), max(ys))
                src = QgsCoordinateReferenceSystem.fromWkt(ds.GetProjection()) if ds.GetProjection() else ease
                try:
                    bounds = QgsCoordinateTransform(src, ease, context.transformContext()).transformBoundingBox(own)
                    what = f"the input {os.path.basename(path)}"
                except Exception:  # noqa: BLE001 - keep the global bounds
                    pass
        if rect_e.intersects(bounds):
            return None
        try:
            geo = QgsCoordinateTransform(ease, wgs, context.transformContext()).transformBoundingBox(bounds)
            allowed = (f"longitude {geo.xMinimum():.2f}..{geo.xMaximum():.2f}, "
                       f"latitude {geo.yMinimum():.2f}..{geo.yMaximum():.2f}")
        except Exception:  # noqa: BLE001
            allowed = bounds.toString(0) + " (EPSG:6933)"
        return self.tr(f"Extent: lies outside {what} ('{label}'), which covers {allowed}. Choose an extent "
                       "inside that range, or leave Extent empty for the whole input.")

    def check_values(self, parameters: dict, context: QgsProcessingContext) -> str | None:
        """The algorithm's own checks before Run (subclasses): a sentence saying what is wrong, or None."""
        return None

    def run_options(self, parameters: dict, context: QgsProcessingContext) -> dict[str, Any]:
        """The options every model-running workflow takes, as its keyword arguments: ``bf16``, ``static_path``,
        ``max_days_apart`` and ``regrid_reference`` (BF16, STATIC, MAX_DAYS_APART, REFERENCE_REGRID)."""
        return {"bf16": self.parameterAsBoolean(parameters, "BF16", context),
                "static_path": self.input_file(parameters, "STATIC", context),
                "max_days_apart": self.parameterAsInt(parameters, "MAX_DAYS_APART", context),
                "regrid_reference": self.parameterAsBoolean(parameters, "REFERENCE_REGRID", context)}

    # --- outputs ------------------------------------------------------------------------------
    def load_styled(self, context: QgsProcessingContext, path: str, name: str, style: str, rank: int = 0,
                    units: str = "", more_bands: list[tuple[int, str, str, str]] | None = None) -> None:
        """Name and style a layer that QGIS loads on completion (Toolbox/modeler), via the context.

        Each layer gets its own post-processor (QGIS takes ownership and deletes it with the context);
        ``rank`` orders the layers of this run in the Layers panel, 0 (the main result) on top; ``units``
        (K, m³/m³) go into the legend.
        """
        if not context.willLoadLayerOnCompletion(path):
            return
        details = context.layerToLoadOnCompletionDetails(path)
        details.name = name
        if hasattr(details, "forceName"):
            details.forceName = True
        if not getattr(self, "_run_id", ""):
            self._run_id = uuid.uuid4().hex
        from .layers import StylePostProcessor  # layers imports this module

        details.setPostProcessor(StylePostProcessor.create(style, self._run_id, rank, units,
                                                           more_bands=more_bands))

    # --- running ------------------------------------------------------------------------------
    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        ok, reason = self.canExecute()
        if not ok:
            raise QgsProcessingException(reason)
        self._run_id = uuid.uuid4().hex  # groups this run's layers in the Layers panel
        # also when a caller skipped checkParameterValues: no output on an input, the algorithm's input checks
        problem = self.output_clash(parameters, context) or self.values_problem(parameters, context)
        if problem:
            raise QgsProcessingException(problem)
        try:
            return self.execute(parameters, context, feedback, ProcessingFeedback(feedback))
        except Canceled as exc:
            raise QgsProcessingException(self.canceled_message(exc)) from None
        except SmapdownError as exc:
            raise QgsProcessingException(dialog_words(str(exc))) from None
        except MemoryError:
            raise QgsProcessingException(
                self.tr(f"{self.DISPLAY}: out of memory; choose a smaller Extent.")) from None
        except OSError as exc:  # a file that cannot be written or read: name it, no traceback
            where = exc.filename or "a file"
            raise QgsProcessingException(
                self.tr(f"{self.DISPLAY}: cannot use {where} ({exc.strerror or exc}); no output file was written.")
            ) from None

    def canceled_message(self, exc: Canceled) -> str:
        """What the user reads after a cancel: the core's own sentence (it says what was kept, e.g. the
        checkpoint of the finished epochs), or the generic one when the core said nothing beyond the cancel."""
        text = str(exc).strip()
        if not text or text.rstrip(".").lower() == GENERIC_CANCEL:
            return self.tr(f"{self.DISPLAY}: cancelled by the user; no output file was written.")
        return self.tr(f"{self.DISPLAY}: {text}")

    def execute(self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback,
            core_feedback: ProcessingFeedback) -> dict[str, Any]:
        """The algorithm's work; raise core errors, they become QgsProcessingException."""
        raise NotImplementedError
