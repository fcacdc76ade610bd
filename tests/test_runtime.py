import os
import subprocess
import sys

from helpers.runtime import ONEDNN_ENV, filter_tensorflow_log

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


def test_bfloat16_is_chosen_only_where_the_cpu_trains_faster_in_it_with_amx(tmp_path, monkeypatch):
    from helpers import config, runtime

    amd = tmp_path / "amd"
    amd.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n")
    sapphire = tmp_path / "sapphire"
    sapphire.write_text("processor\t: 0\nflags\t\t: avx2 avx512f avx512_bf16 amx_bf16\n")
    # AVX512-BF16 with AMX hidden (as some virtual machines show an AMX CPU): slower in bfloat16
    no_amx = tmp_path / "no-amx"
    no_amx.write_text("processor\t: 0\nflags\t\t: avx2 avx512f avx512_bf16 avx512_fp16\n")
    assert not runtime.cpu_has_fast_bfloat16(amd)
    assert runtime.cpu_has_fast_bfloat16(sapphire)
    assert not runtime.cpu_has_fast_bfloat16(no_amx)
    assert not runtime.cpu_has_fast_bfloat16(tmp_path / "no-such-file")

    cases = ((amd, "float32"), (sapphire, "mixed_bfloat16"), (no_amx, "float32"))
    for cpuinfo, expected in cases:
        monkeypatch.setattr(
            config, "cpu_has_fast_bfloat16", lambda c=cpuinfo: runtime.cpu_has_fast_bfloat16(c)
        )
        assert config.resolved_precision("auto") == expected
        assert config.load_config(environ={}).precision == expected
        assert config.resolved_precision("float32") == "float32"


def test_the_cpu_is_described_by_the_kind_that_decides_its_precision(tmp_path, monkeypatch):
    from helpers.runtime import ONEDNN_ISA_ENV, describe_cpu

    monkeypatch.delenv(ONEDNN_ISA_ENV, raising=False)

    epyc = tmp_path / "epyc"
    epyc.write_text("model name\t: AMD EPYC 9B14\nflags\t\t: fpu sse2 avx avx2 fma\n")
    xeon = tmp_path / "xeon"
    xeon.write_text(
        "model name\t: Intel(R) Xeon(R) Processor\nflags\t\t: avx2 amx_bf16 avx512_bf16\n"
    )
    assert describe_cpu(epyc)["kind"] == "AVX2"
    assert describe_cpu(epyc)["model"] == "AMD EPYC 9B14"
    assert describe_cpu(xeon)["kind"] == "AMX/AVX512-BF16"
    assert describe_cpu(tmp_path / "no-such-file")["model"] == "unknown"
    assert describe_cpu(epyc)["cores"] >= 1
    # A run on a newer CPU with oneDNN's kernels held to AVX2 says so.
    monkeypatch.setenv(ONEDNN_ISA_ENV, "AVX2")
    assert describe_cpu(xeon)["kind"] == "AMX/AVX512-BF16, oneDNN limited to AVX2"


def _onednn_in_new_process(environ: dict[str, str]) -> str:
    """What a new Python process that imports the helpers says of oneDNN."""
    code = "import helpers; from helpers.runtime import onednn_enabled; print(onednn_enabled())"
    env = {k: v for k, v in os.environ.items() if k != ONEDNN_ENV} | environ
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_helpers_turn_onednn_on_unless_the_environment_turns_it_off():
    assert _onednn_in_new_process({}) == "True"
    assert _onednn_in_new_process({ONEDNN_ENV: "0"}) == "False"
