#!/usr/bin/env bash
# install_plugin.sh PROFILE_ROOT: link this checkout as plugin 'smapdown' into a QGIS profile and enable it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROFILE_ROOT=${1:?usage: install_plugin.sh PROFILE_ROOT}
PLUGINS="$PROFILE_ROOT/profiles/default/python/plugins"
mkdir -p "$PLUGINS"
if [ "$(readlink "$PLUGINS/smapdown" 2>/dev/null)" != "$ROOT" ]; then
    rm -rf "$PLUGINS/smapdown"
    ln -s "$ROOT" "$PLUGINS/smapdown"
fi
INI="$PROFILE_ROOT/profiles/default/QGIS/QGIS3.ini"
if ! grep -qs '^smapdown=true' "$INI"; then
    export XDG_CACHE_HOME="$PROFILE_ROOT/cache" XDG_CONFIG_HOME="$PROFILE_ROOT/config"
    QGIS_CUSTOM_CONFIG_PATH="$PROFILE_ROOT" "$ROOT/.venv/bin/qgis_process" plugins enable smapdown >/dev/null
fi
