"""Figures of the series, each returned as a Matplotlib Figure and saved as PNG by `save_figure`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image
from sklearn.metrics import confusion_matrix

from helpers.artifacts import atomic_write
from helpers.history import best_epoch
from helpers.layout import CLASS_NAMES


def save_figure(fig: Figure, path: Path) -> None:
    """Save `fig` as a PNG atomically."""
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as an RGB uint8 array, for display."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def plot_image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    columns: int = 4,
    colors: Sequence[str] | None = None,
) -> Figure:
    """Images in a grid, each with its title (in its colour, when colours are given)."""
    if len(images) != len(titles):
        raise ValueError(f"{len(images)} images but {len(titles)} titles")
    colors = colors or ["black"] * len(titles)
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title, color in zip(axes.flat, images, titles, colors, strict=False):
        ax.imshow(np.asarray(image).astype("uint8"))
        ax.set_title(title, fontsize=9, color=color)
    fig.tight_layout()
    return fig


def plot_predictions(
    paths: Sequence[str],
    predicted: Sequence[int],
    confidence: Sequence[float],
    names: Sequence[object] | None = None,
    true_labels: Sequence[int] | None = None,
) -> Figure:
    """Photos titled with the predicted class and the model's confidence in it.

    With `names`, each title starts with the photo's name (its id); with `true_labels`, a wrong
    answer says what the photo is, and titles are green when right and red when wrong.
    """
    titles = [f"{CLASS_NAMES[p]} ({c:.0%})" for p, c in zip(predicted, confidence, strict=True)]
    if names is not None:
        titles = [f"{name}: {title}" for name, title in zip(names, titles, strict=True)]
    colors = None
    if true_labels is not None:
        right = [int(p) == int(t) for p, t in zip(predicted, true_labels, strict=True)]
        titles = [
            title if ok else f"{title}, is {CLASS_NAMES[t]}"
            for title, ok, t in zip(titles, right, true_labels, strict=True)
        ]
        colors = ["tab:green" if ok else "tab:red" for ok in right]
    return plot_image_grid([read_rgb(path) for path in paths], titles, colors=colors)


def plot_class_counts(index: pd.DataFrame) -> Figure:
    """Bar chart of the number of images of each class."""
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    counts = index["category"].value_counts().reindex(list(CLASS_NAMES), fill_value=0)
    sns.barplot(
        x=counts.index, y=counts.values, hue=counts.index, palette="deep", legend=False, ax=ax
    )
    for bars in ax.containers:
        ax.bar_label(bars, padding=2)
    ax.margins(y=0.15)  # room above the tallest bar for its count
    ax.set(xlabel="class", ylabel="images", title="Images per class")
    fig.tight_layout()
    return fig


def plot_image_sizes(index: pd.DataFrame) -> Figure:
    """Histograms of image width and height, in pixels."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    readable = index[index["error"] == ""]
    for ax, column in zip(axes, ("width", "height"), strict=True):
        # Few distinct sizes (all 128 px, say): one bar per size, not 30 bins around it.
        discrete = readable[column].nunique() <= 30
        sns.histplot(
            readable[column],
            bins="auto" if discrete else 30,
            discrete=discrete,
            ax=ax,
            color="tab:blue",
        )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # pixels are whole
        ax.set(xlabel=f"{column} (px)", ylabel="images", title=f"Image {column}")
    fig.tight_layout()
    return fig


def _augment(augmentation: keras.Layer, images: np.ndarray) -> np.ndarray:
    """One random draw of the augmentation over a batch, as displayable 0-255 floats."""
    augmented = augmentation(np.asarray(images).astype("float32"), training=True)
    return np.clip(keras.ops.convert_to_numpy(augmented), 0, 255)


def plot_augmentations(
    augmentation: keras.Layer, image: np.ndarray, count: int = 12, columns: int = 4
) -> Figure:
    """The same image passed through the random augmentation `count` times."""
    augmented = _augment(augmentation, np.repeat(np.asarray(image)[None], count, axis=0))
    return plot_image_grid(list(augmented), [f"draw {i + 1}" for i in range(count)], columns)


def plot_augmented_batch(
    augmentation: keras.Layer, images: np.ndarray, names: Sequence[str], draws: int = 2
) -> Figure:
    """A batch as the pipeline delivers it, and after augmentation.

    The top row is the batch as delivered; the rows below are `draws` independent augmentations.
    """
    rows = [np.asarray(images)] + [_augment(augmentation, images) for _ in range(draws)]
    row_names = ["original"] + [f"draw {i + 1}" for i in range(draws)]
    titles = [f"{name} ({row})" for row in row_names for name in names]
    return plot_image_grid([image for row in rows for image in row], titles, columns=len(images))


def plot_training_curves(history: pd.DataFrame, x: str = "epoch") -> Figure:
    """Loss and accuracy for training and validation against `x` (epoch or elapsed_s).

    The best epoch is marked.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    best = best_epoch(history)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(history[x], history[metric], marker="o", label=f"training {metric}")
        ax.plot(history[x], history[f"val_{metric}"], marker="o", label=f"validation {metric}")
        ax.axvline(
            best[x], color="grey", linestyle="--", label=f"best epoch ({int(best['epoch'])})"
        )
        if "phase" in history and (history["phase"] == 2).any():  # a pretrained backbone's run
            ax.axvline(
                _phase_two_start(history, x),
                color="tab:green",
                linestyle=":",
                label="fine-tuning begins",
            )
        ax.set(
            xlabel="epoch" if x == "epoch" else "wall time (s)",
            ylabel=metric,
            title=metric.capitalize(),
        )
        if x == "epoch":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
        ax.legend()
    fig.tight_layout()
    return fig


def _phase_two_start(history: pd.DataFrame, x: str) -> float:
    """Where phase 2 begins on the `x` axis: between the last head and first fine-tuning epochs."""
    first = int((history["phase"] == 2).to_numpy().argmax())
    return float(history[x].iloc[first] + history[x].iloc[max(first - 1, 0)]) / 2


def plot_confusion_matrix(true_labels: Sequence[int], predicted_labels: Sequence[int]) -> Figure:
    """Confusion matrix of true against predicted classes, as counts."""
    matrix = confusion_matrix(true_labels, predicted_labels, labels=list(range(len(CLASS_NAMES))))
    fig, ax = plt.subplots(figsize=(4, 3.4))
    sns.heatmap(
        matrix,
        annot=True,
        fmt="d",
        cmap="Blues",
        cbar=False,
        xticklabels=CLASS_NAMES,
        yticklabels=CLASS_NAMES,
        ax=ax,
    )
    ax.set(xlabel="predicted", ylabel="true", title="Validation confusion matrix")
    fig.tight_layout()
    return fig


def overlay_heatmap(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The image (0-255 RGB) blended with the heatmap ([0, 1]) in 'jet' colours, as 0-255 floats."""
    colours = plt.get_cmap("jet")(np.clip(heatmap, 0.0, 1.0))[..., :3] * 255.0
    return (1.0 - alpha) * np.asarray(image, dtype="float32") + alpha * colours


def plot_heatmap_grid(
    images: Sequence[np.ndarray],
    heatmaps: Sequence[np.ndarray],
    titles: Sequence[str],
    columns: int = 2,
) -> Figure:
    """Each image beside its heatmap overlay, in a grid of `columns` pairs, each pair titled.

    Two pairs a row by default: 880 px wide, shown unscaled in JupyterLab, titles legible.
    """
    if not len(images) == len(heatmaps) == len(titles):
        raise ValueError(f"{len(images)} images, {len(heatmaps)} heatmaps and {len(titles)} titles")
    columns = max(1, min(columns, len(images)))
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(
        rows, 2 * columns, figsize=(2.2 * 2 * columns, 2.5 * rows), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for index, (image, heatmap, title) in enumerate(zip(images, heatmaps, titles, strict=True)):
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
            label="each bin's mean confidence and accuracy" if offset == 0 else None,
        )
        bottom.bar(centres, filled["count"], width=width, alpha=0.8)
    top.set(ylabel="accuracy", ylim=(0, 1.02), title="Reliability diagram (validation)")
    top.legend(fontsize=8, loc="upper left")
    bottom.set(
        xlabel="confidence of the predicted class", ylabel="images", xlim=(lowest - 0.02, 1.0)
    )
    fig.tight_layout()
    return fig
