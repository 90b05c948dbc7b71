"""What a run reports: the input checks for the log, metrics as algorithm outputs, the JSON report and the HTML
report the Results Viewer opens (all staged with the run's other outputs)."""

from __future__ import annotations

import os
from typing import Any

from qgis.core import QgsProcessingUtils


def input_checks(metrics: dict) -> list[tuple[str, str]]:
    """(what, value) lines on the inputs' dates, the reference's resampling and the values set to no data
    because they lay outside their physical range, from a core result's metrics (for the log and report)."""
    rows: list[tuple[str, str]] = []
    dates = metrics.get("dates") or {}
    if dates:
        parts = []
        for key, value in dates.items():
            if key.endswith("_date"):
                role = key[:-len("_date")]
                gap = dates.get(f"{role}_gap_days")
                parts.append(f"{role} {value or 'unknown'}" + (f" ({gap:+d} days)" if isinstance(gap, int) else ""))
        rows.append(("Observation dates", ", ".join(parts)))
    if metrics.get("reference_resampling"):
        rows.append(("Reference onto the output grid", str(metrics["reference_resampling"])))
    for key, what in (("input_pixels_out_of_physical_range", "Input values outside their physical range"),
                      ("reference_pixels_out_of_physical_range", "Reference values outside their physical range")):
        if key not in metrics:
            continue
        v = metrics[key]
        if isinstance(v, dict):
            text = ", ".join(f"{k}: {n}" for k, n in v.items()) if v else "none"
        else:
            text = str(v or "none")
        rows.append((what, f"{text} (set to no data)" if text != "none" else "none"))
    return rows


def report_outputs(metrics: dict) -> dict[str, float]:
    """Flatten per-band metrics into algorithm outputs like MAE_CNN_TB_V (missing or NaN values left out)."""
    out: dict[str, float] = {}
    for band, per in (metrics.get("bands") or {}).items():
        for method, m in per.items():
            if isinstance(m, dict):
                for key in ("mae", "rmse", "bias", "ubrmse", "r"):
                    v = m.get(key)
                    if v is not None and float(v) == float(v):
                        out[f"{key}_{method}_{band}".upper()] = float(v)
    return out


def html_report(path: str, title: str, summary: list[tuple[str, str]], metrics: dict | None,
                notes: list[str], images: list[str] = (),
                metrics_title: str = "Agreement with the reference") -> str:
    """Write a self-contained HTML report for people (the Results Viewer opens it); returns its path.

    ``summary``: (what, value) lines; ``metrics``: {band: {method: {mae, rmse, bias, ubrmse, r, ...}}} or
    None when there was no reference (then no empty table, a sentence instead); ``notes``: paragraphs;
    ``images``: PNG files in the report's folder, shown after the notes.
    """
    import html as _h

    from ..core.report import atomic_write_text

    rows = "".join(f"<tr><th>{_h.escape(k)}</th><td>{_h.escape(str(v))}</td></tr>" for k, v in summary)
    parts = [f"<h1>{_h.escape(title)}</h1>", f"<table>{rows}</table>"]
    if metrics:
        keys = ["n", "mae", "rmse", "bias", "ubrmse", "r", "psnr", "ssim"]
        head = "".join(f"<th>{k.upper() if k != 'n' else 'pixels'}</th>" for k in keys)
        body = []
        for band, per in metrics.items():
            for method, m in per.items():
                if not isinstance(m, dict):
                    continue
                cells = "".join(f"<td>{_fmt(m.get(k))}</td>" for k in keys)
                body.append(f"<tr><td>{_h.escape(band)}</td><td>{_h.escape(method)}</td>{cells}</tr>")
        parts.append(f"<h2>{_h.escape(metrics_title)}</h2><table><tr><th>band</th><th>method</th>{head}</tr>"
                     + "".join(body) + "</table>")
    else:
        parts.append("<p>No reference was given, so there are no agreement metrics. Give a reference to "
                     "compare the result with (MAE, RMSE, bias, ubRMSE, R).</p>")
    parts += [f"<p>{_h.escape(n)}</p>" for n in notes if n]
    parts += [f"<p><img src='{_h.escape(os.path.basename(i))}' alt='{_h.escape(os.path.basename(i))}'></p>"
              for i in images]  # PNGs written beside the report
    doc = ("<!doctype html><html><head><meta charset='utf-8'>"
           f"<title>{_h.escape(title)}</title><style>body{{font-family:sans-serif;max-width:60em}}"
           "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}table{border-collapse:collapse;"
           "margin:1em 0}</style></head><body>" + "".join(parts) + "</body></html>")
    return atomic_write_text(path, doc)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "–" if v != v else f"{v:.4g}"
    return "–" if v is None else str(v)


def staged_json(out: Any, path: str, title: str, report: dict) -> str:
    """Write ``report`` as the JSON report of ``path`` (extension .json) through an OutputSet ``out``
    (published with the run's other outputs); returns the final path."""
    import json

    from ..core.report import json_safe

    final = os.path.splitext(os.path.abspath(path))[0] + ".json"
    with open(out.stage(final, name="OUTPUT_REPORT"), "w", encoding="utf-8") as f:
        f.write(json.dumps(json_safe({"title": title, **report}), indent=2, allow_nan=False))
    return final


def report_html_path(json_path: str | None) -> str:
    """Where the HTML report goes: beside the JSON report when one was asked for, else a temporary file."""
    if json_path:
        return os.path.splitext(json_path)[0] + ".html"
    return QgsProcessingUtils.generateTempFilename("report.html")
