"""The layers a run adds to the project: their names, units in the legend, QML styles and order in the Layers panel.

QGIS loads a run's outputs on completion; each gets its own :class:`StylePostProcessor` through the context's
LayerDetails (QGIS takes ownership and deletes it with the context).
"""

from __future__ import annotations

import os

from qgis.core import (
    QgsLayerTreeLayer,
    QgsProcessingLayerPostProcessorInterface,
    QgsProject,
    QgsRasterLayer,
)
from qgis.PyQt import sip

from .base import resource_path


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

    def __init__(self, style: str, run_id: str = "", rank: int = 0, units: str = "", band: int = 1,
                 more_bands: list[tuple[int, str, str, str]] | None = None) -> None:
        super().__init__()
        self.style = style
        self.run_id = run_id
        self.rank = rank
        self.units = units
        self.band = band
        self.more_bands = list(more_bands or [])

    @classmethod
    def create(cls, style: str, run_id: str = "", rank: int = 0, units: str = "", band: int = 1,
               more_bands: list[tuple[int, str, str, str]] | None = None) -> StylePostProcessor:
        """A new post-processor for one layer, referenced from Python until it has run.

        ``more_bands``: (band, layer name, style, units) of further layers of the same file to add beside it,
        one per quantity (a multiband file of mixed units shown as one layer per band).
        """
        cls._LIVE = [p for p in cls._LIVE if not sip.isdeleted(p)]
        processor = cls(style, run_id, rank, units, band, more_bands)
        cls._LIVE.append(processor)
        return processor

    def postProcessLayer(self, layer, context, feedback) -> None:  # noqa: N802 - QGIS's name
        try:
            if isinstance(layer, QgsRasterLayer):
                project = context.project() if context is not None and context.project() else QgsProject.instance()
                style_layer(layer, self.style, self.units, self.band, self.run_id, self.rank)
                node = project.layerTreeRoot().findLayer(layer.id())
                for i, (band, name, style, units) in enumerate(self.more_bands, start=1):
                    extra = QgsRasterLayer(layer.source(), name, "gdal")
                    if not extra.isValid():
                        continue
                    style_layer(extra, style, units, band, self.run_id, self.rank + i)
                    project.addMapLayer(extra, False)
                    parent = node.parent() if node is not None and node.parent() else project.layerTreeRoot()
                    parent.insertLayer(child_index(parent, layer.id()), extra)  # beside the main layer
                order_run_layers(project, layer)
                layer.triggerRepaint()
        finally:
            if self in StylePostProcessor._LIVE:
                StylePostProcessor._LIVE.remove(self)


def style_layer(layer: QgsRasterLayer, style: str, units: str, band: int, run_id: str, rank: int) -> None:
    """Apply resources/styles/<style>.qml to ``band`` of ``layer``, units in its legend, and tag it with its run."""
    qml = resource_path("styles", f"{style}.qml")
    if os.path.exists(qml):
        layer.loadNamedStyle(qml)
    renderer = layer.renderer()
    if band != 1 and renderer is not None:
        if hasattr(renderer, "setInputBand"):
            renderer.setInputBand(band)
        elif hasattr(renderer, "setBand"):
            renderer.setBand(band)
    if units:
        legend_units(layer, units)
    layer.setCustomProperty("smapdown/run", run_id)
    layer.setCustomProperty("smapdown/rank", rank)


def legend_units(layer: QgsRasterLayer, units: str) -> None:
    """Show ``units`` in the legend of a pseudocolour layer: after each class label and the colour bar."""
    from qgis.core import QgsColorRampShader, QgsSingleBandPseudoColorRenderer

    renderer = layer.renderer()
    if not isinstance(renderer, QgsSingleBandPseudoColorRenderer) or renderer.shader() is None:
        return
    ramp = renderer.shader().rasterShaderFunction()
    if not isinstance(ramp, QgsColorRampShader):
        return
    items = ramp.colorRampItemList()
    for item in items:
        if not item.label.endswith(units):
            item.label = f"{item.label} {units}"
    ramp.setColorRampItemList(items)
    if hasattr(ramp, "legendSettings"):
        settings = ramp.legendSettings()
        settings.setSuffix(f" {units}")
        ramp.setLegendSettings(settings)
    layer.setRenderer(renderer.clone())  # emits rendererChanged: the Layers panel redraws the legend


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
    if not mine:
        return
    wanted = sorted(mine, key=lambda t: (int(t[1].layer().customProperty("smapdown/rank") or 0), t[0]))
    start = mine[0][0]
    top = wanted[0][1].layer()
    if [n for _, n in wanted] != [n for _, n in mine]:
        clones = [n.clone() for _, n in wanted]
        for offset, clone in enumerate(clones):
            parent.insertChildNode(start + offset, clone)
        for _, n in mine:
            parent.removeChildNode(n)
    # the next layers (of this run or the next) go above this run's group, never into it: in desktop QGIS the
    # insertion point follows the current layer, so make the run's main result current
    bridge = project.layerTreeRegistryBridge()
    if hasattr(bridge, "setLayerInsertionPoint") and hasattr(bridge, "InsertionPoint"):
        bridge.setLayerInsertionPoint(bridge.InsertionPoint(parent, child_index(parent, top.id())))
    try:
        from qgis.utils import iface
    except ImportError:  # no GUI Python
        iface = None
    if iface is not None and hasattr(iface, "layerTreeView") and iface.layerTreeView() is not None:
        iface.layerTreeView().setCurrentLayer(top)


def child_index(parent, layer_id: str) -> int:
    """Index among ``parent``'s children of the node of ``layer_id`` (0 when it is not there)."""
    for i, n in enumerate(parent.children()):
        if isinstance(n, QgsLayerTreeLayer) and n.layerId() == layer_id:
            return i
    return 0


_ROLE_STYLES = {"tb_v": "tb", "tb_h": "tb", "soil_moisture": "soil_moisture",
                "surface_temperature": "temperature", "lst": "temperature", "sigma0_vv": "sigma0"}


def style_for_roles(roles: list[str | None]) -> str:
    """The QML style of a layer whose first band plays the first of ``roles``."""
    for role in roles:
        if role in _ROLE_STYLES:
            return _ROLE_STYLES[role]
    return "tb"


UNITS = {"k": "K", "kelvin": "K", "kelvins": "K", "cm**3/cm**3": "m³/m³", "m3/m3": "m³/m³", "m**3/m**3": "m³/m³",
         "kg/m**2": "kg/m²", "kg/m2": "kg/m²", "db": "dB"}


def nice_units(units: str) -> str:
    """Units as people read them (K, m³/m³) from what a file says (Kelvin, cm**3/cm**3)."""
    return UNITS.get((units or "").strip().lower(), (units or "").strip())


def layer_name(quantity: str, label: str) -> str:
    """A short layer name that stays distinct when the Layers panel cuts it: the quantity first."""
    return f"{quantity} · {label}" if label else quantity
