"""Kill a command at seeded moments, as a power cut or the OOM killer would, then run it again.

The fault-injection tests (tests/test_kills.py, the end-to-end smoke run, tests/make_data) start
a command, wait for a moment of its work (a line it prints, a file it starts writing), then
SIGKILL it with every process it started (notebook kernels included), check what it left, and
run it again until it completes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from helpers.artifacts import write_json
from helpers.config import ENV_PREFIX
from helpers.summary import describe_machine

POLL_S = 0.002  # how often a moment is looked for: a save of a few milliseconds is still caught


@dataclass(frozen=True)
class Moment:
    """When to kill: `delay` seconds after `ready` (given the output so far) first holds."""

    name: str
    ready: Callable[[str], bool]
    delay: float = 0.0


def after_line(name: str, text: str, delay: float = 0.0) -> Moment:
    """The moment `delay` seconds after the command prints a line holding `text`."""
    return Moment(name, lambda output: text in output, delay)


def while_exists(name: str, folder: Path, pattern: str, delay: float = 0.0) -> Moment:
    """The moment a file matching `pattern` appears under `folder` (a write under way)."""
    return Moment(name, lambda _: any(Path(folder).glob(pattern)), delay)


def seeded_delays(seed: int, count: int, longest: float) -> list[float]:
    """`count` kill delays in [0, longest) seconds, the same for the same seed."""
    rng = random.Random(seed)
    return [round(rng.uniform(0, longest), 3) for _ in range(count)]


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all it started, stopping them first so that none starts another."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    tree: dict[int, psutil.Process] = {}
    for _ in range(3):  # stopped processes start no more; look again for those started meanwhile
        for process in [root, *root.children(recursive=True)]:
            if process.pid not in tree:
                tree[process.pid] = process
                try:
                    process.send_signal(signal.SIGSTOP)
                except psutil.NoSuchProcess:
                    pass
    for process in tree.values():
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(list(tree.values()), timeout=30)


@dataclass
class Attempt:
    """One start of the command: killed at its moment, or finished first (`returncode`)."""

    moment: str
    killed: bool
    returncode: int | None
    output: str
    seconds: float


def run_once(
    command: Sequence[str],
    env: dict[str, str],
    moment: Moment | None,
    timeout: float = 600,
) -> Attempt:
    """Run `command`; SIGKILL it (and its children) at `moment`, unless it finishes first."""
    process = subprocess.Popen(
        list(command),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    started = time.monotonic()
    deadline = started + timeout
    killed, due = False, None
    try:
        while process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{command} ran past {timeout} s:\n{''.join(lines)[-3000:]}")
            if moment is not None and due is None and moment.ready("".join(lines)):
                due = time.monotonic() + moment.delay
            if due is not None and time.monotonic() >= due:
                kill_tree(process.pid)
                killed = True
                break
            time.sleep(POLL_S)
    finally:
        if process.poll() is None:
            kill_tree(process.pid)
        process.wait()
        reader.join(timeout=10)
    return Attempt(
        moment.name if moment else "none",
        killed,
        None if killed else process.returncode,
        "".join(lines),
        round(time.monotonic() - started, 1),
    )


@dataclass
class KillReport:
    """One command's fault injection: what was tried, what was found after each kill."""

    command: str
    attempts: list[Attempt] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # a half-written or lost file, each
    completed: bool = False

    @property
    def kills(self) -> int:
        return sum(attempt.killed for attempt in self.attempts)

    def row(self) -> dict[str, object]:
        """The reliability table's row: kills tried, runs recovered, files lost."""
        return {
            "command": self.command,
            "kills": self.kills,
            "recovered": self.kills if self.completed else 0,
            "files_lost_or_half_written": len(self.findings),
            "moments": ", ".join(a.moment for a in self.attempts if a.killed),
        }


def kill_then_complete(
    name: str,
    command: Sequence[str],
    env: dict[str, str],
    moments: Sequence[Moment],
    check: Callable[[], list[str]],
    timeout: float = 600,
) -> KillReport:
    """Run `command` once per moment, killed there, `check`ing after each; then once to the end.

    A run that ends before its moment comes ends the kills (the caller counts the kills that
    landed). `check` returns what is wrong with the files (a half-written file under its final
    name, a file of the user's gone); the report holds it all. The last run must complete.
    """
    report = KillReport(name)
    for moment in moments:
        attempt = run_once(command, env, moment, timeout)
        report.attempts.append(attempt)
        if not attempt.killed:  # it ended before the moment came: the moments left are moot
            assert attempt.returncode == 0, f"{name} failed:\n{attempt.output[-3000:]}"
            report.completed = True
            report.findings += [f"after completing: {finding}" for finding in check()]
            return report
        report.findings += [f"after a kill at {moment.name}: {finding}" for finding in check()]
    final = run_once(command, env, None, timeout)
    report.attempts.append(final)
    assert final.returncode == 0, f"{name} did not end after the kills:\n{final.output[-3000:]}"
    report.completed = True
    report.findings += [f"after completing: {finding}" for finding in check()]
    return report


def smoke_run_all(data_dir: Path, run_dir: Path, *settings: str) -> list[str]:
    """`make run-all PROFILE=smoke`'s program with these folders and NAME=value settings."""
    command = [sys.executable, "-m", "helpers.cli.run_all", "--profile", "smoke"]
    for setting in (f"DATA_DIR={data_dir}", f"RUN_DIR={run_dir}", *settings):
        command += ["--set", setting]
    return command


def environment_without() -> dict[str, str]:
    """This process's environment without the project's settings (each test sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}


KILL_REPORT = "KILL_REPORT"  # a JSON-lines file the kill tests add their rows to, when set


def record_kills(report: KillReport) -> None:
    """Add the report's row to $KILL_REPORT (make kills writes the reliability table from it)."""
    target = os.environ.get(KILL_REPORT)
    if not target:
        return
    with open(target, "a") as file:
        file.write(json.dumps(report.row()) + "\n")
    machine = Path(target).with_name("machine.json")
    if not machine.exists():
        write_json(describe_machine(), machine)
