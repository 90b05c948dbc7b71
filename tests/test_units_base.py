"""Units issue 10 listed as untested or weakly guarded: errors at the boundary (GeoTIFF writer, Scene, the network's
location map), layer styling of the algorithm layer, and the provider without PyTorch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from smapdown.core.errors import InputError, SmapdownError
from smapdown.core.grid import Grid
from smapdown.core.raster import BandSpec, GeoTiffWriter, read_ease_raster, write_geotiff
from smapdown.core.scene import Scene, Variable

ROOT = Path(__file__).resolve().parents[1]
GRID = Grid("M09", 500, 1400, 6, 8)


def _tb(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(250 + 10 * rng.standard_normal(GRID.shape)).astype(np.float32) for _ in range(2)]


TB_BANDS = [BandSpec("tb_v", "K"), BandSpec("tb_h", "K")]


# --------------------------------------------------------------------------- errors at the boundary
def test_write_geotiff_refuses_mismatched_bands_with_a_sentence_naming_the_file(tmp_path):
    out = tmp_path / "tb9.tif"
    with pytest.raises(InputError, match=r"tb9\.tif: 2 array\(s\) for 1 band description"):
        write_geotiff(str(out), GRID, _tb(), TB_BANDS[:1])
    bad = [_tb()[0], np.zeros((3, 3), np.float32)]
    with pytest.raises(InputError, match=r"tb9\.tif: band tb_h has \(3, 3\) pixels .* M09 grid window has \(6, 8\)"):
        write_geotiff(str(out), GRID, bad, TB_BANDS)
    with pytest.raises(InputError, match=r"tb9\.tif: nothing to write"):
        GeoTiffWriter(str(out), GRID, [])
    assert os.listdir(tmp_path) == []  # refused before anything was created: no file, no temporary


def test_write_geotiff_round_trip_still_exact(tmp_path):
    arrays = _tb(1)
    arrays[1][2, 3] = np.nan
    path = write_geotiff(str(tmp_path / "ok.tif"), GRID, arrays, TB_BANDS, {"k": "v"})
    back = read_ease_raster(path)
    assert back.grid == GRID
    np.testing.assert_array_equal(back.arrays[0], arrays[0])
    assert np.isnan(back.arrays[1][2, 3]) and np.isfinite(back.arrays[1]).sum() == GRID.rows * GRID.cols - 1


def test_scene_with_a_variable_off_its_grid_is_an_input_error_naming_the_file():
    v = Variable("tb_v", np.zeros((4, 4), np.float32), "K", "tb", "tb_v", "x")
    with pytest.raises(InputError, match=r"f\.h5: variable tb_v has \(4, 4\) pixels .* M09 grid window has \(6, 8\)"):
        Scene("SPL3SMP", GRID, {"tb_v": v}, path="/data/f.h5")
    with pytest.raises(SmapdownError, match=r"^SPL3SMP: variable"):  # no path: the product names it
        Scene("SPL3SMP", GRID, {"tb_v": v})


def test_network_location_checks_are_real_errors_not_asserts():
    torch = pytest.importorskip("torch")
    from smapdown.model.network import DownscaleCNN

    general = DownscaleCNN(features=4, groups=1)
    with pytest.raises(InputError, match="general model"):
        general.location_crop([(0, 0)], 4, 4)
    located = DownscaleCNN(features=4, groups=1, location_shape=(10, 12))
    x = torch.zeros(3, 2, 6, 6)
    with pytest.raises(InputError, match="got 2 origins for 3 samples"):
        located(x, origin=[(0, 0), (1, 1)])
    with pytest.raises(InputError, match="needs the origin"):
        located(x)
    with torch.no_grad():
        located.location.fill_(1.0)
        y = located(x, origin=(0, 0))
        crop = located.location_crop([(8, 10)], 4, 4)  # 2 x 2 of the map inside, the rest outside: zero
    assert y.shape == (3, 2, 6, 6)
    assert float(crop.sum()) == 2 * 2 * 2 and float(crop[0, :, 2:, :].sum()) == 0.0


# --------------------------------------------------------------------------------- layer styling
def _layer(tmp_path, name: str = "tb9.tif"):
    from qgis.core import QgsRasterLayer

    path = write_geotiff(str(tmp_path / name), GRID, _tb(), TB_BANDS)
    layer = QgsRasterLayer(path, name, "gdal")
    assert layer.isValid()
    return layer


def _range(layer) -> tuple[float, float]:
    """The value range the colour ramp is drawn over."""
    fn = layer.renderer().shader().rasterShaderFunction()
    return fn.minimumValue(), fn.maximumValue()


def _labels(layer) -> list[str]:
    return [i.label for i in layer.renderer().shader().rasterShaderFunction().colorRampItemList()]


def test_style_layer_applies_the_qml_band_units_and_run(provider, tmp_path):
    from qgis.core import QgsSingleBandPseudoColorRenderer

    from smapdown.algorithms.layers import legend_units, style_layer

    layer = _layer(tmp_path)
    style_layer(layer, "tb", "K", 2, "run-1", 3)
    r = layer.renderer()
    assert isinstance(r, QgsSingleBandPseudoColorRenderer)
    assert r.band() == 2
    assert _range(layer) == (150.0, 300.0)  # resources/styles/tb.qml
    labels = _labels(layer)
    assert len(labels) >= 5 and all(lab.endswith(" K") and not lab.endswith("K K") for lab in labels)
    assert layer.customProperty("smapdown/run") == "run-1" and int(layer.customProperty("smapdown/rank")) == 3
    legend_units(layer, "K")  # a second call adds nothing
    assert _labels(layer) == labels

    sm = _layer(tmp_path, "sm.tif")
    style_layer(sm, "soil_moisture", "m³/m³", 1, "run-2", 0)
    assert _range(sm) == (0.0, 0.5)
    assert all(lab.endswith(" m³/m³") for lab in _labels(sm))

    plain = _layer(tmp_path, "plain.tif")
    before = type(plain.renderer())
    style_layer(plain, "no-such-style", "", 1, "run-3", 1)  # unknown style: the layer keeps its renderer
    assert type(plain.renderer()) is before and plain.customProperty("smapdown/run") == "run-3"


def test_every_role_style_has_a_qml_and_roles_map_to_styles():
    from smapdown.algorithms import base, layers

    for style in set(layers._ROLE_STYLES.values()):
        assert Path(base.resource_path("styles", f"{style}.qml")).is_file(), style
    assert layers.style_for_roles(["lst"]) == "temperature"
    assert layers.style_for_roles([None, "soil_moisture"]) == "soil_moisture"
    assert layers.style_for_roles(["sigma0_vv"]) == "sigma0"
    assert layers.style_for_roles(["unknown"]) == "tb" and layers.style_for_roles([]) == "tb"


@pytest.fixture
def project(provider):
    """A fresh QgsProject, emptied before the QgsApplication goes (QGIS owns its layers)."""
    from qgis.core import QgsProject

    p = QgsProject()
    yield p
    p.removeAllMapLayers()


def test_post_processor_styles_adds_band_layers_and_orders_the_run(project, tmp_path):
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    from smapdown.algorithms.layers import StylePostProcessor

    ctx = QgsProcessingContext()
    ctx.setProject(project)
    other = _layer(tmp_path, "other.tif")  # not of this run: stays where it is
    project.addMapLayer(other)
    layers = {}
    for rank, name in ((2, "diff.tif"), (0, "main.tif"), (1, "base.tif")):  # QGIS loads in path order
        layers[rank] = _layer(tmp_path, name)
        project.addMapLayer(layers[rank])
        layers[rank].setCustomProperty("smapdown/run", "r")
        layers[rank].setCustomProperty("smapdown/rank", rank)
    a = StylePostProcessor.create("tb", "r", 0, "K", more_bands=[(2, "TB H", "tb", "K")])
    b = StylePostProcessor.create("difference_tb", "r", 2, "K")
    assert a is not b and a in StylePostProcessor._LIVE and b in StylePostProcessor._LIVE
    a.postProcessLayer(layers[0], ctx, QgsProcessingFeedback())
    assert a not in StylePostProcessor._LIVE and b in StylePostProcessor._LIVE  # one use each
    b.postProcessLayer(layers[2], ctx, QgsProcessingFeedback())
    extra = project.mapLayersByName("TB H")
    assert len(extra) == 1 and extra[0].renderer().band() == 2 and extra[0].source() == layers[0].source()
    assert int(extra[0].customProperty("smapdown/rank")) == 1
    order = [n.layer().name() for n in project.layerTreeRoot().children()]
    run = [n for n in order if n != "other.tif"]
    # rank 0 on top, the extra band beside it (rank 1, before base.tif's rank 1 by position), then rank 2
    assert run[0] == "main.tif" and run[-1] == "diff.tif" and set(run[1:3]) == {"TB H", "base.tif"}, order
    assert order[-1] == "other.tif" or order[0] == "other.tif"
    assert _range(layers[2]) == (-15.0, 15.0)


# ------------------------------------------------------------------------------ without PyTorch
NO_TORCH = r'''
import json, sys, datetime as dt, importlib.util
sys.modules["torch"] = None  # what QGIS's Python without PyTorch looks like to the import system
assert importlib.util.find_spec("torch") is None
import numpy as np
from qgis.core import QgsApplication, QgsProcessingException
app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
import processing
import smapdown
from smapdown.core.grid import Grid
from smapdown.core.smap_write import write_product
plugin = smapdown.classFactory(None)
plugin.initProcessing()
prov = QgsApplication.processingRegistry().providerById("smapdown")
out = {"provider": prov is not None}
out["can"] = {a.name(): list(a.canExecute()) for a in prov.algorithms()}
folder = sys.argv[1]
h5 = folder + "/SMAP_L3_SM_P_20150401_SIM.h5"
g = Grid("M36", 80, 218, 3, 4)
write_product(h5, "SPL3SMP", g, {"tb_v": np.full(g.shape, 250.0), "tb_h": np.full(g.shape, 190.0)},
              date=dt.date(2015, 4, 1))
res = processing.run("smapdown:loadsmap", {"INPUT": h5, "OUTPUT": folder + "/tb36.tif"})
out["loadsmap"] = res["OUTPUT"]
try:
    processing.run("smapdown:downscale", {"INPUT": h5, "OUTPUT": folder + "/tb9.tif"})
    out["downscale_error"] = None
except QgsProcessingException as exc:
    out["downscale_error"] = str(exc)
out["torch_imported"] = sorted(k for k, v in sys.modules.items() if v is not None and k.split(".")[0] == "torch")
print("RESULT " + json.dumps(out))
app.exitQgis()
'''


def test_without_torch_the_provider_loads_loaders_run_and_torch_algorithms_say_why(tmp_path):
    script = tmp_path / "no_torch.py"
    script.write_text(NO_TORCH)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "profile"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    p = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, text=True,
                       timeout=300)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    assert p.returncode == 0 and line, p.stdout[-3000:] + p.stderr[-3000:]
    out = json.loads(line[0][len("RESULT "):])
    assert out["provider"] and out["torch_imported"] == []
    can = out["can"]
    assert {"loadsmap", "loadmodis", "simulate", "difference", "downscale", "train", "soilmoisture"} <= set(can)
    for name in ("downscale", "downscalearchive", "soilmoisture", "train"):
        ok, reason = can[name]
        assert not ok and "needs PyTorch" in reason and "pip install torch" in reason, (name, reason)
    for name in ("loadsmap", "loadmodis", "simulate", "difference"):
        assert can[name] == [True, ""], name
    assert out["downscale_error"] and "needs PyTorch" in out["downscale_error"]
    assert not (tmp_path / "tb9.tif").exists()
    ds = gdal.Open(out["loadsmap"])
    tb = ds.GetRasterBand(1).ReadAsArray()
    assert ds.RasterXSize == 4 and ds.RasterYSize == 3 and np.allclose(tb, 250.0)
