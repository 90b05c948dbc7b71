"""The smapdown Processing provider."""

from __future__ import annotations

import importlib

from qgis.core import Qgis, QgsMessageLog, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from . import ALGORITHMS
from .base import resource_path


class SmapdownProvider(QgsProcessingProvider):
    """Provider ``smapdown``: SMAP/MODIS loading, CNN downscaling, soil moisture, evaluation, training."""

    ID = "smapdown"

    def id(self) -> str:
        return self.ID

    def name(self) -> str:
        return "smapdown"

    def longName(self) -> str:
        return "smapdown – SMAP brightness temperature downscaling and soil moisture"

    def icon(self) -> QIcon:
        return QIcon(resource_path("icon.svg"))

    def svgIconPath(self) -> str:
        return resource_path("icon.svg")

    def loadAlgorithms(self) -> None:
        # An exception escaping here aborts QGIS; report it in the log instead and load the rest.
        for module, cls_name in [*ALGORITHMS, ("downscale_archive", "DownscaleArchiveAlgorithm")]:
            try:
                cls = getattr(importlib.import_module(f".{module}", __package__), cls_name)
                self.addAlgorithm(cls())
            except Exception as exc:  # noqa: BLE001 - must not escape into QGIS
                QgsMessageLog.logMessage(f"smapdown: algorithm {module} not loaded: {exc!r}",
                                         "smapdown", Qgis.Critical)
