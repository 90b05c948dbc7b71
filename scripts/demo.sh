#!/usr/bin/env bash
# make demo: the poster's story, headless through qgis_process, on simulated scenes.
#   1. simulate a region over a "radar period" (30 days) and the 10 days after it
#   2. train a location-specific network on the radar period (last 5 radar days held out)
#   3. downscale a later day with it and with the bundled general model, against the radar-guided reference
#   4. estimate soil moisture for that day from TB + LST with the bundled soil-moisture model
#   5. write GeoTIFFs, reports and a poster-like PNG panel; print the metrics table
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${DEMO_OUTPUT:-$ROOT/demo-output}
QP="$ROOT/.venv/bin/qgis_process"
export XDG_CACHE_HOME="$ROOT/.qgis/cache" XDG_CONFIG_HOME="$ROOT/.qgis/config"
EPOCHS=${DEMO_EPOCHS:-15}
rm -rf "$OUT"; mkdir -p "$OUT"
T0=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - T0 )) s] $*"; }
run() {  # run ALG K=V ...  -> JSON in $OUT/<name>.json
    local name=$1 alg=$2; shift 2
    if ! "$QP" --json run "$alg" -- "$@" > "$OUT/$name.json" 2> "$OUT/$name.log"; then
        echo "qgis_process run $alg failed; its log:" >&2; tail -n 30 "$OUT/$name.log" >&2; tail -c 2000 "$OUT/$name.json" >&2
        exit 1
    fi
}

step "1. simulate 8 x 8 cells of 36 km (288 km) in Oklahoma, 2015-04-01 + 40 days (SIMULATED data)"
run simulate smapdown:simulate EXTENT="-9584000,-9297000,4252500,4539500 [EPSG:6933]" START=2015-04-01 DAYS=40 SEED=7 \
    CLIMATE=0 OUTPUT_FOLDER="$OUT/scenes"
S="$OUT/scenes"
step "2. train a location-specific network on the radar period 2015-04-01..2015-04-30 ($EPOCHS epochs)"
run train smapdown:train INPUT_LOW="$S" INPUT_HIGH="$S" CASE=0 END=2015-04-30 VALIDATION_DAYS=5 \
    EPOCHS="$EPOCHS" SEED=0 FEATURES=${DEMO_FEATURES:-32} PATCHES_PER_EPOCH=256 BF16=true \
    OUTPUT_MODEL="$OUT/location_model.pt" OUTPUT_REPORT="$OUT/train_report.json"
DAY=20150507  # a Sentinel-1 day (the 3 km SPL2SMAP_S-like reference exists every 6 days from the start)
LOW="$S/SMAP_L3_SM_P_${DAY}_SIM.h5"; HIGH="$S/SMAP_L3_SM_AP_${DAY}_SIM.h5"
step "3. downscale 2015-05-07 (after the radar period) with the location-specific and the bundled model"
for m in location general; do
    model=(); [ $m = location ] && model=(MODEL="$OUT/location_model.pt")
    run downscale_$m smapdown:downscale INPUT="$LOW" "${model[@]}" REFERENCE="$HIGH" \
        OUTPUT="$OUT/tb9_cnn_$m.tif" OUTPUT_BASELINE="$OUT/tb9_bicubic.tif" \
        OUTPUT_DIFF_LOWRES="$OUT/diff_bicubic_minus_ref.tif" OUTPUT_DIFF_CNN="$OUT/diff_cnn_${m}_minus_ref.tif" \
        OUTPUT_REPORT="$OUT/downscale_$m.report.json"
done
step "4. soil moisture on 3 km from TB + LST + the 36 km retrieval (bundled model), against the SPL2SMAP_S-like reference"
run soilmoisture smapdown:soilmoisture INPUT="$LOW" LST="$S/LST_${DAY}_SIM.tif" \
    REFERENCE="$S/SMAP_L2_SM_SP_${DAY}_SIM.h5" OUTPUT="$OUT/sm3_cnn.tif" OUTPUT_DIFF="$OUT/diff_sm3_minus_ref.tif" \
    OUTPUT_REPORT="$OUT/soilmoisture.report.json"
step "5. panel and metrics"
"$ROOT/.venv/bin/python" "$ROOT/scripts/demo_summary.py" "$OUT" "$DAY"
echo; echo "Done in $(( $(date +%s) - T0 )) s. Outputs: $OUT"
