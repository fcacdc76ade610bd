"""Library output goes to the bench log, progress lines to the terminal."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from benchmarks.log import output_to_log

# Run in a process of its own: pytest replaces sys.stdout and the warning display in its tests.
SCRIPT = textwrap.dedent(
    """
    import os, sys, warnings
    from pathlib import Path
    from benchmarks.log import output_to_log

    with output_to_log(Path(sys.argv[1])) as terminal:
        warnings.warn("a library warning", UserWarning, stacklevel=1)
        print("Found 1000 validated image filenames.")
        os.write(2, b"native stderr line\\n")  # as TensorFlow's C++ logging writes
        print("progress line", file=terminal)
    print("after")
    """
)


def test_warnings_prints_and_native_writes_go_to_the_log_and_progress_to_the_terminal(tmp_path):
    log = tmp_path / "out" / "bench.log"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log)], capture_output=True, text=True, check=True
    )
    text = log.read_text()
    assert "a library warning" in text and "Found 1000" in text and "native stderr" in text
    assert result.stdout == "progress line\nafter\n" and result.stderr == ""


def test_the_terminal_comes_back_when_the_suite_fails(tmp_path, capfd):
    try:
        with output_to_log(tmp_path / "bench.log"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    sys.stderr.write("visible again\n")
    assert "visible again" in capfd.readouterr().err
