"""The QGIS plugin object: registers the smapdown Processing provider, once."""

from __future__ import annotations

from qgis.core import QgsApplication

from .algorithms.provider import SmapdownProvider


class SmapdownPlugin:
    """Registers the provider in ``initProcessing`` (also what qgis_process calls)."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: SmapdownProvider | None = None

    def initProcessing(self) -> None:  # noqa: N802 - QGIS's name
        if self.provider is not None:
            return
        registry = QgsApplication.processingRegistry()
        if registry.providerById(SmapdownProvider.ID) is not None:
            return
        provider = SmapdownProvider()
        if registry.addProvider(provider):
            self.provider = provider

    def initGui(self) -> None:  # noqa: N802 - QGIS's name
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
