"""Figures of notebook 06: Grad-CAM heatmaps over photos, and the reliability diagram."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def overlay_heatmap(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The image (0-255 RGB) blended with the heatmap ([0, 1]) in 'jet' colours, as 0-255 floats."""
    colours = plt.get_cmap("jet")(np.clip(heatmap, 0.0, 1.0))[..., :3] * 255.0
    return (1.0 - alpha) * np.asarray(image, dtype="float32") + alpha * colours


def plot_heatmap_grid(
    images: Sequence[np.ndarray],
    heatmaps: Sequence[np.ndarray],
    titles: Sequence[str],
    columns: int = 4,
) -> Figure:
    """Each image beside its heatmap overlay, in a grid of `columns` pairs, each pair titled."""
    if not len(images) == len(heatmaps) == len(titles):
        raise ValueError(f"{len(images)} images, {len(heatmaps)} heatmaps and {len(titles)} titles")
    columns = max(1, min(columns, len(images)))
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(
        rows, 2 * columns, figsize=(2.2 * 2 * columns, 2.5 * rows), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for index, (image, heatmap, title) in enumerate(zip(images, heatmaps, titles)):
        photo_ax, map_ax = axes[index // columns, 2 * (index % columns) : 2 * (index % columns) + 2]
        photo_ax.imshow(np.asarray(image).astype("uint8"))
        map_ax.imshow(np.clip(overlay_heatmap(image, heatmap), 0, 255).astype("uint8"))
        photo_ax.set_title(title, fontsize=8, loc="left")
    fig.tight_layout()
    return fig


def plot_reliability_diagram(
    tables: Mapping[str, pd.DataFrame], eces: Mapping[str, float], lowest: float = 0.5
) -> Figure:
    """Accuracy against confidence per bin for each named set of probabilities, and how many images
    fall in each bin; the diagonal is perfect calibration. `lowest`: the least possible confidence
    (1 / classes)."""
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5.2, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([lowest, 1], [lowest, 1], color="grey", linestyle="--", label="perfectly calibrated")
    bin_width = 1.0 / len(next(iter(tables.values())))
    width = 0.9 * bin_width / len(tables)
    for offset, (name, table) in enumerate(tables.items()):
        filled = table[table["count"] > 0]
        centres = (filled["lower"] + filled["upper"]) / 2 + (offset - (len(tables) - 1) / 2) * width
        top.bar(
            centres,
            filled["accuracy"],
            width=width,
            alpha=0.8,
            label=f"{name} (ECE {eces[name]:.3f})",
            edgecolor="black",
            linewidth=0.5,
        )
        top.plot(
            filled["confidence"],
            filled["accuracy"],
            marker="o",
            linestyle="none",
            color="black",
            markersize=3,
        )
        bottom.bar(centres, filled["count"], width=width, alpha=0.8)
    top.set(ylabel="accuracy", ylim=(0, 1.02), title="Reliability diagram (validation)")
    top.legend(fontsize=8, loc="upper left")
    bottom.set(
        xlabel="confidence of the predicted class", ylabel="images", xlim=(lowest - 0.02, 1.0)
    )
    fig.tight_layout()
    return fig
