"""What notebook 03 does, for tests that train a real run: split, build, train."""

from __future__ import annotations

import pandas as pd

from helpers.artifacts import RunPaths, open_run
from helpers.config import Config
from helpers.dataset import load_dataset_index, load_split
from helpers.modeling.training import build_model, make_split_datasets, steps_per_epoch, train_model
from helpers.runtime import seed_everything


def train_once(cfg: Config) -> tuple[RunPaths, pd.DataFrame]:
    """A fresh model of `cfg` trained in a new run: the run's paths and the training history."""
    run = open_run(cfg)
    seed_everything(cfg.seed)
    split = load_split(cfg, run, load_dataset_index(cfg, run))
    model = build_model(cfg, steps_per_epoch(cfg, split))
    return run, train_model(
        cfg, run, model, *make_split_datasets(cfg, split), steps_per_epoch(cfg, split)
    )
