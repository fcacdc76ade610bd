"""`make data`: fetch the dataset, verify it, lay it out in the Kaggle layout, and clean it, safely.

Sources: `petimages` (Microsoft's "Kaggle Cats and Dogs" archive, the default), `kaggle` (the
competition files through the Kaggle CLI), or a local path or URL of a zip or folder.

The steps, one module each: `sources` (where the data comes from), `download` (resumable,
verified), `archive` (safe extraction), `arrange` (the Kaggle layout, a labelled hold-out),
`cleaning` (quarantine, manifest, duplicates) and `prepare` (all of them, in order).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from helpers.make_data.archive import UnsafeArchiveError
from helpers.make_data.download import DownloadError
from helpers.make_data.prepare import HOLD_OUT_COUNT, prepare_data
from helpers.make_data.sources import DataSourceError, kaggle_credentials_present

__all__ = ["DataSourceError", "kaggle_credentials_present", "main", "prepare_data"]


def main(argv: list[str] | None = None) -> int:
    """Command line of `make data`."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.make_data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--source", default="petimages", help="petimages (default), kaggle, or a path or URL"
    )
    parser.add_argument("--data-dir", default="data", help="where to lay out the dataset")
    parser.add_argument("--sha256", help="expected SHA-256 of a zip given by path or URL")
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if data is there (old files set aside)"
    )
    parser.add_argument(
        "--test-count",
        type=int,
        default=HOLD_OUT_COUNT,
        help="images held out as the labelled test1/ when the source has no test set",
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    try:
        summary = prepare_data(
            args.source,
            Path(args.data_dir),
            force=args.force,
            sha256=args.sha256,
            test_count=args.test_count,
            seed=args.seed,
        )
    except (
        DataSourceError,
        DownloadError,
        UnsafeArchiveError,
        FileExistsError,
        subprocess.CalledProcessError,
    ) as error:
        print(f"make data: {error}", file=sys.stderr)
        return 2
    print(summary)
    return 0
