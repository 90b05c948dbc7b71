"""smapdown: a QGIS Processing plugin that downscales SMAP brightness temperature with a CNN."""


def classFactory(iface):  # noqa: N802 - QGIS's name
    """QGIS entry point: build the plugin object (QGIS imports happen only here)."""
    from .plugin import SmapdownPlugin

    return SmapdownPlugin(iface)
