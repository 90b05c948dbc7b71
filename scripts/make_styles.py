"""Regenerate resources/styles/*.qml: one colour ramp per quantity (run with the venv's python).

The QML files are committed; this script is how they were made, so they can be changed consistently.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
from osgeo import gdal, osr
from qgis.core import (
    QgsApplication,
    QgsColorRampShader,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
)

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources", "styles")

# name: (min, max, ramp, invert, label unit)
STYLES = {
    "tb": (150.0, 300.0, "Viridis", False, "K"),
    "soil_moisture": (0.0, 0.5, "RdYlBu", False, "m³/m³"),
    "temperature": (260.0, 330.0, "Magma", False, "K"),
    "sigma0": (-30.0, 0.0, "Greys", True, "dB"),
    "difference_tb": (-15.0, 15.0, "RdBu", True, "K"),
    "difference_sm": (-0.1, 0.1, "RdBu", False, "m³/m³"),
    "uncertainty_tb": (0.0, 5.0, "YlOrRd", False, "K"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=OUT, help="folder of the .qml files (default: the committed ones)")
    out = ap.parse_args().out
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QgsApplication([], False)
    app.initQgis()
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tif = os.path.join(tmp, "x.tif")
        ds = gdal.GetDriverByName("GTiff").Create(tif, 4, 4, 1, gdal.GDT_Float32)
        ds.SetGeoTransform((0, 1, 0, 0, 0, -1))
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(6933)
        ds.SetProjection(srs.ExportToWkt())
        ds.GetRasterBand(1).WriteArray(np.zeros((4, 4), np.float32))
        ds.GetRasterBand(1).SetNoDataValue(-9999)
        ds = None
        layer = QgsRasterLayer(tif, "x")
        for name, (lo, hi, ramp_name, invert, unit) in STYLES.items():
            ramp = QgsStyle.defaultStyle().colorRamp(ramp_name)
            if ramp is None:
                sys.exit(f"colour ramp {ramp_name} not in this QGIS")
            if invert:
                ramp.invert()
            fn = QgsColorRampShader(lo, hi, ramp, QgsColorRampShader.Interpolated)
            fn.classifyColorRamp(9, -1)
            fn.setClip(False)
            for item in fn.colorRampItemList():
                item.label = f"{item.value:g} {unit}"
            shader = QgsRasterShader(lo, hi)
            shader.setRasterShaderFunction(fn)
            renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
            renderer.setClassificationMin(lo)
            renderer.setClassificationMax(hi)
            layer.setRenderer(renderer)
            msg, ok = layer.saveNamedStyle(os.path.join(out, f"{name}.qml"))
            if not ok:
                sys.exit(f"could not save {name}.qml: {msg}")
            print(f"{name}.qml: {lo}..{hi} {unit} ({ramp_name}{', inverted' if invert else ''})")
        del layer, renderer, shader  # before QGIS exits: a layer alive at exitQgis() crashes it (SIGSEGV)
    app.exitQgis()


if __name__ == "__main__":
    main()
