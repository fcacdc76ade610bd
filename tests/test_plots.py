"""Figures: prediction grids say what the model answered and, with labels, whether it was right."""

from image_files import write_image

from helpers.plots import plot_predictions


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
