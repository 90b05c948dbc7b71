"""Test set-up: import this checkout as package ``smapdown`` and locate the shared real data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The package comes from the venv: scripts/setup.sh (make setup / make test) links this checkout into its
# site-packages as `smapdown` and adds Debian's Processing plugin folder. Say so clearly when it is missing or
# points at another checkout, instead of testing the wrong code.
try:
    import smapdown as _smapdown
except ImportError as _e:
    raise pytest.UsageError(f"package smapdown is not importable from {sys.executable}: run `make setup` "
                            "(it links this checkout into the venv)") from _e
if Path(_smapdown.__file__).resolve().parent != ROOT:
    raise pytest.UsageError(f"the venv's smapdown is {Path(_smapdown.__file__).resolve().parent}, not this "
                            f"checkout {ROOT}: run `make setup` here")

REAL = ROOT.parent / "shared" / "data" / "real"
SMAP_L2_NRT = REAL / "smap" / "SMAP_L2_SM_P_NRT_24342_A_20190822T224858_N16023_002.h5"
MOD11A1 = REAL / "modis" / "MOD11A1.A2019305.h14v09.006.hdf"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data file {path.name} not found under ../shared/data/real "
                    "(the shared data folder is absent on this machine)")
    return path


@pytest.fixture(scope="session")
def real_smap_l2() -> Path:
    """The real SPL2SMP_NRT half-orbit (skips when ../shared is absent)."""
    return _need(SMAP_L2_NRT)


@pytest.fixture(scope="session")
def real_mod11a1() -> Path:
    """The real MOD11A1 tile (skips when ../shared is absent)."""
    return _need(MOD11A1)


QGIS_PROCESS = ROOT / ".venv" / "bin" / "qgis_process"


@pytest.fixture(scope="session")
def qgis_process_run(tmp_path_factory):
    """Run ``qgis_process --json run ALG -- K=V ...`` in a fresh profile with the plugin enabled.

    Returns a function (alg, params) -> (returncode, parsed JSON or None, stdout+stderr).
    """
    import json
    import subprocess

    if not QGIS_PROCESS.exists():
        pytest.skip("the venv's qgis_process wrapper is missing: run `make setup`")
    home = tmp_path_factory.mktemp("qgis-profile")
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(home), XDG_CACHE_HOME=str(home / "cache"),
               XDG_CONFIG_HOME=str(home / "config"), QT_QPA_PLATFORM="offscreen")
    subprocess.run(["bash", str(ROOT / "scripts" / "install_plugin.sh"), str(home)], env=env,
                   check=True, capture_output=True, timeout=120)

    def run(alg: str, params: dict[str, object], timeout: float = 300):
        args = [str(QGIS_PROCESS), "--json", "run", alg, "--"]
        args += [f"{k}={v}" for k, v in params.items()]
        p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
        out = p.stdout
        data = None
        start = out.find("{")
        if start >= 0:
            try:
                data = json.loads(out[start:])
            except json.JSONDecodeError:
                data = None
        return p.returncode, data, out + p.stderr

    return run


@pytest.fixture(scope="session")
def provider(qgis_processing):
    """The smapdown provider, registered once through the plugin's own initProcessing()."""
    from qgis.core import QgsApplication

    import smapdown

    plugin = smapdown.classFactory(None)
    plugin.initProcessing()
    provider = QgsApplication.processingRegistry().providerById("smapdown")
    provider._plugin = plugin  # the plugin object must outlive the tests
    return provider


@pytest.fixture
def run_alg(provider):
    """processing.run for a smapdown algorithm: run_alg('loadsmap', {...}) -> results dict."""
    import processing
    from qgis.core import QgsProcessingFeedback

    def run(name: str, params: dict, feedback=None):
        return processing.run(f"smapdown:{name}", params, feedback=feedback or QgsProcessingFeedback())

    return run


@pytest.fixture(scope="session")
def sim(provider, tmp_path_factory):
    """A 4 x 4-cell simulated region over 8 days, written through smapdown:simulate."""
    import processing

    folder = tmp_path_factory.mktemp("sim")
    res = processing.run("smapdown:simulate", {
        "EXTENT": "-98.3,-96.7,36.0,37.2 [EPSG:4326]", "START": "2015-04-01", "DAYS": 8, "SEED": 3,
        "CLIMATE": 0, "OUTPUT_FOLDER": str(folder)})
    return folder, res
