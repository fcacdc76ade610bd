"""Pack the project's train/validation split of the real photos as 96 px JPEGs for mirror.py.

Usage: python pack.py 96 75 pack96.npz (size, JPEG quality, output), in the project's environment.
"""

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from helpers.config import load_config
from helpers.dataset import build_dataset_index, find_train_dir, split_train_val

size, quality, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
cfg = load_config(overrides={"data_dir": "../shared/datasets/kaggle-cats-dogs-128"})
split = split_train_val(build_dataset_index(cfg), cfg)
train_dir = find_train_dir(cfg.data_dir)
blobs = []
for name in split["filename"]:
    im = Image.open(train_dir / name).convert("RGB").resize((size, size), Image.LANCZOS)
    b = io.BytesIO()
    im.save(b, "JPEG", quality=quality, optimize=True)
    blobs.append(b.getvalue())
lens = np.array([len(b) for b in blobs])
print(size, quality, lens.sum() / 2**20, "MiB", len(blobs))
out.parent.mkdir(parents=True, exist_ok=True)
np.savez(
    out,
    data=np.frombuffer(b"".join(blobs), np.uint8),
    lengths=lens,
    label=split["label"].to_numpy(),
    val=(split["subset"] == "val").to_numpy(),
)
