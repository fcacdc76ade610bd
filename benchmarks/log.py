"""Library output (TensorFlow, absl, Python warnings, tf-keras prints) kept out of the table."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def output_to_log(path: Path) -> Iterator[TextIO]:
    """Send everything written to stdout and stderr, by Python or native code, to `path`.

    Yields a stream to the terminal's stdout for the progress lines. Both file descriptors are
    redirected, not just sys.stdout and sys.stderr, because TensorFlow's C++ logging writes to
    them directly; they are restored on the way out, so an error's traceback reaches the terminal.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    terminal = os.fdopen(os.dup(saved[1]), "w", buffering=1)
    try:
        with path.open("a", buffering=1) as log:
            for fd in saved:
                os.dup2(log.fileno(), fd)
            try:
                yield terminal
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                for fd, copy in saved.items():
                    os.dup2(copy, fd)
    finally:
        terminal.close()
        for copy in saved.values():
            os.close(copy)
