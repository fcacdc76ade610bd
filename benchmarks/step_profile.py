"""Where the default network's training step goes, and what each progressive-resizing size costs.

Writes one JSON file: the CPU's conv2d peak; the default network's training rate at each size
progressive resizing trains at (in memory, batch 64), against the full size's and as a fraction
of the peak; and a TensorFlow profile of steps at full size: each kind of op's share of the
compute threads' time, and how busy those threads were. `ONEDNN_MAX_CPU_ISA=AVX2` in front runs
oneDNN's AVX2 kernels on a newer CPU: the slower machine kind's float32 convolutions.

    .venv/bin/python -m benchmarks.step_profile docs/evidence/recipe/step-profile-avx2.json
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import tempfile
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from benchmarks.hardware import conv2d_peak, model_flops, utilization
from benchmarks.in_memory import in_memory_training
from benchmarks.timing import images_per_second
from helpers.config import load_config
from helpers.modeling.training.model import inference_network
from helpers.modeling.training.resizing import set_training_size, training_sizes
from helpers.runtime import describe_cpu

PROFILED_STEPS = 10
STEP_FUNCTION = "multi_step_on_iterator"  # what Keras's TensorFlow trainer calls for each step
ROUNDS, ROUND_STEPS = 3, 15
# TensorFlow op types by what they do in this network's step; the rest is "other".
OP_KINDS = {
    "convolutions": ("Conv2D", "_MklNativeConv2D", "_MklConv2D"),
    "convolution gradients": ("Conv2DBackprop",),
    "augmentation (projective transform)": ("ImageProjectiveTransform",),
    "max-pooling and its gradient": ("MaxPool",),
    "ReLU and its gradient": ("Relu",),
    "variable updates": ("VariableOp", "ResourceApply"),
    "element-wise and reductions (batch norm, loss, optimizer)": (
        "Mul",
        "Sub",
        "Add",
        "Mean",
        "Sum",
        "SquaredDifference",
        "Tile",
        "RealDiv",
        "Rsqrt",
        "Sqrt",
        "Cast",
        "Maximum",
        "Neg",
        "Square",
        "Softmax",
    ),
}


def op_kind(op_type: str) -> str:
    """The kind (a key of OP_KINDS, or "other") of a TensorFlow op type."""
    if "Backprop" in op_type and "Conv2D" in op_type:
        return "convolution gradients"
    for kind, markers in OP_KINDS.items():
        if any(marker in op_type for marker in markers):
            return kind
    return "other"


def thread_profile(space: xplane_pb2.XSpace) -> dict:
    """Each op kind's share of the compute threads' op time, and their busy share of the wall."""
    by_kind: collections.Counter[str] = collections.Counter()
    busy_ps, threads, wall_ps = 0, 0, 0
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            if line.name == "python":  # the steps' wall time: Keras's calls of its step function
                wall_ps += sum(
                    event.duration_ps
                    for event in line.events
                    if names[event.metadata_id] == STEP_FUNCTION
                )
            if not line.name.startswith("tf_Compute"):
                continue
            threads += 1
            for event in line.events:
                # An op's event is named "<node name>:<op type>"; "ExecutorState::Process" is the
                # thread's span of one hand-over of ops, and holds their events.
                op_type = names[event.metadata_id].split(":")[-1]
                if op_type == "Process":
                    busy_ps += event.duration_ps
                else:
                    by_kind[op_kind(op_type)] += event.duration_ps
    total = sum(by_kind.values())
    return {
        "op_time_shares": {kind: ps / total for kind, ps in by_kind.most_common()},
        "compute_threads": threads,
        "busy_share": busy_ps / (threads * wall_ps) if threads and wall_ps else None,
    }


def profile_steps(train) -> dict:
    """thread_profile of one call of `train` (ten steps)."""
    with tempfile.TemporaryDirectory() as folder:
        tf.profiler.experimental.start(folder)
        train()
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        space.ParseFromString(next(Path(folder).rglob("*.xplane.pb")).read_bytes())
    return thread_profile(space)


def size_rates(precision: str) -> dict[int, float]:
    """Images per second of the default recipe's training at each progressive-resizing size."""
    cfg = load_config(overrides={"precision": precision, "start_image_size": 48}, environ={})
    model, train = in_memory_training(cfg, ROUND_STEPS)
    rates = {}
    # One size at a time, as a real run trains them: its TrainingSize layer shrinks each batch.
    for size in training_sizes(cfg):
        set_training_size(model, size)
        train()  # traces the step for this size; oneDNN makes its kernels for the new shapes
        values = [images_per_second(train) for _ in range(ROUNDS)]
        rates[size] = statistics.median(values)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the JSON file to write")
    parser.add_argument("--precision", default="float32")
    args = parser.parse_args()
    dtype = "bfloat16" if args.precision == "mixed_bfloat16" else "float32"
    peak = conv2d_peak(dtype, min_seconds=2.0).flops_per_second
    cfg = load_config(overrides={"precision": args.precision}, environ={})
    model, train = in_memory_training(cfg, PROFILED_STEPS)
    flops = model_flops(inference_network(model))
    profile = profile_steps(train)
    rates = size_rates(args.precision)
    full = rates[cfg.image_size]
    result = {
        "cpu": describe_cpu(),
        "precision": args.precision,
        "model": cfg.model,
        "conv2d_peak_flops_per_second": peak,
        "forward_flops_per_image": flops,
        "profile": profile,
        "sizes": {
            str(size): {
                "images_per_second": rate,
                "time_against_full_size": full / rate,
                # A convolution's work grows with its output's area: about size² of the full size's.
                "fraction_of_conv_peak": utilization(
                    round(flops * (size / cfg.image_size) ** 2), rate, peak
                ),
            }
            for size, rate in rates.items()
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
