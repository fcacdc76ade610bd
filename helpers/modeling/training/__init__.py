"""Training: the model that trains, the fit loop, the two-phase fine-tune, callbacks, optimizer.

Read top to bottom: `train` (datasets, train_model) → `fit` (the loop, the history, the saved
network) → `callbacks` → `optimizer`; `fine_tune` is the pretrained backbones' two phases;
`devices` the devices a training runs on.
"""

from helpers.modeling.training.callbacks import (
    BudgetedCosine,
    TimeBudget,
    TrainingClock,
    WallClock,
    make_callbacks,
)
from helpers.modeling.training.devices import describe_devices, training_strategy
from helpers.modeling.training.model import build_model, inference_network
from helpers.modeling.training.optimizer import (
    budgeted,
    compile_model,
    learning_rate_schedule,
    make_optimizer,
)
from helpers.modeling.training.train import make_split_datasets, steps_per_epoch, train_model

__all__ = [
    "BudgetedCosine",
    "TimeBudget",
    "TrainingClock",
    "WallClock",
    "budgeted",
    "build_model",
    "compile_model",
    "describe_devices",
    "inference_network",
    "learning_rate_schedule",
    "make_callbacks",
    "make_optimizer",
    "make_split_datasets",
    "steps_per_epoch",
    "train_model",
    "training_strategy",
]
