"""Calibration: do the model's probabilities mean what they say; temperature scaling to fix them.

A model is calibrated when, of the images it gives 90 % confidence, 90 % are right. The expected
calibration error (ECE) is the gap between confidence and accuracy, averaged over confidence bins
weighted by their share of images. Temperature scaling divides the logits by one number T fitted on
the validation set (T > 1 softens over-confident probabilities, T < 1 sharpens timid ones); it never
changes which class is the most probable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

from helpers.artifacts import RunPaths, require, write_csv, write_json

TEMPERATURE_BOUNDS = (0.05, 20.0)
CALIBRATED_COLUMN = "calibrated_dog_probability"  # added to the run's predictions files
EPSILON = 1e-7  # float32 softmax outputs are exact to about this: the floor of a probability


def two_class_probabilities(dog_probability: np.ndarray) -> np.ndarray:
    """[n, 2] probabilities (cat, dog) from P(dog)."""
    p = np.asarray(dog_probability, dtype="float64")
    return np.stack([1.0 - p, p], axis=1)


def logits_from_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Log-probabilities used as logits: softmax gives the probabilities back (floored)."""
    return np.log(np.clip(np.asarray(probabilities, dtype="float64"), EPSILON, 1.0))


def reliability_table(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = 10
) -> pd.DataFrame:
    """Per confidence bin: its range, image count, mean confidence and accuracy of the top class."""
    probabilities = np.asarray(probabilities, dtype="float64")
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(
            "need [n, classes] probabilities and n labels; "
            f"got shapes {probabilities.shape} and {labels.shape}"
        )
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bin i holds confidences in (edges[i], edges[i + 1]]; a confidence of 0 joins the first.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    frame = pd.DataFrame(
        {"bin": which, "confidence": confidence, "correct": correct.astype("float64")}
    )
    table = frame.groupby("bin").agg(
        count=("correct", "size"), confidence=("confidence", "mean"), accuracy=("correct", "mean")
    )
    table = table.reindex(range(bins)).assign(lower=edges[:-1], upper=edges[1:])
    table["count"] = table["count"].fillna(0).astype("int64")
    return table[["lower", "upper", "count", "confidence", "accuracy"]].reset_index(drop=True)


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = 10
) -> float:
    """ECE: |accuracy - confidence| per confidence bin, weighted by the bin's share of images."""
    table = reliability_table(probabilities, labels, bins).query("count > 0")
    gaps = (table["accuracy"] - table["confidence"]).abs()
    return float((gaps * table["count"]).sum() / table["count"].sum())


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T)."""
    return softmax(np.asarray(logits, dtype="float64") / temperature, axis=1)


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    log_p = log_softmax(logits / temperature, axis=1)
    return float(-log_p[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in TEMPERATURE_BOUNDS minimizing the negative log-likelihood of softmax(logits / T)."""
    logits = np.asarray(logits, dtype="float64")
    labels = np.asarray(labels, dtype="int64")
    low, high = np.log(TEMPERATURE_BOUNDS)
    # Searched over log T: the loss is smoother there, and T stays positive.
    result = minimize_scalar(
        lambda log_t: _nll(logits, labels, np.exp(log_t)),
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(np.exp(result.x))


def _floored(probabilities: np.ndarray) -> np.ndarray:
    """Probabilities floored at EPSILON and renormalized, so that log loss stays finite."""
    floored = np.clip(probabilities, EPSILON, 1.0)
    return floored / floored.sum(axis=1, keepdims=True)


def scores(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> dict[str, float]:
    """Accuracy, log loss and ECE of [n, classes] probabilities."""
    probabilities = np.asarray(probabilities, dtype="float64")
    classes = list(range(probabilities.shape[1]))
    return {
        "accuracy": float((probabilities.argmax(axis=1) == labels).mean()),
        "log_loss": float(log_loss(labels, _floored(probabilities), labels=classes)),
        "ece": expected_calibration_error(probabilities, labels, bins),
    }


def cross_fitted_probabilities(
    logits: np.ndarray, labels: np.ndarray, folds: int = 2, seed: int = 0
) -> np.ndarray:
    """Each image's probabilities under a temperature fitted on the other folds: an honest check."""
    out = np.empty_like(logits, dtype="float64")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_rows, score_rows in splitter.split(logits, labels):
        temperature = fit_temperature(logits[fit_rows], labels[fit_rows])
        out[score_rows] = apply_temperature(logits[score_rows], temperature)
    return out


@dataclass(frozen=True)
class CalibrationReport:
    """A fitted temperature, scores before and after, and whether to apply it (and why)."""

    temperature: float
    before: dict[str, float]
    after: dict[str, float]  # T fitted and scored on the same images: flattering
    cross_fitted: dict[str, float]  # T fitted on one half, scored on the other: honest
    apply: bool
    reason: str

    def to_dict(self) -> dict:
        """Plain mapping, for calibration.json."""
        return asdict(self)


def _decision(
    temperature: float, before: dict[str, float], cross: dict[str, float] | None
) -> tuple[bool, str]:
    """Whether to apply the temperature, and why (see `calibrate`)."""
    low, high = TEMPERATURE_BOUNDS
    if cross is None:
        return False, "too few images of one class to check a temperature on held-out images"
    if before["accuracy"] == 1.0:
        return (
            False,
            "no validation image is wrong: any sharpening lowers log loss, T means nothing",
        )
    if not low * 1.01 < temperature < high / 1.01:
        return False, f"T={temperature:.3g} is at the edge of its range {TEMPERATURE_BOUNDS}"
    if cross["accuracy"] < before["accuracy"]:
        return False, "it would cost accuracy on held-out images"
    if cross["log_loss"] >= before["log_loss"] or cross["ece"] > before["ece"]:
        return False, "on held-out images it does not lower log loss without raising ECE"
    return True, "on held-out images it lowers log loss, does not raise ECE, keeps accuracy"


def calibrate(
    dog_probability: np.ndarray, labels: np.ndarray, seed: int = 0, bins: int = 10
) -> CalibrationReport:
    """Fit a temperature to validation P(dog); decide if it makes the probabilities more honest.

    It is applied only if, fitted on one half of the images and judged on the other, it lowers log
    loss, does not raise ECE and keeps accuracy; never when no validation image is misclassified
    (any sharpening then looks better) or when T is stuck at a bound of its range.
    """
    labels = np.asarray(labels, dtype="int64")
    logits = logits_from_probabilities(two_class_probabilities(dog_probability))
    temperature = fit_temperature(logits, labels)
    before = scores(apply_temperature(logits, 1.0), labels, bins)
    after = scores(apply_temperature(logits, temperature), labels, bins)
    cross = None
    if np.bincount(labels, minlength=2).min() >= 2:
        cross = scores(cross_fitted_probabilities(logits, labels, 2, seed), labels, bins)
    apply, reason = _decision(temperature, before, cross)
    return CalibrationReport(temperature, before, after, cross or before, apply, reason)


def calibrated_dog_probability(dog_probability: np.ndarray, temperature: float) -> np.ndarray:
    """P(dog) after temperature scaling."""
    logits = logits_from_probabilities(two_class_probabilities(dog_probability))
    return apply_temperature(logits, temperature)[:, 1]


def read_predictions(path: Path, notebook: str) -> pd.DataFrame:
    """A predictions CSV of the run folder, or a clear error naming the notebook that writes it."""
    return pd.read_csv(require(path, notebook)).drop(columns=[CALIBRATED_COLUMN], errors="ignore")


def save_calibration(
    run: RunPaths, report: CalibrationReport, frames: dict[Path, pd.DataFrame]
) -> list[Path]:
    """Write calibration.json and, when the report says to apply T, a calibrated P(dog) column to
    each predictions file; return the files changed besides calibration.json."""
    write_json(
        {**report.to_dict(), "column": CALIBRATED_COLUMN if report.apply else None},
        run.root / "calibration.json",
    )
    if not report.apply:
        return []
    for path, frame in frames.items():
        calibrated = calibrated_dog_probability(
            frame["dog_probability"].to_numpy(), report.temperature
        )
        write_csv(frame.assign(**{CALIBRATED_COLUMN: calibrated}), path)
    return list(frames)
