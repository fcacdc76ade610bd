"""The duplicate report of a cleaned dataset."""

from __future__ import annotations

import pandas as pd

from helpers.make_data.cleaning import find_duplicates


def test_duplicates_across_train_and_test_are_flagged_as_leakage():
    manifest = pd.DataFrame(
        {
            "file": ["train/cat.1.jpg", "test1/3.jpg", "train/dog.1.jpg", "train/dog.2.jpg"],
            "split": ["train", "test", "train", "train"],
            "sha256": ["a", "a", "b", "b"],
        }
    )
    duplicates = find_duplicates(manifest).set_index("sha256")
    assert duplicates.loc["a", "leakage"] and not duplicates.loc["b", "leakage"]
    assert duplicates.loc["a", "count"] == 2
