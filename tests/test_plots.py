"""Figures: prediction grids say what the model answered and, with labels, whether it was right."""

import numpy as np
import pandas as pd
from image_files import write_image

from helpers.plots import (
    plot_class_counts,
    plot_image_sizes,
    plot_predictions,
    plot_training_curves,
)


def test_prediction_grid_titles_name_the_answer_and_mark_mistakes(tmp_path):
    paths = [str(write_image(tmp_path / f"{i}.jpg", seed=i)) for i in range(3)]
    fig = plot_predictions(
        paths, [1, 0, 1], [0.9, 0.75, 0.6], names=[1, 2, 3], true_labels=[1, 1, 1]
    )
    titles = [ax.title for ax in fig.axes if ax.get_title()]
    assert [t.get_text() for t in titles] == [
        "1: dog (90%)",
        "2: cat (75%), is dog",
        "3: dog (60%)",
    ]
    assert [t.get_color() for t in titles] == ["tab:green", "tab:red", "tab:green"]


def test_prediction_grid_without_labels_only_says_the_answer(tmp_path):
    paths = [str(write_image(tmp_path / "a.jpg"))]
    fig = plot_predictions(paths, [0], [0.55])
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["cat (55%)"]


def test_count_labels_have_room_and_whole_sizes_get_whole_ticks():
    index = pd.DataFrame(
        {"category": ["cat"] * 3 + ["dog"] * 5, "width": [128] * 8, "height": [128] * 8}
    ).assign(error="")
    counts = plot_class_counts(index)
    assert counts.axes[0].get_ylim()[1] >= 5 * 1.1  # the label of the tallest bar fits
    sizes = plot_image_sizes(index)
    low, high = sizes.axes[0].get_xlim()
    assert [t for t in sizes.axes[0].get_xticks() if low <= t <= high] == [128]


def test_epoch_axis_has_whole_ticks():
    history = pd.DataFrame(
        {
            "epoch": range(1, 16),
            "loss": np.linspace(1, 0.1, 15),
            "val_loss": np.linspace(1, 0.2, 15),
            "accuracy": np.linspace(0.5, 0.9, 15),
            "val_accuracy": np.linspace(0.5, 0.85, 15),
        }
    )
    fig = plot_training_curves(history)
    ticks = fig.axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks)
