"""Peak resident memory of one epoch of the training pipeline, measured in a process of its own.

Run as `python -m benchmarks.memory --data-dir D --images N --cache on|off`; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path


def peak_rss_mib() -> float:
    """Peak resident memory of this process since the last `reset_peak_rss`, in MiB (VmHWM)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, never reset


def reset_peak_rss() -> None:
    """Start a new peak for `peak_rss_mib`.

    Linux resets VmHWM to the current resident size when "5" is written to clear_refs.
    """
    clear_refs = Path("/proc/self/clear_refs")
    if clear_refs.exists():
        clear_refs.write_text("5")


def one_epoch(
    data_dir: Path, images: int, cache: bool, image_size: int, batch_size: int
) -> dict[str, float]:
    """Iterate the training pipeline once over the first `images` labelled photos.

    Returns the images seen and the resident memory before the epoch and at its peak, in MiB.
    """
    import helpers.quiet_tensorflow  # noqa: F401

    from helpers.dataset import find_train_dir, list_labelled_images
    from helpers.pipeline import make_dataset

    frame = list_labelled_images(data_dir).sample(frac=1.0, random_state=0).head(images)
    train_dir = find_train_dir(data_dir)
    dataset = make_dataset(
        [str(train_dir / name) for name in frame["filename"]],
        frame["label"].tolist(),
        image_size=image_size,
        batch_size=batch_size,
        shuffle_buffer=4096,
        cache=cache,
    )
    import_peak = peak_rss_mib()
    reset_peak_rss()
    before = peak_rss_mib()  # the resident size now: TensorFlow loaded, the file list built
    seen = sum(int(images.shape[0]) for images, _ in dataset)
    peak = peak_rss_mib()
    return {
        "images": seen,
        "cache": cache,
        "import_peak_mib": round(import_peak, 1),
        "rss_before_mib": round(before, 1),
        "peak_rss_mib": round(peak, 1),
        "epoch_growth_mib": round(peak - before, 1),
    }


def measure_in_subprocess(
    data_dir: Path, images: int, cache: bool, image_size: int, batch_size: int
) -> dict[str, float]:
    """`one_epoch` in a fresh Python process, so that its peak is its own."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.memory",
        "--data-dir",
        str(data_dir),
        "--images",
        str(images),
        "--cache",
        "on" if cache else "off",
        "--image-size",
        str(image_size),
        "--batch-size",
        str(batch_size),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"memory benchmark failed ({' '.join(command)}):\n{result.stderr[-2000:]}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--images", type=int, required=True)
    parser.add_argument("--cache", choices=("on", "off"), required=True)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    print(
        json.dumps(
            one_epoch(
                args.data_dir, args.images, args.cache == "on", args.image_size, args.batch_size
            )
        )
    )


if __name__ == "__main__":
    main()
