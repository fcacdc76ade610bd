from helpers.runtime import filter_tensorflow_log

CAPTURED = """WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1795504259.693921    2640 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.
To enable the following instructions: AVX2 AVX512F, in other operations, rebuild TensorFlow.
W0000 00:00:1795504259.700000    2640 some_file.cc:12] a warning
E0000 00:00:1795504259.800000    2640 other.cc:7] an error
a plain line from someone else
"""


def test_info_records_and_their_continuations_are_dropped_at_level_1():
    kept = filter_tensorflow_log(CAPTURED, min_level=1)
    assert "InitializeLog" not in kept and "AVX2" not in kept and "optimized" not in kept
    assert "a warning" in kept and "an error" in kept


def test_level_2_also_drops_warnings_but_keeps_errors():
    kept = filter_tensorflow_log(CAPTURED, min_level=2)
    assert "a warning" not in kept
    assert "an error" in kept and "a plain line from someone else" in kept


def test_level_0_keeps_everything():
    assert filter_tensorflow_log(CAPTURED, min_level=0) == CAPTURED
