"""Calibration maths: ECE, reliability bins, temperature scaling and the decision to apply it."""

import numpy as np
import pytest

from helpers.modeling.inference.calibration import (
    apply_temperature,
    calibrate,
    calibrated_dog_probability,
    expected_calibration_error,
    fit_temperature,
    reliability_table,
    two_class_probabilities,
)


def calibrated_sample(n, rng):
    """P(dog) and labels drawn from exactly those probabilities: perfectly calibrated."""
    dog_probability = rng.uniform(0.0, 1.0, n)
    labels = (rng.uniform(0.0, 1.0, n) < dog_probability).astype("int64")
    return dog_probability, labels


def overconfident_sample(n, rng, sharpening=3.0):
    """Labels drawn from softmax(z); the model says softmax(sharpening * z): too sure of itself."""
    logits = rng.normal(0.0, 1.5, size=(n, 2))
    truth = apply_temperature(logits, 1.0)
    labels = (rng.uniform(0.0, 1.0, n) < truth[:, 1]).astype("int64")
    return apply_temperature(logits, 1.0 / sharpening)[:, 1], labels


def test_ece_of_perfectly_calibrated_data_is_about_zero():
    dog_probability, labels = calibrated_sample(50_000, np.random.default_rng(0))
    assert expected_calibration_error(two_class_probabilities(dog_probability), labels) < 0.01


def test_ece_of_always_confident_half_right_predictions_is_the_gap():
    probabilities = two_class_probabilities(np.full(1000, 0.9))
    labels = np.tile([0, 1], 500)  # predicted dog every time, right half of the time
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.4)


def test_reliability_table_counts_every_image_once_in_its_confidence_bin():
    dog_probability, labels = calibrated_sample(1000, np.random.default_rng(1))
    table = reliability_table(two_class_probabilities(dog_probability), labels, bins=10)
    assert table["count"].sum() == 1000
    assert table.loc[:4, "count"].sum() == 0  # the top class of two is never below 0.5
    filled = table[table["count"] > 0]
    assert (
        (filled["confidence"] > filled["lower"]) & (filled["confidence"] <= filled["upper"])
    ).all()


def test_temperature_fitted_on_overconfident_data_is_above_one_and_keeps_accuracy():
    dog_probability, labels = overconfident_sample(20_000, np.random.default_rng(2), sharpening=3.0)
    probabilities = two_class_probabilities(dog_probability)
    temperature = fit_temperature(np.log(probabilities), labels)
    assert 2.5 < temperature < 3.5
    calibrated = apply_temperature(np.log(probabilities), temperature)
    assert (calibrated.argmax(axis=1) == probabilities.argmax(axis=1)).all()
    assert (
        expected_calibration_error(calibrated, labels)
        < expected_calibration_error(probabilities, labels) / 3
    )


def test_temperature_fitted_on_calibrated_data_is_about_one():
    dog_probability, labels = calibrated_sample(50_000, np.random.default_rng(3))
    assert fit_temperature(
        np.log(two_class_probabilities(dog_probability)), labels
    ) == pytest.approx(1.0, abs=0.05)


def test_calibrate_applies_a_temperature_that_helps_on_held_out_images():
    dog_probability, labels = overconfident_sample(4000, np.random.default_rng(4))
    report = calibrate(dog_probability, labels, seed=0)
    assert report.apply, report.reason
    assert report.temperature > 1
    assert report.cross_fitted["log_loss"] < report.before["log_loss"]
    assert report.after["accuracy"] == report.before["accuracy"]
    calibrated = calibrated_dog_probability(dog_probability, report.temperature)
    assert ((calibrated >= 0.5) == (dog_probability >= 0.5)).all()
    assert np.abs(calibrated - 0.5).mean() < np.abs(dog_probability - 0.5).mean()  # softer


def test_calibrate_refuses_a_temperature_when_no_validation_image_is_wrong():
    labels = np.tile([0, 1], 30)
    # All right and sure: sharpening always "helps".
    dog_probability = np.where(labels == 1, 0.999, 0.001)
    report = calibrate(dog_probability, labels, seed=0)
    assert not report.apply
    assert "no validation image is wrong" in report.reason


def test_reliability_table_names_mismatched_inputs():
    with pytest.raises(ValueError, match="probabilities and n labels"):
        reliability_table(np.zeros((3, 2)), np.zeros(4))
