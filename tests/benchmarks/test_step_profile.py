"""benchmarks.step_profile: op kinds and the thread profile read from a profiler's XSpace."""

from __future__ import annotations

import pytest
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from benchmarks.step_profile import op_kind, thread_profile


@pytest.mark.parametrize(
    ("op_type", "kind"),
    [
        ("_MklNativeConv2D", "convolutions"),
        ("_MklNativeConv2DBackpropFilter", "convolution gradients"),
        ("Conv2DBackpropInput", "convolution gradients"),
        ("ImageProjectiveTransformV3", "augmentation (projective transform)"),
        ("_MklNativeMaxPoolGrad", "max-pooling and its gradient"),
        ("ReluGrad", "ReLU and its gradient"),
        ("AssignSubVariableOp", "variable updates"),
        ("SquaredDifference", "element-wise and reductions (batch norm, loss, optimizer)"),
        ("IteratorGetNext", "other"),
    ],
)
def test_each_op_type_falls_in_its_kind(op_type, kind):
    assert op_kind(op_type) == kind


def _space(threads: dict[str, list[tuple[str, int]]], wall: int) -> xplane_pb2.XSpace:
    """An XSpace with one host plane: the python line's steps (`wall` ps), compute threads."""
    space = xplane_pb2.XSpace()
    plane = space.planes.add(name="/host:CPU")
    ids: dict[str, int] = {}

    def event(line, name: str, duration: int) -> None:
        if name not in ids:
            ids[name] = len(ids) + 1
            plane.event_metadata[ids[name]].name = name
        line.events.add(metadata_id=ids[name], duration_ps=duration)

    python = plane.lines.add(name="python")
    for _ in range(2):  # two steps of half the wall each, and the function call nested in each
        event(python, "multi_step_on_iterator", wall // 2)
        event(python, " __inference_multi_step_on_iterator_42", wall // 2 - 1)
    for thread, events in threads.items():
        line = plane.lines.add(name=thread)
        for name, duration in events:
            event(line, name, duration)
    return space


def test_the_profile_shares_op_time_by_kind_and_measures_how_busy_the_threads_were():
    space = _space(
        {
            "tf_Compute/1": [
                ("ExecutorState::Process", 60),  # the name TensorFlow's profiler gives it
                ("model/conv/Conv2D:_MklNativeConv2D", 30),
                ("model/bn/Mul:Mul", 10),
            ],
            "tf_Compute/2": [
                ("ExecutorState::Process", 20),
                ("grad/Conv2DBackpropFilter:_MklNativeConv2DBackpropFilter", 40),
                ("x:Relu", 20),
            ],
        },
        wall=100,
    )
    profile = thread_profile(space)
    assert profile["compute_threads"] == 2
    assert profile["busy_share"] == pytest.approx(80 / 200)
    shares = profile["op_time_shares"]
    assert shares == pytest.approx(
        {
            "convolution gradients": 0.4,
            "convolutions": 0.3,
            "ReLU and its gradient": 0.2,
            "element-wise and reductions (batch norm, loss, optimizer)": 0.1,
        }
    )
