"""The Makefile's command lines: `make lab` for root and others, `make help` on a pipe and a tty."""

from __future__ import annotations

import os
import pty
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(*args: str, venv: Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """`make -n` (print, do not run) with a throwaway venv whose install stamp counts as done."""
    command = [*prefix, "make", "-s", "-n", "-o", str(venv / ".installed"), f"VENV={venv}", *args]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def _lab_command(result: subprocess.CompletedProcess) -> list[str]:
    """The words of the `jupyter lab` command line that `make -n lab` printed."""
    assert result.returncode == 0, result.stderr
    words = shlex.split(result.stdout)
    assert "lab" in words and any(word.endswith("/jupyter") for word in words), result.stdout
    return words


def test_lab_passes_settings_to_the_kernels_and_extra_arguments_to_jupyter(tmp_path):
    words = _lab_command(
        _make(
            "lab",
            "PROFILE=smoke",
            "DATA_DIR=my photos",
            "EPOCHS=3",
            "LAB_ARGS=--port 8890 --no-browser",
            venv=tmp_path,
        )
    )
    settings = {"CATSDOGS_PROFILE=smoke", "CATSDOGS_DATA_DIR=my photos", "CATSDOGS_EPOCHS=3"}
    assert settings <= set(words)
    assert words[words.index("--ip") + 1] == "127.0.0.1"
    # The working copies in lab/, made first: Lab never saves into notebooks/.
    assert words[words.index("--notebook-dir") + 1] == "lab"
    assert words.index("helpers.cli.lab") < words.index("--notebook-dir")
    assert words[-3:] == ["--port", "8890", "--no-browser"]
    assert ("--allow-root" in words) == (os.geteuid() == 0)


def test_lab_sets_no_catsdogs_variables_unless_asked(tmp_path):
    words = _lab_command(_make("lab", venv=tmp_path))
    assert not [word for word in words if word.startswith("CATSDOGS_")]


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run make as another user",
)
def test_lab_adds_allow_root_only_for_root(tmp_path):
    as_root = _lab_command(_make("lab", venv=tmp_path))
    as_nobody = _lab_command(
        _make(
            "lab",
            venv=tmp_path,
            prefix=("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"),
        )
    )
    assert "--allow-root" in as_root
    assert "--allow-root" not in as_nobody


def test_lab_refuses_a_config_file_it_cannot_pass_on(tmp_path):
    result = _make("lab", "CONFIG=settings.yaml", venv=tmp_path)
    assert result.returncode != 0
    assert "CONFIG= cannot reach the notebooks" in result.stderr


def test_help_has_no_escape_codes_when_piped():
    result = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert any(line.split()[:1] == ["lab"] for line in result.stdout.splitlines()), result.stdout


def test_help_colours_the_targets_on_a_terminal():
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            ["make", "-s", "help"],
            cwd=ROOT,
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
        os.close(follower)
        follower = -1
        output = b""
        while chunk := _read(leader):
            output += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert result.returncode == 0, result.stderr
    assert b"\x1b[36mlab" in output


def _read(fd: int) -> bytes:
    """Next chunk from a pty, b"" at its end (Linux raises EIO once the other side is closed)."""
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""


def _locked_tensorflow() -> str:
    import tomllib

    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == "tensorflow-cpu")


def test_install_for_cuda_puts_the_cuda_build_of_the_locked_tensorflow_in_place(tmp_path):
    venv = tmp_path / "venv"
    command = ["make", "-s", "-n", f"VENV={venv}", "install", "ACCEL=cuda"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    sync = next(i for i, line in enumerate(lines) if " sync --locked" in line)
    swap = next(i for i, line in enumerate(lines) if "tensorflow[and-cuda]" in line)
    assert sync < swap, "the CUDA build comes after the sync, which installs tensorflow-cpu"
    assert "uninstall --python" in lines[swap] and "tensorflow-cpu &&" in lines[swap]
    assert f'"tensorflow[and-cuda]=={_locked_tensorflow()}"' in lines[swap]
    assert f"echo cuda > {venv}/.accel" in lines


def test_a_venv_that_runs_on_cuda_stays_on_cuda_through_later_syncs(tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".accel").write_text("cuda\n")
    (venv / ".installed").touch()  # newer than pyproject.toml and uv.lock
    # The bench extras' sync: the CUDA build out first, the lock's tensorflow-cpu, then CUDA again.
    bench = _make(str(venv / ".bench-installed"), venv=venv).stdout.splitlines()
    order = [
        next(i for i, line in enumerate(bench) if line.endswith("--quiet tensorflow")),
        next(i for i, line in enumerate(bench) if " sync --locked" in line),
        next(i for i, line in enumerate(bench) if "tensorflow[and-cuda]" in line),
    ]
    assert order == sorted(order), bench
    # Back to the CPU build: the sync alone, after the CUDA build is out.
    back = subprocess.run(
        ["make", "-s", "-n", f"VENV={venv}", "install", "ACCEL=cpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert "--quiet tensorflow\n" in back and "and-cuda" not in back
    assert f"echo cpu > {venv}/.accel" in back


def test_an_unknown_accelerator_is_refused_naming_the_choices(tmp_path):
    result = _make("install", "ACCEL=rocm", venv=tmp_path / "venv")
    assert result.returncode == 2
    assert "ACCEL=rocm: choose cpu (the default) or cuda" in result.stderr


def test_jax_is_installed_by_the_first_command_that_asks_for_it_beside_the_other_extras(tmp_path):
    venv = tmp_path / "venv"
    plain = _make("run-all", "PROFILE=smoke", venv=venv, prefix=("env", "-u", "KERAS_BACKEND"))
    assert plain.returncode == 0, plain.stderr
    assert "--extra jax" not in plain.stdout  # the default install has no JAX
    on_jax = _make("run-all", "PROFILE=smoke", venv=venv, prefix=("env", "KERAS_BACKEND=jax"))
    sync = next(line for line in on_jax.stdout.splitlines() if "--extra jax" in line)
    # --inexact: the bench extras stay (a plain sync would remove what the lock's extras lack).
    assert " sync --locked" in sync and "--inexact" in sync
    assert on_jax.stdout.index("--extra jax") < on_jax.stdout.index("helpers.cli.run_all")
    assert f"touch {venv}/.jax-installed" in on_jax.stdout
    assert "--extra jax" in _make("test", venv=venv).stdout  # the tests train on JAX too


def test_jax_follows_the_venv_onto_cuda(tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".accel").write_text("cuda\n")
    (venv / ".installed").touch()
    lines = _make(str(venv / ".jax-installed"), venv=venv).stdout.splitlines()
    sync = next(i for i, line in enumerate(lines) if "--extra jax" in line)
    cuda_jax = next(i for i, line in enumerate(lines) if '"jax[cuda12]==' in line)
    assert sync < cuda_jax
