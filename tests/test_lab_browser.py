"""JupyterLab in a real browser: every numbered notebook, run through the UI on the smoke profile.

A JupyterLab server on 127.0.0.1 serves the working copies that `make lab` serves (outputs
cleared, so every figure seen comes from this run); headless Chromium, driven by Playwright, opens
each in turn, runs all cells from the Run menu and checks the outputs. The kernels run the smoke
profile in a throwaway run folder and data folder; the notebooks in notebooks/ are never touched,
and `make predict` then finds the model the Lab session trained.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from kills import environment_without

from helpers.notebooks import WORKING_COPIES, notebook_paths, prepare_working_copies

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebook_paths(ROOT)
SERVER_START_S = 120
NOTEBOOK_OPEN_S = 180
NOTEBOOK_RUN_S = 600  # the smoke training takes ~30 s alone; a shared 2-core machine is slower
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
# JupyterLab's own settings for the test: no news or update prompts over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _wait_for(condition: Callable[[], object], timeout_s: float, what: str, poll_s: float = 1.0):
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(poll_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _code_cells(notebook: Path) -> list:
    """The code cells of `notebook`, in order."""
    return [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]


def _plotting_cells(notebook: Path) -> list[int]:
    """Indices, among the code cells, of those whose stored (smoke profile) outputs plot."""
    cells = _code_cells(notebook)
    return [
        index
        for index, cell in enumerate(cells)
        if any("image/png" in output.get("data", {}) for output in cell.outputs)
    ]


@dataclass
class LabServer:
    """A running JupyterLab server: its address, token, served folder, run folder and log."""

    url: str
    token: str
    notebook_dir: Path
    run_dir: Path
    log: Path
    process: subprocess.Popen

    def api(self, path: str, method: str = "GET") -> object:
        """JSON answer of the server's REST API at `path`."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log, for failure messages."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def session_for(self, name: str) -> dict | None:
        """The server's session of notebook `name`, if one is open."""
        return next((s for s in self.api("sessions") if Path(s["path"]).name == name), None)


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    """JupyterLab on a free port of 127.0.0.1 with a token, serving output-free notebook copies."""
    notebook_dir, jupyter_dir = tmp_path / WORKING_COPIES, tmp_path / "jupyter"
    prepare_working_copies(NOTEBOOKS, notebook_dir)
    for name, settings in LAB_SETTINGS.items():
        path = jupyter_dir / "lab-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))

    # The kernels inherit this environment: the smoke profile in throwaway folders, this checkout's
    # helpers first on the path, and Jupyter's own state kept out of the user's home folder.
    env = environment_without()
    env.update(
        CATSDOGS_PROFILE="smoke",
        CATSDOGS_RUN_DIR=str(tmp_path / "runs" / "lab-session"),
        CATSDOGS_DATA_DIR=str(tmp_path / "data" / "synthetic"),
        CATSDOGS_ROOT=str(ROOT),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        JUPYTER_CONFIG_DIR=str(jupyter_dir / "config"),
        JUPYTER_RUNTIME_DIR=str(jupyter_dir / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(jupyter_dir / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(jupyter_dir / "workspaces"),
    )
    port, token = _free_port(), secrets.token_hex(24)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--no-browser",
        f"--ServerApp.root_dir={notebook_dir}",
        f"--IdentityProvider.token={token}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = tmp_path / "jupyterlab.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=notebook_dir, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    server = LabServer(url, token, notebook_dir, tmp_path / "runs" / "lab-session", log, process)
    try:
        _wait_for(lambda: _answers(server), SERVER_START_S, "JupyterLab to answer")
        yield server
    finally:
        _stop_server(server)


def _answers(server: LabServer) -> bool:
    """Whether the server answers its API; fails at once if the server has exited."""
    if server.process.poll() is not None:
        pytest.fail(f"JupyterLab exited with {server.process.returncode}:\n{server.log_tail()}")
    try:
        server.api("status")
    except OSError:
        return False
    return True


def _stop_server(server: LabServer) -> None:
    """Shut down the kernels, then the server (killed if it does not stop within 30 s)."""
    if server.process.poll() is None:
        try:
            for kernel in server.api("kernels"):
                server.api(f"kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass  # the server stops its remaining kernels when it stops
        server.process.terminate()
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=30)


def _open_notebook(page, server: LabServer, notebook: Path) -> None:
    """Open `notebook` alone in a fresh workspace and wait until its kernel is idle."""
    page.goto(
        f"{server.url}/lab/workspaces/{notebook.stem}/tree/{notebook.name}"
        f"?reset&token={server.token}",
        timeout=NOTEBOOK_OPEN_S * 1000,
    )
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=NOTEBOOK_OPEN_S * 1000)

    def kernel_idle() -> bool:
        session = server.session_for(notebook.name)
        return bool(session) and session["kernel"]["execution_state"] == "idle"

    _wait_for(kernel_idle, NOTEBOOK_OPEN_S, f"the kernel of {notebook.name} to start")


def _prompts(page) -> list[str]:
    """The input prompt of every code cell of the open notebook, in order ('[3]:', '[*]:', ...)."""
    return page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt").all_text_contents()


def _run_all_cells(page, server: LabServer, notebook: Path) -> list[str]:
    """Run all cells from the Run menu; wait until none is queued and the kernel is idle."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells")).click()

    def started() -> bool:
        # A prompt other than '[ ]:' ('[*]:' queued, '[1]:' done) shows that the run began.
        return any(prompt.strip("[]: ") for prompt in _prompts(page))

    _wait_for(started, 60, f"{notebook.name}'s cells to start running", 0.2)

    def finished() -> list[str] | None:
        # Twice in a row: the kernel is briefly idle between two queued cells.
        for _ in range(2):
            session = server.session_for(notebook.name)
            prompts = _prompts(page)
            if "[*]:" in prompts or not session or session["kernel"]["execution_state"] != "idle":
                return None
            time.sleep(1)
        return prompts

    return _wait_for(finished, NOTEBOOK_RUN_S, f"{notebook.name} to finish running")


def _check_outputs(page, notebook: Path, prompts: list[str]) -> None:
    """No error output, every code cell run once in order, a rendered figure where one plots."""
    code_cells = _code_cells(notebook)
    errors = page.locator(STDERR_OUTPUT).all_text_contents()
    assert not errors, f"{notebook.name} shows error output:\n" + "\n---\n".join(errors)
    assert prompts == [f"[{n}]:" for n in range(1, len(code_cells) + 1)], (
        f"{notebook.name}: not every code cell ran once, in order: {prompts}"
    )
    cells = page.locator(".jp-NotebookPanel .jp-CodeCell")
    plotting = _plotting_cells(notebook)
    for index in plotting:
        images = cells.nth(index).locator(".jp-OutputArea-output.jp-RenderedImage img")
        assert images.count() > 0, f"{notebook.name}: code cell {index} should show a figure, none"
        # Decoded to a real bitmap, not a broken image.
        width = images.first.evaluate("async i => { await i.decode(); return i.naturalWidth; }")
        assert width > 0, f"{notebook.name}: the figure of code cell {index} does not render"


def _git_status_of_notebooks() -> str:
    """`git status --porcelain notebooks/`, or "" outside a git checkout."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "notebooks/"], cwd=ROOT, capture_output=True, text=True
    )
    return status.stdout if status.returncode == 0 else ""


def test_every_notebook_runs_in_jupyterlab_with_figures_and_no_errors(lab_server, page, tmp_path):
    assert NOTEBOOKS, "no numbered notebooks in notebooks/"
    assert any(_plotting_cells(notebook) for notebook in NOTEBOOKS), "no notebook plots a figure"
    originals = {path: path.read_bytes() for path in NOTEBOOKS}
    status_before = _git_status_of_notebooks()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    for notebook in NOTEBOOKS:  # in order: 03 trains the model.keras that 04 and 05 read
        _open_notebook(page, lab_server, notebook)
        prompts = _run_all_cells(page, lab_server, notebook)
        # The notebook's end, saved before the checks so that a failure can be seen too.
        page.locator(".jp-NotebookPanel .jp-Cell").last.scroll_into_view_if_needed()
        page.screenshot(path=tmp_path / f"{notebook.stem}.png")
        _check_outputs(page, notebook, prompts)
        # One kernel at a time: each holds TensorFlow in memory.
        session = lab_server.session_for(notebook.name)
        lab_server.api(f"sessions/{session['id']}", method="DELETE")

    run_files = {path.name for path in lab_server.run_dir.iterdir()}
    assert {"model.keras", "history.csv", "submission.csv"} <= run_files, sorted(run_files)
    assert not page_errors, "JavaScript errors in JupyterLab:\n" + "\n".join(page_errors)
    assert {path: path.read_bytes() for path in NOTEBOOKS} == originals, "notebooks/ was modified"
    # As git sees it: on a clean checkout (CI), `git status --porcelain notebooks/` stays empty.
    assert _git_status_of_notebooks() == status_before

    # make predict, with no MODEL_FILE, uses the model this Lab session trained (runs/latest).
    photo = tmp_path / "data" / "synthetic" / "test1" / "1.jpg"
    predict = subprocess.run(
        [sys.executable, "-m", "helpers.cli.predict", str(photo)],
        cwd=tmp_path,
        env={**os.environ, "CATSDOGS_ROOT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert predict.returncode == 0, predict.stderr
    assert "1.jpg" in predict.stdout and "1 images:" in predict.stdout
    assert (tmp_path / "runs" / "latest").resolve() == lab_server.run_dir
