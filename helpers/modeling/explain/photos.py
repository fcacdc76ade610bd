"""Notebook 06's photos: pick the images to explain, show Grad-CAM over them, and the upload widget
for the reader's own photo."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import matplotlib.pyplot as plt
import pandas as pd
import tensorflow as tf
from matplotlib.figure import Figure

from helpers.config import project_root
from helpers.layout import CLASS_NAMES
from helpers.modeling.explain.gradcam import GradCAM, explain_images
from helpers.pipeline import load_images
from helpers.plots import plot_heatmap_grid


def most_confident(frame: pd.DataFrame, count: int) -> pd.DataFrame:
    """The `count` rows of highest confidence; ties in a fixed order (the file name or id)."""
    key = "filename" if "filename" in frame else "id"
    return frame.sort_values(["confidence", key], ascending=[False, True], kind="stable").head(
        count
    )


def explain_paths(
    gradcam: GradCAM, paths: Sequence[str], titles: Sequence[str] | None = None, columns: int = 2
) -> Figure:
    """Heatmaps of the predicted class over the photos at `paths`, titled with the prediction."""
    missing = [str(path) for path in paths if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(f"no photo at {missing[0]}: give paths of JPEG or PNG files")
    images = load_images(paths, int(gradcam.model.input_shape[1]))
    heatmaps, probabilities = explain_images(gradcam, images)
    predicted = probabilities.argmax(axis=1)
    verdicts = [
        f"{CLASS_NAMES[k]} ({p[k]:.0%})" for k, p in zip(predicted, probabilities, strict=True)
    ]
    titles = titles or [Path(path).name for path in paths]
    labels = [f"{title}\n{verdict}" for title, verdict in zip(titles, verdicts, strict=True)]
    return plot_heatmap_grid(list(images), list(heatmaps), labels, columns)


def photo_upload(on_photo: Callable[[Path], None]):
    """An upload button and an output area: each photo dropped in is saved to a temporary file and
    passed to `on_photo`, whose printed text and figures appear below the button."""
    import ipywidgets as widgets
    from IPython.display import display

    upload = widgets.FileUpload(accept="image/*", multiple=False, description="Your photo")
    output = widgets.Output()

    def handle(change: dict) -> None:
        output.clear_output()
        with output, tempfile.TemporaryDirectory() as folder:
            for item in change["new"]:
                path = Path(folder) / (Path(item["name"]).name or "photo")
                path.write_bytes(bytes(item["content"]))
                try:
                    figure = on_photo(path)
                except tf.errors.InvalidArgumentError:
                    print(
                        f"{item['name']} could not be read as an image: upload a JPEG or PNG photo."
                    )
                    continue
                if figure is not None:
                    display(figure)
                    # Shown once, in the output area, not again by the inline backend.
                    plt.close(figure)

    upload.observe(handle, names="value")
    return widgets.VBox([upload, output])


def own_photo_paths(
    own_photos: Sequence[str | Path], test_paths: pd.DataFrame, count: int = 2
) -> list[str]:
    """The photos to explain: `own_photos` (relative ones against the project folder), or when it is
    empty the first `count` test images by id."""
    if not own_photos:
        return test_paths.sort_values("id")["path"].head(count).tolist()
    return [
        str(path if Path(path).is_absolute() else project_root() / path)
        for path in (Path(p).expanduser() for p in own_photos)
    ]


def confident_per_class(frame: pd.DataFrame, count: int) -> pd.DataFrame:
    """The `count` most confident right answers of each class, cats first."""
    right = frame[frame["predicted"] == frame["label"]]
    return pd.concat(
        [most_confident(right[right["label"] == label], count) for label in range(len(CLASS_NAMES))]
    )


def title_of(row: pd.Series) -> str:
    """'is cat' for a validation image; the true class beside the file name."""
    return f"{Path(row['filename']).name}, is {row['category']}"
