import numpy as np
import pandas as pd

from helpers.artifacts import open_run
from helpers.config import load_config
from helpers.modeling.training import TimeBudget, build_model, make_callbacks, steps_per_epoch


def test_time_budget_stops_after_the_epoch_that_leaves_too_little_time():
    cfg = load_config(
        overrides={"image_size": 16, "epochs": 5, "augment": False, "lr_schedule": "plateau"},
        environ={},
    )
    model = build_model(cfg)
    budget = TimeBudget(minutes=1e-9)
    x, y = np.zeros((8, 16, 16, 3), "uint8"), np.eye(2)[[0, 1] * 4]
    history = model.fit(x, y, epochs=5, callbacks=[budget], verbose=0)
    assert len(history.history["loss"]) == 1 and budget.stopped_epoch == 1


def test_plateau_callbacks_only_with_the_plateau_schedule_and_time_budget_only_when_asked(tmp_path):
    def kinds(**overrides):
        cfg = load_config(overrides={"run_dir": str(tmp_path / "run"), **overrides}, environ={})
        run = open_run(cfg)
        return {type(callback).__name__ for callback in make_callbacks(cfg, run, 2)}

    plateau = kinds(lr_schedule="plateau", train_minutes=None)
    on_plateau = {"EarlyStopping", "ReduceLROnPlateau"}
    assert on_plateau <= plateau and not {"TimeBudget", "BudgetedCosine"} & plateau
    assert "TimeBudget" in kinds(lr_schedule="plateau", train_minutes=20)
    # The cosine schedule anneals to its planned end: nothing may stop it on a mid-run plateau.
    cosine = kinds(lr_schedule="cosine", train_minutes=20)
    assert not on_plateau & cosine and "BudgetedCosine" in cosine
    epoch_planned = kinds(lr_schedule="cosine", train_minutes=None)
    assert not (on_plateau | {"TimeBudget", "BudgetedCosine"}) & epoch_planned


def test_steps_per_epoch_counts_the_training_side_only():
    split = pd.DataFrame({"subset": ["train"] * 130 + ["val"] * 30})
    assert steps_per_epoch(load_config(overrides={"batch_size": 64}, environ={}), split) == 3
