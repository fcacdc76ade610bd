"""Explaining a trained model: Grad-CAM heatmaps, and the photos notebook 06 shows them over."""

from helpers.modeling.explain.gradcam import GradCAM, explain_images, feature_layer_path
from helpers.modeling.explain.photos import (
    confident_per_class,
    explain_paths,
    most_confident,
    own_photo_paths,
    photo_upload,
    title_of,
)

__all__ = [
    "GradCAM",
    "confident_per_class",
    "explain_images",
    "explain_paths",
    "feature_layer_path",
    "most_confident",
    "own_photo_paths",
    "photo_upload",
    "title_of",
]
