"""Desktop QGIS (GUI application under Xvfb): layers loaded and styled as the Toolbox does, in ONE session.

The headless suite runs with ``--qgis_disable_gui``; styling bugs (a post-processor whose ownership QGIS
takes) only show when layers are really loaded into a project. So this test starts a separate Python that
makes a GUI ``QgsApplication`` on an Xvfb display (``xvfb-run``), runs the algorithms with
``processing.runAndLoadResults`` as the Toolbox does, deletes each context (where ownership bugs crash),
and reports what the project holds as JSON. The same file is that session script (``--session``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / ".venv" / "bin" / "python"
DAY = "20150406"


def _skip_reason() -> str | None:
    if shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None:
        return ("desktop tests need Xvfb (Debian package xvfb; scripts/setup.sh installs it): "
                "xvfb-run not found on PATH")
    if not PY.exists():
        return "the project venv is missing: run `make setup`"
    return None


def run_session(tmp: Path, timeout: float = 420) -> tuple[dict, str]:
    """Run this file as a desktop session under xvfb-run; returns (report, log)."""
    home = tmp / "home"
    home.mkdir()
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", QGIS_CUSTOM_CONFIG_PATH=str(home / "profile"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_RUNTIME_DIR=str(home / "run"), PATH=f"{PY.parent}:{os.environ.get('PATH', '')}")
    (home / "run").mkdir(mode=0o700)
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x900x24", str(PY), str(Path(__file__).resolve()),
           "--session", str(tmp / "work")]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    log = f"rc {p.returncode}\n--- stdout\n{p.stdout[-6000:]}\n--- stderr\n{p.stderr[-6000:]}"
    report_file = tmp / "work" / "report.json"
    assert p.returncode == 0, log
    assert report_file.exists(), log
    return json.loads(report_file.read_text()), log


@pytest.fixture(scope="module")
def desktop(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    return run_session(tmp_path_factory.mktemp("desktop"))


def test_two_styled_outputs_then_second_algorithm_no_crash(desktop):
    report, log = desktop
    assert report["finished"], log
    assert report["python_post_processors_left"] == 0, log
    runs = report["runs"]
    assert [r["alg"] for r in runs] == ["loadsmap", "loadsmap", "downscale", "downscale", "difference",
                                                   "loadsmap"], log
    assert all(r["ok"] for r in runs), log


def test_layers_in_project_names_order_renderer_nodata(desktop):
    report, log = desktop
    layers = report["layers"]  # layer tree order, top first
    names = [entry["name"] for entry in layers]
    for entry in layers:
        assert entry["valid"], entry
        assert entry["renderer"] == "singlebandpseudocolor", entry
        assert entry["nodata"] == -9999, entry
    # each run: distinct names whose first part (the quantity, what the Layers panel keeps) already differs
    sources = [entry["source"] for entry in layers]
    for run in report["runs"]:
        quantities = [n.split(" · ")[0] for n in run["new_layers"]]
        assert len(set(quantities)) == len(quantities), run
        assert all(len(q) <= 32 for q in quantities), quantities
        if run["alg"] != "downscale":
            continue
        pos = {key: sources.index(run["results"][key]) for key in run["layer_names"]}
        assert pos["OUTPUT"] < pos["OUTPUT_UNCERTAINTY"], (names, run)
        if "OUTPUT_BASELINE" in pos:
            assert pos["OUTPUT"] < pos["OUTPUT_BASELINE"] < pos["OUTPUT_UNCERTAINTY"], (names, run)


def test_loadsmap_one_layer_per_quantity_units_in_names_and_legends(desktop):
    report, log = desktop
    layers = report["layers"]
    first = report["runs"][0]
    mine = [entry for entry in layers if entry["name"] in first["new_layers"]]
    assert {e["name"].split(" · ")[0] for e in mine} == {"TB V 36 km (K)", "TB H 36 km (K)",
                                                          "Soil moisture 36 km (m³/m³)", "Surface temp. 36 km (K)"}
    assert len({e["source"] for e in mine}) == 1  # one file, one layer per band
    assert sorted(e["band"] for e in mine) == [1, 2, 3, 4]
    for entry in layers:
        units = entry["name"].split(" · ")[0].rsplit("(", 1)[-1].rstrip(")")
        assert units in ("K", "m³/m³"), entry["name"]
        assert entry["legend"] and all(lab.endswith(units) for lab in entry["legend"]), entry
    sm = next(e for e in mine if e["name"].startswith("Soil moisture"))
    assert sm["legend"][0] == "0 m³/m³"


def test_every_dialog_opens_and_takes_a_project_layer(desktop):
    report, log = desktop
    dialogs = report["dialogs"]
    assert {"loadsmap", "loadmodis", "simulate", "train", "downscale", "soilmoisture", "difference"} <= set(dialogs)
    for name, d in dialogs.items():
        assert d["visible"] and d["help_button"], (name, d)
        assert d["widgets"] >= d["parameters"] - 1, (name, d)  # every parameter has its widget
    assert dialogs["downscale"]["input_value_is_project_layer"], dialogs["downscale"]
    assert dialogs["downscale"]["check"][0], dialogs["downscale"]["check"]


def test_styled_layers_render(desktop):
    report, log = desktop
    canvas = report["canvas"]
    assert Path(canvas["png"]).stat().st_size > 5000
    assert all(n > 5 for n in canvas["distinct_colours"]), canvas  # a colour ramp, not one flat colour


def test_chain_load_downscale_difference_uses_project_layers(desktop):
    report, log = desktop
    diff = [r for r in report["runs"] if r["alg"] == "difference"][0]
    assert diff["inputs_were_layer_ids"], log
    assert diff["results"]["MAE"] > 0, diff


# ------------------------------------------------------------------------------------------------------
# The session: run by the test above as `python tests/test_desktop.py --session WORKDIR` under xvfb-run.
# ------------------------------------------------------------------------------------------------------
def _session(work: Path) -> None:  # noqa: C901 - one linear script
    import gc

    work.mkdir(parents=True, exist_ok=True)
    pkg = ROOT / "build" / "pkg"
    pkg.mkdir(parents=True, exist_ok=True)
    if not (pkg / "smapdown").exists():
        (pkg / "smapdown").symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(pkg))
    sys.path.append("/usr/share/qgis/python/plugins")
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback, QgsProject

    app = QgsApplication([], True)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    import processing

    import smapdown
    from smapdown.algorithms.layers import StylePostProcessor

    plugin = smapdown.classFactory(None)
    plugin.initProcessing()
    report: dict = {"runs": [], "finished": False}
    project = QgsProject.instance()

    def run(alg: str, params: dict) -> dict:
        ctx = QgsProcessingContext()
        ctx.setProject(project)
        before = set(project.mapLayers())
        res = processing.runAndLoadResults(f"smapdown:{alg}", params, feedback=QgsProcessingFeedback(), context=ctx)
        del ctx  # QGIS deletes the post-processors here: where shared ones crashed
        gc.collect()
        app.processEvents()
        new = {lid: project.mapLayer(lid) for lid in set(project.mapLayers()) - before}
        by_source = {lay.source(): lay for lay in new.values()}
        names = {}
        for key, value in (res or {}).items():
            if isinstance(value, str) and value in by_source:
                names[key] = by_source[value].name()
        entry = {"alg": alg, "ok": res is not None, "new_layers": sorted(lay.name() for lay in new.values()),
                 "layer_names": names,
                 "results": {k: v for k, v in (res or {}).items() if isinstance(v, (int, float, str))}}
        report["runs"].append(entry)
        print("RUN", alg, json.dumps(entry, default=str), flush=True)
        return {"res": res or {}, "new": new, "entry": entry}

    # SMAPDOWN_DESKTOP_EXTENT: a larger region for the README's canvas picture (docs/images/canvas-results.png)
    sim = processing.run("smapdown:simulate", {
        "EXTENT": os.environ.get("SMAPDOWN_DESKTOP_EXTENT", "-98.3,-96.7,36.0,37.2 [EPSG:4326]"),
        "START": "2015-04-05", "DAYS": 2, "SEED": 3,
        "CLIMATE": 0, "OUTPUT_FOLDER": str(work / "sim")})
    folder = Path(sim["OUTPUT_FOLDER"])
    low, high = folder / f"SMAP_L3_SM_P_{DAY}_SIM.h5", folder / f"SMAP_L3_SM_AP_{DAY}_SIM.h5"
    tmp_out = "TEMPORARY_OUTPUT"

    loaded = run("loadsmap", {"INPUT": str(low), "OUTPUT": tmp_out})
    reference = run("loadsmap", {"INPUT": str(high), "VARIABLES": "tb_v,tb_h", "OUTPUT": str(work / "ref9.tif")})
    # the 36 km TB chosen as a project layer (its id), as a user picks it in the dialog
    tb_layer = next(iter(loaded["new"].values()))
    first = run("downscale", {"INPUT": tb_layer.id(), "OUTPUT": tmp_out, "OUTPUT_BASELINE": tmp_out,
                              "OUTPUT_UNCERTAINTY": tmp_out})
    run("downscale", {"INPUT": str(low), "OUTPUT": str(work / "tb9_second.tif"),
                      "OUTPUT_UNCERTAINTY": str(work / "spread_second.tif")})
    cnn_layer = next(lay for lay in first["new"].values() if lay.source() == first["res"]["OUTPUT"])
    ref_layer = next(lay for lay in reference["new"].values() if lay.name().startswith("TB V"))
    diff = run("difference", {"INPUT": cnn_layer.id(), "REFERENCE": ref_layer.id(), "OUTPUT": tmp_out})
    # a second algorithm after the contexts above were deleted: their post-processors are gone
    run("loadsmap", {"INPUT": str(high), "VARIABLES": "tb_v", "OUTPUT": tmp_out})
    diff["entry"]["inputs_were_layer_ids"] = True

    report["dialogs"] = _open_dialogs(app, tb_layer)

    layers = []
    for node in project.layerTreeRoot().findLayers():
        lay = node.layer()
        prov = lay.dataProvider()
        layers.append({"name": lay.name(), "valid": lay.isValid(), "source": lay.source(),
                       "renderer": lay.renderer().type() if lay.renderer() else None,
                       "nodata": prov.sourceNoDataValue(1) if prov.sourceHasNoDataValue(1) else None,
                       "bands": lay.bandCount(), "units": _units(lay),
                       "run": lay.customProperty("smapdown/run"), "rank": lay.customProperty("smapdown/rank"),
                       "band": _band(lay), "legend": _legend(lay)})
    report["layers"] = layers
    report["canvas"] = _render_canvas(work / "canvas.png", [
        next(lay for lay in loaded["new"].values() if lay.name().startswith("TB V")),
        cnn_layer,
        next(lay for lay in first["new"].values() if lay.name().startswith("TB CNN spread")),
        next(iter(diff["new"].values()))])
    report["python_post_processors_left"] = len([p for p in StylePostProcessor._LIVE])
    report["finished"] = True
    (work / "report.json").write_text(json.dumps(report, indent=1, default=str))
    plugin.unload()
    app.exitQgis()


def _open_dialogs(app, tb_layer) -> dict:
    """Open every smapdown algorithm's Toolbox dialog; in Downscale choose the project layer ``tb_layer`` as
    input and read the dialog's parameters back, as Run would, then check them like Run does."""
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProject

    out = {}
    for alg in QgsApplication.processingRegistry().providerById("smapdown").algorithms():
        dialog = AlgorithmDialog(alg.create(), False, None)
        dialog.show()
        app.processEvents()
        panel = dialog.mainWidget()
        entry = {"visible": dialog.isVisible(), "title": dialog.windowTitle(),
                 "widgets": len(panel.wrappers), "parameters": len(alg.parameterDefinitions()),
                 "help_button": dialog.buttonBox().button(dialog.buttonBox().Help) is not None}
        if alg.name() == "downscale":
            ctx = QgsProcessingContext()
            ctx.setProject(QgsProject.instance())
            wrapper = panel.wrappers["INPUT"]
            wrapper.setParameterValue(tb_layer.id(), ctx)
            params = dialog.createProcessingParameters()
            value = params["INPUT"]
            value = value.id() if hasattr(value, "id") else value
            entry["input_value_is_project_layer"] = value in (tb_layer.id(), tb_layer.source())
            ok, msg = dialog.algorithm().checkParameterValues(params, ctx)
            entry["check"] = [ok, msg]
        dialog.close()
        app.processEvents()
        out[alg.name()] = entry
    return out


def _render_canvas(path: Path, layers: list) -> dict:
    """Render each layer as QGIS draws it (style, nodata) side by side with its name; returns pixel facts."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize, Qt
    from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter

    tile, head = 300, 28
    image = QImage(tile * len(layers), tile + head, QImage.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setFont(QFont("DejaVu Sans", 9))
    colours = []
    extent = layers[1].extent()
    for i, lay in enumerate(layers):
        settings = QgsMapSettings()
        settings.setLayers([lay])
        settings.setDestinationCrs(lay.crs())
        settings.setExtent(extent)
        settings.setOutputSize(QSize(tile, tile))
        settings.setBackgroundColor(QColor("white"))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        img = job.renderedImage()
        painter.drawImage(i * tile, head, img)
        painter.drawText(i * tile + 4, 4, tile - 8, head - 4, Qt.AlignLeft | Qt.TextWordWrap, lay.name())
        colours.append(len({img.pixel(x, y) for x in range(0, tile, 7) for y in range(0, tile, 7)}))
    painter.end()
    image.save(str(path))
    return {"png": str(path), "distinct_colours": colours}


def _band(layer) -> int | None:
    r = layer.renderer()
    for attr in ("inputBand", "band"):
        if hasattr(r, attr):
            return getattr(r, attr)()
    return None


def _legend(layer) -> list[str]:
    """Labels of the colour classes and the colour-bar suffix of a pseudocolour layer."""
    r = layer.renderer()
    shader = r.shader().rasterShaderFunction() if hasattr(r, "shader") and r.shader() else None
    if shader is None:
        return []
    labels = [item.label for item in shader.colorRampItemList()]
    if hasattr(shader, "legendSettings"):
        labels.append("suffix:" + shader.legendSettings().suffix())
    return labels


def _units(layer) -> list[str]:
    """Units of each band as GDAL reports them (the legend shows them through the band names)."""
    from osgeo import gdal

    src = layer.source()
    ds = gdal.Open(src)
    if ds is None:
        return []
    return [ds.GetRasterBand(b).GetUnitType() for b in range(1, ds.RasterCount + 1)]


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--session":
    _session(Path(sys.argv[2]))
