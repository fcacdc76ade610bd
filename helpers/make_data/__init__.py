"""`make data`: fetch the dataset, verify it, lay it out in the Kaggle layout, and clean it, safely.

Sources: `petimages` (Microsoft's "Kaggle Cats and Dogs" archive, the default), `kaggle` (the
competition files through the Kaggle CLI), or a local path or URL of a zip or folder.

The steps, one module each: `sources` (where the data comes from), `download` (resumable,
verified), `archive` (safe extraction), `arrange` (the Kaggle layout, a labelled hold-out),
`cleaning` (quarantine, manifest, duplicates) and `prepare` (all of them, in order). The command
is helpers.cli.data.
"""

from __future__ import annotations

from helpers.make_data.archive import UnsafeArchiveError
from helpers.make_data.download import DownloadError
from helpers.make_data.prepare import DATA_MB, HOLD_OUT_COUNT, prepare_data
from helpers.make_data.sources import DataSourceError, kaggle_credentials_present

__all__ = [
    "DATA_MB",
    "HOLD_OUT_COUNT",
    "DataSourceError",
    "DownloadError",
    "UnsafeArchiveError",
    "kaggle_credentials_present",
    "prepare_data",
]
