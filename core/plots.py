"""PNG figures: the training loss curve and a poster-like panel of downscaling results.

matplotlib comes with Debian's QGIS (python3-qgis-common depends on it); the Agg backend needs no display.
"""

from __future__ import annotations

import os

import numpy as np

from .atomic import atomic_output


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str) -> str:
    try:
        with atomic_output(path, ".png") as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    finally:
        _plt().close(fig)
    return os.path.abspath(path)


def loss_curve(history: list[dict], path: str, title: str = "training", units: str = "K") -> str:
    """Training and validation MAE per epoch and band, with the bicubic MAE, as a PNG."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    epochs = [h["epoch"] for h in history]
    for key, style, what in (("train_mae", "o-", "train CNN"), ("val_mae", "s-", "validation CNN"),
                             ("val_mae_baseline", "--", "validation bicubic")):
        last = next((h[key] for h in reversed(history) if h.get(key)), None)
        if not last:
            continue
        for band in last:
            ys = [(h.get(key) or {}).get(band, np.nan) for h in history]
            ys = [np.nan if v is None else v for v in ys]
            ax.plot(epochs, ys, style, label=f"{what} {band}", markersize=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"MAE ({units})")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def poster_panel(path: str, title: str, rows: list[dict]) -> str:
    """A grid of maps like the poster's figure.

    Each row is {"label": str, "panels": [(title, array, kind)]} with kind 'tb' (K), 'diff' (K),
    'sm' (m³/m³) or 'sm_diff'; each panel gets its own colour bar with units.
    """
    plt = _plt()
    ncol = max(len(r["panels"]) for r in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(3.3 * ncol, 2.9 * len(rows)), squeeze=False,
                             layout="constrained")
    kinds = {"tb": ("viridis", "K"), "diff": ("RdBu_r", "K"), "sm": ("RdYlBu", "m³/m³"),
             "sm_diff": ("RdBu", "m³/m³"), "lst": ("magma", "K")}
    for i, row in enumerate(rows):
        ranges = {}  # one colour range per quantity in the row, so maps of one quantity compare
        for kind in {k for _, _, k in row["panels"]}:
            finite = [a[np.isfinite(a)] for _, a, k in row["panels"] if k == kind and np.isfinite(a).any()]
            ranges[kind] = ((min(np.percentile(a, 2) for a in finite), max(np.percentile(a, 98) for a in finite))
                            if finite else (0, 1))
        for j in range(ncol):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(row["panels"]):
                ax.axis("off")
                continue
            name, arr, kind = row["panels"][j]
            cmap, unit = kinds[kind]
            if kind in ("diff", "sm_diff"):
                v = np.nanpercentile(np.abs(arr), 98) if np.isfinite(arr).any() else 1
                im = ax.imshow(arr, cmap=cmap, vmin=-v, vmax=v, interpolation="nearest")
            else:
                im = ax.imshow(arr, cmap=cmap, vmin=ranges[kind][0], vmax=ranges[kind][1], interpolation="nearest")
            ax.set_title(name, fontsize=8)
            cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
            cb.set_label(unit, fontsize=7)
            cb.ax.tick_params(labelsize=6)
            if j == 0:
                ax.set_ylabel(row["label"], fontsize=8)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)
