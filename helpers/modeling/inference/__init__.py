"""Using a trained model: load it, predict (with test-time views), submit, score, calibrate.

Nothing here imports the training code: a saved model is used without it.
"""

from helpers.artifacts import ModelFileError, default_model_file, find_model_file
from helpers.modeling.inference.calibration import (
    CALIBRATED_COLUMN,
    CalibrationReport,
    calibrate,
    calibrated_dog_probability,
    read_predictions,
    reliability_table,
    save_calibration,
    scores,
    two_class_probabilities,
)
from helpers.modeling.inference.files import expand_inputs, readable_images
from helpers.modeling.inference.model_file import input_size, load_trained_model
from helpers.modeling.inference.predict import (
    PredictError,
    flip_averaged,
    predict_dog_probability,
    predict_files,
    predict_images,
    predict_validation,
    predictions_frame,
)
from helpers.modeling.inference.submission import (
    make_submission,
    score_predictions,
    write_submission,
)

__all__ = [
    "CALIBRATED_COLUMN",
    "CalibrationReport",
    "ModelFileError",
    "PredictError",
    "calibrate",
    "calibrated_dog_probability",
    "default_model_file",
    "expand_inputs",
    "find_model_file",
    "flip_averaged",
    "input_size",
    "load_trained_model",
    "make_submission",
    "predict_dog_probability",
    "predict_files",
    "predict_images",
    "predict_validation",
    "predictions_frame",
    "read_predictions",
    "readable_images",
    "reliability_table",
    "save_calibration",
    "score_predictions",
    "scores",
    "two_class_probabilities",
    "write_submission",
]
