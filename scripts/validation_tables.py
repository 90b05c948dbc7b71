"""The markdown tables of docs/validation_tables.md, written from the JSON results of scripts/validate.py (its
`tables` step) and the gates of the models' cards or *_gate.json files."""

from __future__ import annotations

import json
import os

from validate import LAGS, LAND_MAX_WATER, OUT, STAT_MAX_WATER


def _load(results: str, name: str) -> dict | None:
    """A JSON result of validate.py from the folder ``results``, or None where it was not made."""
    path = os.path.join(results, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _wald_table(results: str) -> list[str]:
    """Wald's protocol on the real half-orbit (wald.json)."""
    lines: list[str] = []
    wald = _load(results, "wald.json")
    if wald:
        lines += ["## Wald's protocol on the real half-orbit (144 → 36 km)", "",
                  f"File `{wald['file']}`: real 36 km TB aggregated 4 × 4 to 144 km, brought back to 36 km, scored "
                  f"against the real 36 km TB on {wald['cells']} land cells (static water fraction < "
                  f"{LAND_MAX_WATER}). Ratio = MAE ÷ bicubic MAE.", "",
                  "| method | MAE V (K) | ratio V | MAE H (K) | ratio H |", "|---|---|---|---|---|"]
        for k, v in wald["methods"].items():
            lines.append(f"| {k} | {v['mae_v']:.2f} | {v['ratio_v']:.3f} | {v['mae_h']:.2f} | {v['ratio_h']:.3f} |")
        lines.append("")
    return lines


def _gate_tables(gates: dict[str, str]) -> list[str]:
    """One table per model gate (label → a *_gate.json or a model card's JSON)."""
    lines: list[str] = []
    for label, path in gates.items():
        if not os.path.exists(path):
            continue
        with open(path) as f:
            g = json.load(f)
        g = g.get("gate", g)  # a model card (its gate) or a *_gate.json
        p = g["unseen_regions_pooled"]
        lines += [f"## {label}: unseen simulated regions, 36 → 9 km, against the simulated TRUE 9 km TB", "",
                  f"{g['data']}; {g['days_per_region']} days per region. Ratio = CNN MAE ÷ bicubic MAE "
                  "(CNN with mean preservation and physical bounds, as `downscale` runs it).", "",
                  "| region | climate, water | ratio V | ratio H | 36 km repeated V / H | CNN MAE V / H (K) | "
                  "CNN vs radar-guided V / H (K, agreement) |", "|---|---|---|---|---|---|---|"]
        for name, r in [*g["unseen_regions"].items(), ("**pooled**", {"climate": "", "water": "", **p})]:
            v, h = r["tb_v"], r["tb_h"]
            lines.append(f"| {name} | {r['climate']} {r['water']} | {v['ratio']:.3f} | {h['ratio']:.3f} | "
                         f"{v['repeated_ratio']:.3f} / {h['repeated_ratio']:.3f} | {v['cnn_mae_K']:.2f} / "
                         f"{h['cnn_mae_K']:.2f} | {v['cnn_mae_vs_radar_guided_K']:.2f} / "
                         f"{h['cnn_mae_vs_radar_guided_K']:.2f} |")
        lines.append("")
    return lines


def _bound_table(results: str) -> list[str]:
    """The open-water floor on the real half-orbit (bound.json)."""
    lines: list[str] = []
    bound = _load(results, "bound.json")
    if bound:
        lines += ["## Real half-orbit, 36 → 9 km: pixels below the emission of calm open water", "",
                  f"Model `{bound['model']}` on `{bound['file']}` as `downscale` runs it (bf16). Floor V "
                  f"{bound['floor_K'][0]} K, H {bound['floor_K'][1]} K (docs/validation.md).", "",
                  "| | V | H |", "|---|---|---|"]
        for key, what in (("output_9km_pixels_below_floor", "output pixels below the floor"),
                          ("output_9km_pixels_below_100K", "output pixels below 100 K"),
                          ("input_36km_cells_below_floor", "input 36 km cells below the floor (raised to it)"),
                          ("output_9km_valid_pixels", "valid output pixels")):
            lines.append(f"| {what} | {bound[key + '_V']} | {bound[key + '_H']} |")
        lines += ["", f"Pixels the CNN itself put outside the bounds before clipping (both bands): "
                  f"{bound['cnn_pixels_outside_bounds_before_clipping']}.", ""]
    return lines


def _stats_tables(results: str) -> list[str]:
    """Real vs simulated 36 km statistics (stats.json)."""
    lines: list[str] = []
    stats = _load(results, "stats.json")
    if stats:
        lines += ["## Spatial statistics of 36 km TB: real half-orbit vs simulator", "",
                  "Semivariogram γ (K²) of 36 km TB at 36 / 108 / 180 km lags and V − H (K), land cells (open water "
                  f"< {STAT_MAX_WATER}) by dominant cover. Real: `{stats.get('real_file', 'absent')}` "
                  f"(tb_*_corrected). Simulated: the observed 36 km TB of {stats['simulated']['regions']} "
                  "tb-truth training regions (8 × 8 cells each, every second day).", "",
                  "| source | cover | cells | γV 36 / 108 / 180 | γH 36 / 108 / 180 | V − H mean ± std |",
                  "|---|---|---|---|---|---|"]
        for src, rows in (("real", stats.get("real", {})), ("simulated", stats["simulated"]["by_cover"])):
            for cov, r in rows.items():
                gv = " / ".join(f"{r[f'gamma_V_{36 * lag}km_K2']:.0f}" for lag in LAGS)
                gh = " / ".join(f"{r[f'gamma_H_{36 * lag}km_K2']:.0f}" for lag in LAGS)
                lines.append(f"| {src} | {cov} | {r['cells']} | {gv} | {gh} | {r['v_minus_h_mean_K']:.1f} ± "
                             f"{r['v_minus_h_std_K']:.1f} |")
        sim = stats["simulated"]
        lines += ["", "| simulated statistic | V | H |", "|---|---|---|",
                  "| sub-cell std of the true 9 km TB in 36 km land cells (K) | "
                  f"{sim['subcell_std_true_tb9_land_K'][0]:.1f} | {sim['subcell_std_true_tb9_land_K'][1]:.1f} |",
                  "| same, 36 km cells with open water (K) | "
                  f"{sim['subcell_std_true_tb9_water_cells_K'][0]:.1f} | "
                  f"{sim['subcell_std_true_tb9_water_cells_K'][1]:.1f} |",
                  "| radar-guided 9 km TB vs truth: MAE ÷ bicubic MAE (land) | "
                  f"{sim['active_passive_vs_truth_mae_ratio_to_bicubic'][0]:.2f} | "
                  f"{sim['active_passive_vs_truth_mae_ratio_to_bicubic'][1]:.2f} |",
                  "| radar-guided sub-cell pattern: median correlation with the true one | "
                  f"{sim['active_passive_subcell_pattern_corr_with_truth'][0]:.2f} | "
                  f"{sim['active_passive_subcell_pattern_corr_with_truth'][1]:.2f} |", ""]
    return lines


def write_tables(gates: dict[str, str], out_path: str, results: str = OUT) -> str:
    """The markdown tables (``out_path``, docs/validation_tables.md by default) from the JSON results in OUT and
    the gate files of the models named in ``gates`` (label → path of a *_gate.json of train_bundled tb-truth,
    or of a model card's JSON, whose ``gate`` is read)."""
    lines = ["# Validation tables", "", "Written by `make validate` (`scripts/validate.py all`); read "
             "docs/validation.md for what each table means. CNNs are trained on SIMULATED scenes only.", ""]
    lines += _wald_table(results) + _gate_tables(gates) + _bound_table(results) + _stats_tables(results)
    with open(out_path, "w") as f:
        f.write("\n".join(lines))
    return out_path
