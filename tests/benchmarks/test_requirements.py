"""The tf-keras requirement that make bench installs."""

from __future__ import annotations

from benchmarks.requirements import tf_keras_requirement


def test_tf_keras_follows_the_tensorflow_minor_version():
    assert tf_keras_requirement("2.21.3") == "tf-keras==2.21.*"
