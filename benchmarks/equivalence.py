"""Write docs/evidence/scaling/equivalence.json: one device against several, the same steps.

`python -m benchmarks.equivalence` runs tests/distributed_equivalence.py for MirroredStrategy on 2
logical CPUs (with batch normalization synchronized, as DISTRIBUTE=mirrored sets it, and without)
and for keras.distribution's DataParallel on 4 JAX CPU devices, each in a process of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers.config import BACKEND_ENV, project_root
from helpers.summary import describe_machine

EVIDENCE = Path("docs/evidence/scaling/equivalence.json")
SCRIPT = "tests/distributed_equivalence.py"
# name: the backend, and the script's arguments (distribution, devices, steps[, unsynchronized])
RUNS = {
    "mirrored": ("tensorflow", ["mirrored", "2", "3"]),
    "mirrored_unsynchronized": ("tensorflow", ["mirrored", "2", "3", "unsynchronized"]),
    "data_parallel": ("jax", ["data_parallel", "4", "3"]),
}


def main() -> None:
    root = project_root()
    results: dict[str, object] = {"machine": describe_machine()}
    for name, (backend, args) in RUNS.items():
        done = subprocess.run(
            [sys.executable, SCRIPT, *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, BACKEND_ENV: backend},
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
        command = f"{BACKEND_ENV}={backend} python {SCRIPT} {' '.join(args)}"
        results[name] = {"command": command, **found}
    (root / EVIDENCE).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {EVIDENCE}")


if __name__ == "__main__":
    main()
