"""make data on a full disk: a clear message naming the folder and the space, nothing half-written
under a final name, and the same command completes once there is room."""

from __future__ import annotations

import numpy as np
from archives import PETIMAGES_FILES, make_zip

from helpers.cli.data import main
from helpers.dataset import list_labelled_images


def test_make_data_on_a_full_disk_says_where_and_how_much_then_completes(
    server, small_disk, capsys
):
    disk, resize = small_disk
    big = np.random.default_rng(0).bytes(3 * 2**20)  # incompressible: fills the 2 MB disk
    server.files["/pets.zip"] = make_zip({**PETIMAGES_FILES, "PetImages/Dog/big.jpg": big})
    data_dir = disk / "data"
    args = ["--source", f"{server.url}/pets.zip", "--data-dir", str(data_dir), "--test-count", "0"]

    assert main(args) == 2
    message = capsys.readouterr().err.splitlines()[-1]  # after the progress bar
    assert message.startswith(f"make data: no space left on the disk of {data_dir} (")
    assert "needs about 1,800 MB there" in message and "DATA_DIR=" in message
    assert "Traceback" not in message
    # The download is kept as a part, never under its final name; nothing is laid out.
    assert not (data_dir / "downloads" / "pets.zip").exists()
    assert not (data_dir / "train").exists()

    resize("64m")  # space freed
    assert main(args) == 0
    assert len(list_labelled_images(data_dir)) > 0
