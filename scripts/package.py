"""Build build/smapdown-<version>.zip for QGIS's "Install from ZIP": only what runs inside QGIS.

The zip holds one folder, ``smapdown/``: the plugin's Python packages (every top-level folder with an
``__init__.py`` except tests, bench and scripts), the bundled models with their cards, resources/ (icon,
styles, the modeler model), metadata.txt, LICENSE and CHANGELOG.md. Not shipped: tests, benchmarks,
scripts, CI, docs and their images, caches, the venv, build outputs. Entries are sorted and time-stamped
from metadata.txt's version so the same tree gives the same bytes.

Usage: python3 scripts/package.py [--out DIR]   (prints the zip's path)
"""

from __future__ import annotations

import argparse
import configparser
import os
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "smapdown"
TOP_FILES = ["__init__.py", "plugin.py", "metadata.txt", "LICENSE", "CHANGELOG.md"]
NOT_PACKAGES = {"tests", "bench", "scripts", "docs", "build", ".ci", ".venv", ".qgis", ".qgis-settings"}
SHIPPED_EXT = {".py", ".pt", ".json", ".svg", ".qml", ".model3", ".png", ".txt", ".md"}
STAMP = (2026, 1, 1, 0, 0, 0)


def version() -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(ROOT, "metadata.txt"), encoding="utf-8")
    return parser.get("general", "version")


def plugin_files() -> list[str]:
    """Paths (relative to the repository root) that go into the zip, sorted."""
    files = [f for f in TOP_FILES if os.path.isfile(os.path.join(ROOT, f))]
    missing = {"__init__.py", "metadata.txt", "LICENSE"} - set(files)
    if missing:
        sys.exit(f"package: missing {', '.join(sorted(missing))}")
    dirs = sorted(d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d)) and d not in NOT_PACKAGES
                  and not d.startswith(".") and (os.path.isfile(os.path.join(ROOT, d, "__init__.py"))
                                                 or d == "resources"))
    for top in dirs:
        for folder, subdirs, names in os.walk(os.path.join(ROOT, top)):
            subdirs[:] = sorted(s for s in subdirs if s != "__pycache__" and not s.startswith("."))
            for n in sorted(names):
                if os.path.splitext(n)[1].lower() in SHIPPED_EXT and not n.startswith("."):
                    files.append(os.path.relpath(os.path.join(folder, n), ROOT))
    return sorted(files)


def build(out_dir: str) -> str:
    """Write the zip atomically; returns its path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{NAME}-{version()}.zip")
    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in plugin_files():
            info = zipfile.ZipInfo(f"{NAME}/{rel}", STAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(ROOT, rel), "rb") as f:
                z.writestr(info, f.read())
    os.replace(tmp, path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "build"), help="folder for the zip (default build/)")
    print(build(ap.parse_args().out))


if __name__ == "__main__":
    main()
