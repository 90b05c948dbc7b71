"""The help pages docs/algorithms/<id>.md, generated from the algorithms' own definitions.

A page says what the algorithm is for (its help text), every option as the dialog names it with its help,
the outputs, and how to call it without the dialog. ``helpUrl()`` points the dialog's Help button at it.
tests/test_provider.py checks that every page equals what :func:`page` makes, so a changed help text or a
new parameter shows up as a failing test until the page is regenerated::

    QT_QPA_PLATFORM=offscreen python -c "from smapdown.algorithms.help_page import main; main()"

(with the plugin importable as ``smapdown``, as the tests arrange it).
"""

from __future__ import annotations

import os

from qgis.core import QgsProcessingAlgorithm, QgsProcessingParameterDefinition

from .base import GROUPS, PLUGIN_DIR

EXAMPLES = {
    "loadsmap": "INPUT=SMAP_L3_SM_P_20150406_R18290_001.h5 OUTPUT=tb36.tif",
    "loadmodis": "INPUT=MOD11A1.A2019305.h14v09.006.hdf GRID=1 OUTPUT=lst9.tif",
    "simulate": "DAYS=10 SEED=1 OUTPUT_FOLDER=sim/",
    "train": "INPUT_LOW=sim/ INPUT_HIGH=sim/ EPOCHS=15 OUTPUT_MODEL=oklahoma.pt OUTPUT_REPORT=train.json",
    "downscale": "INPUT=tb36.tif OUTPUT=tb9.tif OUTPUT_UNCERTAINTY=spread.tif",
    "downscalearchive": "INPUT_FOLDER=smap_2015/ OUTPUT_FOLDER=tb9_2015/",
    "soilmoisture": "INPUT=SMAP_L3_SM_P_20150406_R18290_001.h5 LST=lst.tif OUTPUT=sm3.tif",
    "difference": "INPUT=tb9.tif REFERENCE=tb9_reference.tif OUTPUT=diff.tif OUTPUT_REPORT=diff.json",
}
"""A qgis_process call per algorithm, for the page's 'Without the dialog'."""


def _cell(text: str) -> str:
    """Text fit for a Markdown table cell: one line, a '|' escaped so that it does not end the cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _flags(p: QgsProcessingParameterDefinition) -> str:
    flags = []
    if p.flags() & QgsProcessingParameterDefinition.FlagOptional:
        flags.append("optional")
    if p.flags() & QgsProcessingParameterDefinition.FlagAdvanced:
        flags.append("advanced")
    return ", ".join(flags)


def page(alg: QgsProcessingAlgorithm) -> str:
    """The Markdown help page of ``alg`` (a smapdown algorithm)."""
    alg_id = alg.name()
    lines = [f"# {alg.displayName()}", "",
             f"Processing Toolbox → smapdown → {GROUPS[alg.groupId()]} → *{alg.displayName()}* "
             f"(algorithm id `smapdown:{alg_id}`).", ""]
    for para in alg.shortHelpString().split("\n\n"):
        lines += [para.strip(), ""]
    if os.path.exists(os.path.join(PLUGIN_DIR, "docs", "images", f"dialog-{alg_id}.png")):
        lines += [f"![The dialog in QGIS 3.22](../images/dialog-{alg_id}.png)", ""]
    params = [p for p in alg.parameterDefinitions() if not p.isDestination()]
    dests = [p for p in alg.parameterDefinitions() if p.isDestination()]
    lines += ["## Inputs and options", "", "| in the dialog | what to give | |", "|---|---|---|"]
    lines += [f"| {p.description()} | {_cell(p.help())} | {_flags(p)} |" for p in params]
    lines += ["", "## Outputs", "", "| in the dialog | what you get | |", "|---|---|---|"]
    lines += [f"| {p.description()} | {_cell(p.help())} | {_flags(p)} |" for p in dests]
    names = {p.name() for p in alg.parameterDefinitions()}
    more = [o.description() for o in alg.outputDefinitions() if o.name() not in names]
    if more:
        lines += ["", "Also reported in the log and to models: " + "; ".join(more) + "."]
    lines += ["", "## Without the dialog", "",
              f"In the Python console: `processing.run(\"smapdown:{alg_id}\", {{...}})` with the parameter names "
              "below; in a shell, with QGIS's `qgis_process`:", "", "```sh",
              f"qgis_process run smapdown:{alg_id} -- {EXAMPLES.get(alg_id, '')}".rstrip(), "```", "",
              "Parameter names: " + ", ".join(f"`{p.name()}`" for p in alg.parameterDefinitions()) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write docs/algorithms/<id>.md for every algorithm of the provider (a QGIS application is started)."""
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from .provider import SmapdownProvider

    provider = SmapdownProvider()
    provider.loadAlgorithms()
    for alg in provider.algorithms():
        path = os.path.join(PLUGIN_DIR, "docs", "algorithms", f"{alg.name()}.md")
        with open(path, "w", encoding="utf-8") as f:
            f.write(page(alg))
        print(path)
