"""Regenerate resources/models/smap_downscale_chain.model3: load → downscale → load reference → difference.

Built with the QGIS modeler API so the file is exactly what the graphical modeler writes.
"""

from __future__ import annotations

import argparse
import os
import sys

from qgis.core import (
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
)
from qgis.PyQt.QtCore import QPointF

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "resources", "models", "smap_downscale_chain.model3")
Src = QgsProcessingModelChildParameterSource


def child(alg: str, cid: str, text: str, x: float, y: float, sources: dict,
          outputs: dict) -> QgsProcessingModelChildAlgorithm:
    c = QgsProcessingModelChildAlgorithm(alg)
    c.setChildId(cid)
    c.setDescription(text)
    c.setPosition(QPointF(x, y))
    for name, src in sources.items():
        c.addParameterSources(name, [src])
    for p in QgsApplication.processingRegistry().algorithmById(alg).parameterDefinitions():
        if p.name() not in sources and not p.isDestination() and p.defaultValue() is not None:
            c.addParameterSources(p.name(), [Src.fromStaticValue(p.defaultValue())])
    model_outputs = {}
    for out_name, (child_output, text_out) in outputs.items():
        o = QgsProcessingModelOutput(out_name, text_out)
        o.setChildId(cid)
        o.setChildOutputName(child_output)
        o.setPosition(QPointF(x + 180, y + 60))
        model_outputs[out_name] = o
    c.setModelOutputs(model_outputs)
    return c


def build() -> QgsProcessingModelAlgorithm:
    m = QgsProcessingModelAlgorithm("SMAP downscale and evaluate", "smapdown")
    m.setHelpContent({"ALG_DESC": "Loads 36 km SMAP TB, downscales it to 9 km with the bundled CNN, loads a "
                      "9 km reference (SPL3SMAP/SPL2SMAP) and writes the CNN − reference difference with metrics."})
    params = [
        (QgsProcessingParameterFile("smap36", "SMAP product with 36 km TB"), 40, 60),
        (QgsProcessingParameterFile("reference9", "9 km reference product (SPL3SMAP/SPL2SMAP)"), 40, 260),
        (QgsProcessingParameterExtent("extent", "Extent", optional=True), 40, 160),
    ]
    for p, x, y in params:
        mp = QgsProcessingModelParameter(p.name())
        mp.setPosition(QPointF(x, y))
        m.addModelParameter(p, mp)
    m.addChildAlgorithm(child("smapdown:loadsmap", "load36", "Load 36 km TB", 260, 60,
                              {"INPUT": Src.fromModelParameter("smap36"), "VARIABLES": Src.fromStaticValue("tb_v,tb_h"),
                               "EXTENT": Src.fromModelParameter("extent"),
                               "OUTPUT": Src.fromStaticValue("TEMPORARY_OUTPUT")}, {}))
    m.addChildAlgorithm(child("smapdown:downscale", "downscale", "Downscale to 9 km", 480, 60,
                              {"INPUT": Src.fromChildOutput("load36", "OUTPUT")},
                              {"tb9": ("OUTPUT", "Downscaled TB 9 km")}))
    m.addChildAlgorithm(child("smapdown:loadsmap", "load9", "Load 9 km reference", 480, 260,
                              {"INPUT": Src.fromModelParameter("reference9"),
                               "VARIABLES": Src.fromStaticValue("tb_v,tb_h"),
                               "EXTENT": Src.fromModelParameter("extent"),
                               "OUTPUT": Src.fromStaticValue("TEMPORARY_OUTPUT")}, {}))
    m.addChildAlgorithm(child("smapdown:difference", "difference", "CNN − reference", 720, 160,
                              {"INPUT": Src.fromChildOutput("downscale", "OUTPUT"),
                               "REFERENCE": Src.fromChildOutput("load9", "OUTPUT")},
                              {"difference": ("OUTPUT", "CNN − reference"), "report": ("OUTPUT_REPORT", "Metrics")}))
    m.updateDestinationParameters()
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=OUT, help="where to write the .model3 (default: the committed file)")
    out = ap.parse_args().out
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    import smapdown

    plugin = smapdown.classFactory(None)  # keep a reference: the provider lives as long as the plugin
    plugin.initProcessing()
    m = build()
    ok, errors = m.validate()
    if not ok:
        sys.exit("model does not validate: " + "; ".join(errors))
    if not m.toFile(out):
        sys.exit(f"could not write {out}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
