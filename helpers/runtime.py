"""Process-wide TensorFlow set-up: quiet import and deterministic seeding."""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

# absl/TF C++ log records look like "I0000 00:00:1795504259.693921    2640 file.cc:227] text".
_LOG_RECORD = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ [^\]]+\] ")
_ABSL_PREINIT = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)
_LEVELS = "IWEF"


def filter_tensorflow_log(text: str, min_level: int) -> str:
    """Drop C++ log records below `min_level` (0=INFO, 1=WARNING, 2=ERROR) from captured stderr."""
    kept: list[str] = []
    dropping = False
    for line in text.splitlines():
        record = _LOG_RECORD.match(line)
        if line == _ABSL_PREINIT:
            dropping = min_level > 0
        elif record:
            dropping = _LEVELS.index(record.group(1)) < min_level
        # Lines without a record prefix continue the record above them.
        if not dropping:
            kept.append(line)
    return "\n".join(kept) + ("\n" if kept else "")


@contextlib.contextmanager
def captured_stderr() -> Iterator[io.StringIO]:
    """Capture what C/C++ code and Python write to file descriptor 2 inside the block.

    Yields a StringIO that holds the captured text once the block ends.
    """
    text = io.StringIO()
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield text
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            captured.seek(0)
            text.write(captured.read().decode(errors="replace"))


# TensorFlow's oneDNN kernels are on by default only where TensorFlow's own CPU policy picks them
# (newer Intel features such as AVX512-VNNI, AVX512-BF16 or AMX); elsewhere its Eigen kernels run.
# On an AVX2 CPU (AMD EPYC) oneDNN trains the default network 1.4x faster (docs/history.md), so the
# project asks for it unless the environment says otherwise (TF_ENABLE_ONEDNN_OPTS=0).
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with oneDNN on and its import-time C++ log lines filtered.

    The log lines are filtered by TF_CPP_MIN_LOG_LEVEL. Both settings are read when TensorFlow is
    first imported: a process that imported it before the helpers keeps its own.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault(ONEDNN_ENV, "1")
    if "tensorflow" in sys.modules:
        return
    min_level = int(os.environ["TF_CPP_MIN_LOG_LEVEL"] or 0)
    with captured_stderr() as captured:
        import tensorflow  # noqa: F401
    leftover = filter_tensorflow_log(captured.getvalue(), min_level)
    if leftover:
        sys.stderr.write(leftover)


def onednn_enabled() -> bool:
    """Whether TensorFlow runs its oneDNN kernels in this process."""
    import_tensorflow_quietly()
    from tensorflow.python.util import _pywrap_util_port  # TensorFlow's own tests ask it so

    return bool(_pywrap_util_port.IsMklEnabled())


# Only AMX's matrix units train the default network faster in bfloat16 than in float32: with
# AVX512-BF16 alone (no AMX) it trained at about 0.7 of its float32 rate
# (docs/evidence/recipe/step-profile-*.json).
FAST_BFLOAT16_FLAG = "amx_bf16"
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", FAST_BFLOAT16_FLAG})  # bfloat16 in hardware


CPUINFO = Path("/proc/cpuinfo")


def _cpuinfo_field(cpuinfo: Path, name: str) -> str:
    """The first value of `name` in Linux's cpuinfo; "" where there is none or no such file."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return ""  # not Linux, or not readable
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(name)), "")


def cpu_has_fast_bfloat16(cpuinfo: Path = CPUINFO) -> bool:
    """Whether the CPU trains faster in bfloat16 than in float32 (has AMX), from Linux's flags."""
    return FAST_BFLOAT16_FLAG in _cpuinfo_field(cpuinfo, "flags").split()


# oneDNN's own limit on the instructions its kernels use (ONEDNN_MAX_CPU_ISA=AVX2 runs an older
# CPU's kernels on a newer one): a run made under it is named with it.
ONEDNN_ISA_ENV = "ONEDNN_MAX_CPU_ISA"


def describe_cpu(cpuinfo: Path = CPUINFO) -> dict[str, object]:
    """The CPU as the docs name it: model, kind (which decides the precision) and cores."""
    flags = set(_cpuinfo_field(cpuinfo, "flags").split())
    if BFLOAT16_CPU_FLAGS & flags:
        kind = "AMX/AVX512-BF16" if FAST_BFLOAT16_FLAG in flags else "AVX512-BF16"
    else:
        kind = "AVX2" if "avx2" in flags else "no AVX2"
    if os.environ.get(ONEDNN_ISA_ENV):
        kind += f", oneDNN limited to {os.environ[ONEDNN_ISA_ENV]}"
    return {
        "model": _cpuinfo_field(cpuinfo, "model name") or "unknown",
        "kind": kind,
        "cores": len(os.sched_getaffinity(0)),
    }


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic."""
    import_tensorflow_quietly()
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
