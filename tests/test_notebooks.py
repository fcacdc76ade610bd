"""make lab's working copies: no outputs, following the source until the reader changes them."""

from __future__ import annotations

import nbformat

from helpers.notebooks import notebook_paths, prepare_working_copies


def _notebook(path, source: str, output: str = "stored"):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("stream", text=output)]
    cell.execution_count = 1
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


def test_copies_start_without_outputs_and_leave_the_source_alone(tmp_path):
    source = _notebook(tmp_path / "01_a.ipynb", "print(1)")
    before = source.read_bytes()
    assert prepare_working_copies([source], tmp_path / "lab") == {"01_a.ipynb": "copied"}
    copy = nbformat.read(tmp_path / "lab" / "01_a.ipynb", as_version=4)
    assert copy.cells[0].source == "print(1)" and copy.cells[0].outputs == []
    assert copy.cells[0].execution_count is None
    assert source.read_bytes() == before
    assert prepare_working_copies([source], tmp_path / "lab") == {"01_a.ipynb": "current"}


def test_an_untouched_copy_follows_the_source_and_a_changed_one_is_kept(tmp_path):
    sources = [_notebook(tmp_path / f"0{i}_n.ipynb", f"print({i})") for i in (1, 2)]
    lab = tmp_path / "lab"
    prepare_working_copies(sources, lab)
    _notebook(lab / "02_n.ipynb", "print(2)", output="the reader's own run")  # run and saved
    for source in sources:
        _notebook(source, "print('new version')")  # a git pull
    assert prepare_working_copies(sources, lab) == {"01_n.ipynb": "updated", "02_n.ipynb": "kept"}
    assert "new version" in (lab / "01_n.ipynb").read_text()
    assert "the reader's own run" in (lab / "02_n.ipynb").read_text()
    # Kept on every later run too, until the reader deletes it.
    assert prepare_working_copies(sources, lab)["02_n.ipynb"] == "kept"
    (lab / "02_n.ipynb").unlink()
    assert prepare_working_copies(sources, lab)["02_n.ipynb"] == "copied"


def test_the_series_notebooks_are_what_make_lab_copies(tmp_path):
    outcome = prepare_working_copies(notebook_paths(), tmp_path / "lab")
    assert list(outcome) == [path.name for path in notebook_paths()]
    assert set(outcome.values()) == {"copied"}
