"""The images' PID 1 (s2i/buildpacks/steps/launch.c), compiled as the build's step compiles it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from s2i.buildpacks.steps import common


@pytest.fixture(scope="module")
def launcher(tmp_path_factory) -> Path:
    binary = tmp_path_factory.mktemp("launcher") / "s2i-launch"
    subprocess.run(["musl-gcc", *common.LAUNCHER_FLAGS, "-o", str(binary), common.LAUNCHER_SOURCE], check=True, timeout=60)
    return binary


def test_it_is_small_and_static(launcher):
    assert launcher.stat().st_size < 40_000
    assert b"ld-linux" not in launcher.read_bytes()  # no interpreter: runs on scratch


def test_it_expands_variables_like_a_shell_would(launcher):
    args = ["a$PORT", "${W:-2}", "${PORT-x}", "${EMPTY:-d}", "${EMPTY-d}", "$", "x${", "${PORT}b", "${A B}", "$1"]
    result = subprocess.run([str(launcher), "/bin/echo", *args], capture_output=True, text=True, timeout=10,
                            env={"PORT": "8080", "EMPTY": ""})
    assert result.stdout == "a8080 2 8080 d  $ x${ 8080b ${A B} $1\n"


def test_a_missing_program_is_one_line_and_127(launcher):
    result = subprocess.run([str(launcher), "/nonexistent"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 127 and result.stderr == "s2i-launch: cannot run /nonexistent: not found\n"


def test_as_pid_1_it_forwards_sigterm_and_returns_the_apps_status(launcher, tmp_path):
    ready = tmp_path / "ready"
    script = f'trap "echo stopping; exit 3" TERM; sh -c "sleep 60" & touch {ready}; wait'
    process = subprocess.Popen(["unshare", "--fork", "--pid", "--mount-proc", str(launcher), "sh", "-c", script],
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid_1 = int(subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True, timeout=5).stdout.split()[0])
        started = time.monotonic()
        os.kill(pid_1, signal.SIGTERM)
        assert process.wait(timeout=5) == 3 and time.monotonic() - started < 2
        assert process.stdout.read() == "stopping\n"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_steps_run_before_the_app_and_a_failed_and_step_stops_it(launcher):
    def launch(*args):
        return subprocess.run([str(launcher), *args], capture_output=True, text=True, timeout=10, env={"PORT": "8080"})
    ran = launch("--s2i-then=2", "/bin/echo", "$PORT", "--s2i-then=1", "/bin/false", "--s2i-and=2", "/bin/echo", "two", "/bin/echo", "app")
    assert (ran.returncode, ran.stdout) == (0, "8080\ntwo\napp\n")  # `;` goes on after a failure
    stopped = launch("--s2i-and=3", "/bin/sh", "-c", "exit 4", "/bin/echo", "app")
    assert (stopped.returncode, stopped.stdout) == (4, "")  # `&&` does not


def test_sigterm_during_a_step_stops_the_steps_and_the_app_never_starts(launcher, tmp_path):
    ready = tmp_path / "ready"
    step = f'trap "exit 5" TERM; touch {ready}; sleep 60 & wait'
    process = subprocess.Popen(["unshare", "--fork", "--pid", "--mount-proc", str(launcher), "--s2i-then=3", "sh", "-c", step,
                                "/bin/echo", "app"], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid_1 = int(subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True, timeout=5).stdout.split()[0])
        os.kill(pid_1, signal.SIGTERM)
        assert process.wait(timeout=5) == 5 and process.stdout.read() == ""
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
