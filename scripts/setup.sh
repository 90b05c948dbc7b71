#!/usr/bin/env bash
# Idempotent set-up: Debian packages, the venv, the qgis_process wrapper, the plugin in a QGIS profile.
# A second run installs nothing (each step checks first).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"
PROFILE_ROOT="$ROOT/.qgis"
# xvfb + xauth: the desktop tests (tests/test_desktop.py) start GUI QGIS on a virtual display with xvfb-run.
APT_PKGS="qgis python3-qgis python3-gdal gdal-bin python3-h5py python3-venv python3-matplotlib python3-numpy xvfb xauth"

missing=""
for p in $APT_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV on /usr/bin/python3 with system site packages"
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
REQ_HASH=$(sha256sum "$ROOT/requirements.txt" | cut -c1-16)
if [ "$(cat "$VENV/.requirements" 2>/dev/null)" != "$REQ_HASH" ]; then
    echo "setup: pip install -r requirements.txt"
    # numpy<2 and Debian's h5py are kept by constraining to what Debian ships.
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements.txt" -c "$ROOT/scripts/constraints.txt"
    echo "$REQ_HASH" > "$VENV/.requirements"
fi

# The one way to import the package: this checkout IS package `smapdown`, whatever its folder is called, so a
# symlink `smapdown` -> the checkout goes into the venv's site-packages. Every venv Python sees it: pytest,
# scripts/, bench/, Dask workers, torchrun, and the Python inside qgis_process / desktop QGIS started with the
# venv first on PATH (where QGIS's own plugin folder, put first on sys.path by QGIS, still wins).
# A .pth file adds Debian's Processing framework (`import processing`) for scripts outside QGIS.
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ "$(readlink "$SITE/smapdown" 2>/dev/null)" != "$ROOT" ]; then
    if [ -e "$SITE/smapdown" ] && [ ! -L "$SITE/smapdown" ]; then
        echo "setup: $SITE/smapdown is not a link to this checkout; remove it and run make setup again" >&2
        exit 1
    fi
    rm -f "$SITE/smapdown"
    ln -s "$ROOT" "$SITE/smapdown"
fi
PTH="$SITE/smapdown-qgis-processing.pth"
[ "$(cat "$PTH" 2>/dev/null)" = "/usr/share/qgis/python/plugins" ] || echo "/usr/share/qgis/python/plugins" > "$PTH"

# qgis_process wrapper: Debian's /usr/bin/qgis_process passes --noversioncheck, which the binary rejects.
WRAP="$VENV/bin/qgis_process"
cat > "$WRAP.tmp" <<WRAPPER
#!/usr/bin/env bash
# smapdown's qgis_process: venv first on PATH (QGIS's Python then sees torch), offscreen Qt,
# the project's QGIS profile unless the caller chose one.
export PATH="$VENV/bin:\$PATH"
export QT_QPA_PLATFORM="\${QT_QPA_PLATFORM:-offscreen}"
export QGIS_CUSTOM_CONFIG_PATH="\${QGIS_CUSTOM_CONFIG_PATH:-$PROFILE_ROOT}"
exec /usr/bin/qgis_process.bin "\$@"
WRAPPER
chmod +x "$WRAP.tmp"
if ! cmp -s "$WRAP.tmp" "$WRAP"; then mv "$WRAP.tmp" "$WRAP"; else rm -f "$WRAP.tmp"; fi

# The plugin in the project's QGIS profile (a symlink to this checkout), enabled.
"$ROOT/scripts/install_plugin.sh" "$PROFILE_ROOT"
