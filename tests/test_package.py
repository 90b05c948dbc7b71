"""`make package`: the zip holds only what runs in QGIS, installs into a fresh profile like "Install from ZIP",
and `qgis_process run smapdown:downscale` works from that copy; without torch the message gives the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DAY = "20150406"
QGIS_PROCESS_BIN = Path("/usr/bin/qgis_process.bin")


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package")
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "package.py"), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    path = Path(p.stdout.strip())
    assert path.name.startswith("smapdown-") and path.suffix == ".zip" and path.exists()
    return path


def test_zip_holds_only_what_runs_in_qgis(plugin_zip):
    names = zipfile.ZipFile(plugin_zip).namelist()
    assert all(n.startswith("smapdown/") for n in names)
    rel = {n[len("smapdown/"):] for n in names}
    for needed in ("__init__.py", "plugin.py", "metadata.txt", "LICENSE", "CHANGELOG.md", "algorithms/provider.py",
                   "core/smap.py", "model/network.py", "model/tb_general.pt", "model/tb_general.json",
                   "model/sm_general.pt", "resources/icon.svg", "resources/styles/tb.qml",
                   "resources/models/smap_downscale_chain.model3"):
        assert needed in rel, needed
    for banned in ("tests/", "bench/", "scripts/", ".ci/", "docs/", "build/", ".venv/", "__pycache__"):
        assert not [n for n in rel if n.startswith(banned) or f"/{banned}" in n], banned
    assert not [n for n in rel if n.endswith((".pyc", ".part"))]
    assert plugin_zip.stat().st_size < 20_000_000
    version = [ln for ln in (ROOT / "metadata.txt").read_text().splitlines() if ln.startswith("version=")][0]
    assert plugin_zip.name == f"smapdown-{version.split('=', 1)[1]}.zip"
    assert "GNU GENERAL PUBLIC LICENSE" in zipfile.ZipFile(plugin_zip).read("smapdown/LICENSE").decode()


def _install(plugin_zip: Path, home: Path) -> dict[str, str]:
    """Unzip into <profile root>/profiles/default/python/plugins, as the Plugin Manager does, and enable it."""
    plugins = home / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(plugin_zip).extractall(plugins)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "QGIS_PLUGINPATH", "VIRTUAL_ENV")}
    env.update(QGIS_CUSTOM_CONFIG_PATH=str(home), XDG_CACHE_HOME=str(home / "cache"),
               XDG_CONFIG_HOME=str(home / "config"), QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="")
    env.pop("PYTHONDONTWRITEBYTECODE")
    p = subprocess.run([str(QGIS_PROCESS_BIN), "plugins", "enable", "smapdown"], env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return env


def _run(env: dict[str, str], args: list[str], timeout: float = 300) -> tuple[int, dict | None, str]:
    p = subprocess.run([str(QGIS_PROCESS_BIN), "--json", "run", *args], env=env, capture_output=True, text=True,
                       timeout=timeout)
    data = None
    start = p.stdout.find("{")
    if start >= 0:
        try:
            data = json.loads(p.stdout[start:])
        except json.JSONDecodeError:
            data = None
    return p.returncode, data, p.stdout + p.stderr


def test_zip_installs_in_a_fresh_profile_and_downscales(plugin_zip, sim, tmp_path):
    if not QGIS_PROCESS_BIN.exists():
        pytest.skip("QGIS's qgis_process.bin is not installed (apt-get install qgis)")
    venv_bin = ROOT / ".venv" / "bin"
    if not (venv_bin / "python").exists():
        pytest.skip("the project venv (torch) is missing: run `make setup`")
    folder, _ = sim
    env = _install(plugin_zip, tmp_path / "profile")
    installed = tmp_path / "profile" / "profiles" / "default" / "python" / "plugins" / "smapdown"
    assert not installed.is_symlink() and (installed / "metadata.txt").exists()
    # QGIS's embedded Python takes its prefix from the first python3 on PATH: the venv holds torch
    env["PATH"] = f"{venv_bin}:{env.get('PATH', '')}"
    out = tmp_path / "tb9.tif"
    rc, data, log = _run(env, ["smapdown:downscale", "--", f"INPUT={folder / f'SMAP_L3_SM_P_{DAY}_SIM.h5'}",
                               f"OUTPUT={out}"])
    assert rc == 0, log
    assert Path(data["results"]["OUTPUT"]) == out and out.exists()
    assert data["results"]["DEVICE"] == "cpu"
    # the algorithms ran from the unzipped copy (its modules were compiled there), not from this checkout
    assert list((installed / "algorithms" / "__pycache__").glob("downscale*.pyc")), log


def test_without_torch_the_error_gives_the_command_for_qgis_python(plugin_zip, sim, tmp_path):
    if not QGIS_PROCESS_BIN.exists():
        pytest.skip("QGIS's qgis_process.bin is not installed (apt-get install qgis)")
    probe = subprocess.run(["/usr/bin/python3", "-c", "import torch"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("the system Python has torch, so QGIS without the venv has it too")
    folder, _ = sim
    env = _install(plugin_zip, tmp_path / "profile")
    env["PATH"] = "/usr/bin:/bin"  # QGIS's own Python: Debian's /usr, no torch
    out = tmp_path / "tb9.tif"
    rc, _, log = _run(env, ["smapdown:downscale", "--", f"INPUT={folder / f'SMAP_L3_SM_P_{DAY}_SIM.h5'}",
                            f"OUTPUT={out}"])
    assert rc != 0 and not out.exists()
    assert "PyTorch" in log and "Python that QGIS runs" in log, log
    assert "at /usr)" in log, log
    managed = list(Path("/usr/lib").glob("python3*/EXTERNALLY-MANAGED"))
    if managed:
        assert "/usr/bin/python3 -m venv --system-site-packages ~/qgis-torch" in log, log
    else:
        assert "/usr/bin/python3 -m pip install torch" in log, log
    assert "Traceback" not in log


def test_torch_commands_for_each_system():
    from smapdown.algorithms.base import torch_install_command

    win = torch_install_command("win32", "C:/OSGeo4W/apps/Python39", (3, 9), False)
    assert "OSGeo4W Shell" in win and "python -m pip install torch" in win
    mac = torch_install_command("darwin", "/x", (3, 9), False, "/Applications/QGIS.app/Contents/MacOS/bin/python3")
    assert '"/Applications/QGIS.app/Contents/MacOS/bin/python3" -m pip install torch' in mac
    venv = torch_install_command("linux", "/home/u/qgis-venv", (3, 11), False)
    assert venv.startswith("run:  /home/u/qgis-venv/bin/python3 -m pip install torch")
    debian = torch_install_command("linux", "/usr", (3, 11), True)
    assert "/usr/bin/python3 -m venv --system-site-packages" in debian and "PATH=~/qgis-torch/bin:$PATH qgis" in debian
