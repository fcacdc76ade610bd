"""Shared code of the cats-vs-dogs notebook series."""

from helpers.runtime import import_tensorflow_quietly

# TensorFlow 2.19+ prints INFO lines from C++ before its own log settings apply
# (tensorflow/tensorflow#100442); import it once here, filtered, so that no
# notebook or test output carries them.
import_tensorflow_quietly()

__version__ = "0.1.0"
