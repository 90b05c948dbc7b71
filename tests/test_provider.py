"""The provider and its algorithms under real QGIS (pytest-qgis)."""

from __future__ import annotations

from qgis.core import QgsApplication

EXPECTED = {"loadsmap": "data", "loadmodis": "data", "simulate": "training", "train": "training",
            "downscale": "downscaling", "downscalearchive": "downscaling", "soilmoisture": "soilmoisture",
            "difference": "evaluation"}


def test_provider_registered_once_with_groups(provider):
    import smapdown

    again = smapdown.classFactory(None)
    again.initGui()  # a second registration must be a no-op, not a second provider
    assert provider is not None
    assert provider.name() == "smapdown"
    assert not provider.icon().isNull()
    algs = {a.name(): a for a in provider.algorithms()}
    for name, group in EXPECTED.items():
        assert name in algs, f"{name} missing from provider"
        assert algs[name].groupId() == group
        assert algs[name].shortHelpString()
        for p in algs[name].parameterDefinitions():
            assert p.name().isupper(), p.name()
            assert p.help(), f"{name}.{p.name()} has no help"
    ids = [p.id() for p in QgsApplication.processingRegistry().providers()]
    assert ids.count("smapdown") == 1


def test_help_pages_urls_and_texts_a_user_reads(provider):
    import re
    from pathlib import Path

    from qgis.core import QgsProcessingParameterEnum

    from smapdown.algorithms.base import plugin_metadata

    root = Path(__file__).resolve().parents[1]
    repo = plugin_metadata("repository")
    assert repo
    algs = {a.name(): a for a in provider.algorithms()}
    for name in EXPECTED:
        alg = algs[name]
        assert alg.helpUrl() == f"{repo}/blob/main/docs/algorithms/{name}.md"
        page = (root / "docs" / "algorithms" / f"{name}.md").read_text()
        help_text = alg.shortHelpString()
        ids = {p.name() for p in alg.parameterDefinitions()} | {o.name() for o in alg.outputDefinitions()}
        ids -= {"MAE", "RMSE", "BIAS", "UBRMSE", "PSNR", "SSIM"}  # metric names, also the words users know
        shown = [w for w in re.findall(r"(?<![-\w])[A-Z][A-Z0-9_]{3,}\b", help_text) if w in ids]
        assert not shown, f"{name}: the help panel names parameter ids {shown}"
        first = help_text.split("\n")[0].lower()
        assert not first.startswith(("trains the poster", "subtracts", "reads a nasa")), first
        for p in alg.parameterDefinitions():
            assert "(optional)" not in p.description().lower(), p.description()
            assert p.description() in page, f"{name}: page lacks {p.description()}"
            ids_in_help = [w for w in re.findall(r"(?<![-\w])[A-Z][A-Z0-9_]{3,}\b", p.help()) if w in ids]
            assert not ids_in_help, f"{name}.{p.name()} help names {ids_in_help}"
            if isinstance(p, QgsProcessingParameterEnum):
                for option in p.options():
                    if re.fullmatch(r"M\d\d", option):
                        raise AssertionError(f"{name}.{p.name()}: grid option {option} without km")


def test_help_pages_are_generated_from_the_definitions(provider):
    """docs/algorithms/<id>.md equals what algorithms/help_page.py makes of the algorithm as loaded: a changed
    help text or a new option fails here until the page is regenerated (see help_page's docstring)."""
    from pathlib import Path

    from smapdown.algorithms.help_page import page

    root = Path(__file__).resolve().parents[1]
    algs = {a.name(): a for a in provider.algorithms()}
    assert set(algs) == set(EXPECTED), "every algorithm has a page and an entry in EXPECTED"
    for name, alg in algs.items():
        made = page(alg)
        assert "\n| On cancel, save the last finished epoch |" in made or name != "train"
        assert (root / "docs" / "algorithms" / f"{name}.md").read_text(encoding="utf-8") == made, \
            f"docs/algorithms/{name}.md is out of date: regenerate it with algorithms/help_page.py"


def test_archive_takes_a_project_layer_as_static_raster(provider, sim, tmp_path):
    """The archive's Static ancillary raster is a raster-layer option: a layer of the project gives its file."""
    from qgis.core import QgsProcessingContext, QgsProject, QgsRasterLayer

    folder, _ = sim
    static = next(folder.glob("STATIC_M03_SIM*.tif"))
    layer = QgsRasterLayer(str(static), "static", "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    try:
        ctx = QgsProcessingContext()
        ctx.setProject(QgsProject.instance())
        alg = QgsApplication.processingRegistry().algorithmById("smapdown:downscalearchive")
        params = {"INPUT_FOLDER": str(folder), "STATIC": layer.id(), "OUTPUT_FOLDER": str(tmp_path / "out")}
        assert alg.input_file(params, "STATIC", ctx) == str(static)
        ok, msg = alg.checkParameterValues(params, ctx)
        assert ok, msg
        ok, msg = alg.checkParameterValues({**params, "STATIC": "no such layer"}, ctx)
        assert not ok and msg.startswith("Static ancillary raster: no such file or project layer"), msg
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
