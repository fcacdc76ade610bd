"""The default network's training rate with TensorFlow's oneDNN kernels on and off, side by side.

TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, when it is imported, so each side trains in a process
of its own, started once: `python -m benchmarks.onednn --steps N` builds and warms up the network,
then trains N steps each time it reads a line on stdin and answers with the images it trained on.
The two processes take turns, so the rounds interleave as every other comparison's do.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

from benchmarks.timing import Rates, interleaved
from helpers.runtime import ONEDNN_ENV

ANSWER = "images "  # the prefix of a process's answer on stdout; other lines are library output
SIDES = {"oneDNN on": "1", "oneDNN off": "0"}  # the side's name and its TF_ENABLE_ONEDNN_OPTS


@contextlib.contextmanager
def _training_process(onednn: str, steps: int) -> Iterator[Callable[[], int]]:
    """A process training with TF_ENABLE_ONEDNN_OPTS=`onednn`; yields a call that runs one round."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.onednn", "--steps", str(steps)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {ONEDNN_ENV: onednn},
    )

    def answer() -> int:
        for line in process.stdout:
            if line.startswith(ANSWER):
                return int(line.removeprefix(ANSWER))
        raise RuntimeError(
            f"the training process with {ONEDNN_ENV}={onednn} ended (exit code "
            f"{process.wait()}); its error is in bench.log"
        )

    def one_round() -> int:
        process.stdin.write("train\n")
        process.stdin.flush()
        return answer()

    try:
        answer()  # built and warmed up
        yield one_round
    finally:
        process.stdin.close()
        process.wait()


def onednn_rates(steps: int, repeats: int) -> dict[str, Rates]:
    """Each side's training rate in `repeats` interleaved rounds of `steps` steps."""
    with contextlib.ExitStack() as stack:
        sides = {
            name: stack.enter_context(_training_process(value, steps))
            for name, value in SIDES.items()
        }
        return interleaved(sides, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, required=True)
    steps = parser.parse_args().steps
    if steps < 1:
        parser.error(f"--steps {steps}: train at least 1 step a round")
    from benchmarks.in_memory import ONEDNN_TRAINING, in_memory_training
    from helpers.config import load_config

    _, train = in_memory_training(load_config(overrides=ONEDNN_TRAINING, environ={}), steps)
    print(f"{ANSWER}0", flush=True)  # ready
    for _ in sys.stdin:
        print(f"{ANSWER}{train()}", flush=True)


if __name__ == "__main__":
    main()
