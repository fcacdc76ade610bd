"""Figures of the series, each returned as a Matplotlib Figure and saved as PNG by `save_figure`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from PIL import Image
from sklearn.metrics import confusion_matrix

from helpers.artifacts import atomic_write
from helpers.dataset import CLASS_NAMES


def save_figure(fig: Figure, path: Path) -> None:
    """Save `fig` as a PNG atomically."""
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as an RGB uint8 array, for display."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def plot_image_grid(images: Sequence[np.ndarray], titles: Sequence[str], columns: int = 4) -> Figure:
    """Images in a grid, each with its title."""
    if len(images) != len(titles):
        raise ValueError(f"{len(images)} images but {len(titles)} titles")
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles):
        ax.imshow(np.asarray(image).astype("uint8"))
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_class_counts(index: pd.DataFrame) -> Figure:
    """Bar chart of the number of images of each class."""
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    counts = index["category"].value_counts().reindex(list(CLASS_NAMES), fill_value=0)
    sns.barplot(x=counts.index, y=counts.values, hue=counts.index, palette="deep", legend=False, ax=ax)
    for bars in ax.containers:
        ax.bar_label(bars)
    ax.set(xlabel="class", ylabel="images", title="Images per class")
    fig.tight_layout()
    return fig


def plot_image_sizes(index: pd.DataFrame) -> Figure:
    """Histograms of image width and height, in pixels."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    readable = index[index["error"] == ""]
    for ax, column in zip(axes, ("width", "height"), strict=True):
        sns.histplot(readable[column], bins=30, ax=ax, color="tab:blue")
        ax.set(xlabel=f"{column} (px)", ylabel="images", title=f"Image {column}")
    fig.tight_layout()
    return fig


def _augment(augmentation: keras.Layer, images: np.ndarray) -> np.ndarray:
    """One random draw of the augmentation over a batch, as displayable 0-255 floats."""
    augmented = augmentation(np.asarray(images).astype("float32"), training=True)
    return np.clip(keras.ops.convert_to_numpy(augmented), 0, 255)


def plot_augmentations(augmentation: keras.Layer, image: np.ndarray, count: int = 12, columns: int = 4) -> Figure:
    """The same image passed through the random augmentation `count` times."""
    augmented = _augment(augmentation, np.repeat(np.asarray(image)[None], count, axis=0))
    return plot_image_grid(list(augmented), [f"draw {i + 1}" for i in range(count)], columns)


def plot_augmented_batch(augmentation: keras.Layer, images: np.ndarray, names: Sequence[str], draws: int = 2) -> Figure:
    """A batch as the pipeline delivers it (top row) and after `draws` independent augmentations (rows below)."""
    rows = [np.asarray(images)] + [_augment(augmentation, images) for _ in range(draws)]
    row_names = ["original"] + [f"draw {i + 1}" for i in range(draws)]
    titles = [f"{name} ({row})" for row in row_names for name in names]
    return plot_image_grid([image for row in rows for image in row], titles, columns=len(images))


def plot_training_curves(history: pd.DataFrame, x: str = "epoch") -> Figure:
    """Loss and accuracy for training and validation against `x` (epoch or elapsed_s), best epoch marked."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    best = history.loc[history["val_loss"].idxmin()]
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(history[x], history[metric], marker="o", label=f"training {metric}")
        ax.plot(history[x], history[f"val_{metric}"], marker="o", label=f"validation {metric}")
        ax.axvline(best[x], color="grey", linestyle="--", label=f"best epoch ({int(best['epoch'])})")
        if "phase" in history and (history["phase"] == 2).any():  # a pretrained backbone's run
            ax.axvline(_phase_two_start(history, x), color="tab:green", linestyle=":",
                       label="fine-tuning begins")
        ax.set(xlabel="epoch" if x == "epoch" else "wall time (s)", ylabel=metric, title=metric.capitalize())
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
    sns.heatmap(matrix, annot=True, fmt="d", cmap="Blues", cbar=False,
                xticklabels=CLASS_NAMES, yticklabels=CLASS_NAMES, ax=ax)
    ax.set(xlabel="predicted", ylabel="true", title="Validation confusion matrix")
    fig.tight_layout()
    return fig
