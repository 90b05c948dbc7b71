"""Metric reports as JSON (machine-readable) and HTML (a table for people), written atomically."""

from __future__ import annotations

import html
import json
import math
import os
from typing import Any

from .atomic import OutputSet, atomic_output

_ORDER = ["n", "mae", "rmse", "bias", "ubrmse", "r", "psnr", "ssim"]


def json_safe(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def atomic_write_text(path: str, text: str) -> str:
    """Write text to ``path`` atomically; returns the absolute path."""
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    return os.path.abspath(path)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v)) if v is not None else "–"


def _html(title: str, report: dict) -> str:
    rows = []
    for band, per in (report.get("bands") or {}).items():
        for method, m in per.items():
            if isinstance(m, dict):
                rows.append("<tr><td>" + html.escape(band) + "</td><td>" + html.escape(method) + "</td>"
                            + "".join(f"<td>{_fmt(m.get(k))}</td>" for k in _ORDER) + "</tr>")
            else:
                rows.append(f"<tr><td>{html.escape(band)}</td><td>{html.escape(method)}</td>"
                            f"<td colspan='{len(_ORDER)}'>{_fmt(m)}</td></tr>")
    extra = {k: v for k, v in report.items() if k != "bands"}
    head = "".join(f"<th>{k}</th>" for k in ["band", "method", *_ORDER])
    info = "".join(f"<tr><th>{html.escape(str(k))}</th><td><code>{html.escape(json.dumps(v))}</code></td></tr>"
                   for k, v in extra.items())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px}"
            "table{border-collapse:collapse;margin:1em 0}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table><tr>{head}</tr>{''.join(rows)}</table>"
            f"<table>{info}</table></body></html>")


def write_report(path: str, title: str, report: dict, out: OutputSet | None = None) -> tuple[str, str]:
    """Write ``report`` as JSON at ``path`` (extension forced to .json) and HTML beside it; returns both paths.

    Both are staged in ``out`` (the run's :class:`core.atomic.OutputSet`, published with its other outputs)
    when given, else in an output set of their own: the two files appear together or not at all."""
    base = os.path.splitext(path)[0]
    data = json_safe({"title": title, **report})
    if out is not None:
        _write_text(out.stage(base + ".json", name="report"), json.dumps(data, indent=2, allow_nan=False))
        _write_text(out.stage(base + ".html", name="report"), _html(title, data))
    else:
        with OutputSet() as own:
            _write_text(own.stage(base + ".json"), json.dumps(data, indent=2, allow_nan=False))
            _write_text(own.stage(base + ".html"), _html(title, data))
    return os.path.abspath(base + ".json"), os.path.abspath(base + ".html")


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
