"""`python -m benchmarks.requirements`: the tf-keras requirement of the installed TensorFlow."""

from __future__ import annotations

import importlib.metadata


def tensorflow_version() -> str:
    """Version of the installed TensorFlow distribution (tensorflow-cpu or tensorflow)."""
    for name in ("tensorflow-cpu", "tensorflow", "tensorflow-macos"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise SystemExit("TensorFlow is not installed in this environment: run `make install` first")


def tf_keras_requirement(version: str) -> str:
    """tf-keras releases track TensorFlow's: tf-keras==X.Y.* for TensorFlow X.Y.z."""
    major, minor = version.split(".")[:2]
    return f"tf-keras=={major}.{minor}.*"


if __name__ == "__main__":
    print(tf_keras_requirement(tensorflow_version()))
