"""The default network's training rate in two processes set up differently, side by side.

Some settings are read once, when a process starts: TensorFlow reads TF_ENABLE_ONEDNN_OPTS at
import, Keras reads KERAS_BACKEND. So each side trains in a process of its own, started once:
`python -m benchmarks.training_processes --steps N` builds and warms up the network, then trains N
steps each time it reads a line on stdin and answers with the images it trained on. The processes
take turns, so the rounds interleave as every other comparison's do.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

from benchmarks.timing import Rates, interleaved
from helpers.config import BACKEND_ENV
from helpers.runtime import ONEDNN_ENV

ANSWER = "images "  # the prefix of a process's answer on stdout; other lines are library output
# Each comparison's sides: a name, and the environment its process starts with.
ONEDNN_SIDES = {"oneDNN on": {ONEDNN_ENV: "1"}, "oneDNN off": {ONEDNN_ENV: "0"}}
BACKEND_SIDES = {"TensorFlow": {BACKEND_ENV: "tensorflow"}, "JAX": {BACKEND_ENV: "jax"}}


def _setting(env: dict[str, str]) -> str:
    return " ".join(f"{name}={value}" for name, value in env.items())


@contextlib.contextmanager
def _training_process(env: dict[str, str], steps: int) -> Iterator[Callable[[], int]]:
    """A process training with `env`; yields a call that runs one round."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.training_processes", "--steps", str(steps)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | env,
    )

    def answer() -> int:
        for line in process.stdout:
            if line.startswith(ANSWER):
                return int(line.removeprefix(ANSWER))
        raise RuntimeError(
            f"the training process with {_setting(env)} ended (exit code {process.wait()}); "
            "its error is in bench.log"
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


def process_rates(sides: dict[str, dict[str, str]], steps: int, repeats: int) -> dict[str, Rates]:
    """Each side's training rate in `repeats` interleaved rounds of `steps` steps."""
    with contextlib.ExitStack() as stack:
        rounds = {
            name: stack.enter_context(_training_process(env, steps)) for name, env in sides.items()
        }
        return interleaved(rounds, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, required=True)
    steps = parser.parse_args().steps
    if steps < 1:
        parser.error(f"--steps {steps}: train at least 1 step a round")
    from benchmarks.in_memory import FLOAT32_TRAINING, in_memory_training
    from helpers.config import load_config

    _, train = in_memory_training(load_config(overrides=FLOAT32_TRAINING, environ={}), steps)
    print(f"{ANSWER}0", flush=True)  # ready
    for _ in sys.stdin:
        print(f"{ANSWER}{train()}", flush=True)


if __name__ == "__main__":
    main()
