"""`make tensorboard`: TensorBoard over every run's training logs, without TensorFlow's noise.

TensorBoard imports TensorFlow, whose C++ import-time lines would be printed before its own log
settings apply; imported quietly first (helpers.quiet_tensorflow), they are filtered.
"""

from __future__ import annotations

import sys

import helpers.quiet_tensorflow  # noqa: F401

from tensorboard.main import run_main

if __name__ == "__main__":
    sys.exit(run_main())
