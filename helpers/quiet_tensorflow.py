"""Import this module before `keras` or `tensorflow`: TensorFlow is then imported once, quietly.

TensorFlow reads TF_ENABLE_ONEDNN_OPTS and TF_CPP_MIN_LOG_LEVEL once, when it is first imported,
and TensorFlow 2.19+ prints INFO lines from C++ before its own log settings apply
(tensorflow/tensorflow#100442). Every module of the package that uses TensorFlow imports this one
first (ruff's isort keeps it above the third-party imports), so no notebook or test output carries
those lines and oneDNN is on wherever the package imported TensorFlow first.
"""

from helpers.runtime import import_tensorflow_quietly

import_tensorflow_quietly()
