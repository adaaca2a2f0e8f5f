"""Build limits: a deadline, a process cap and a log cap; a build past one is stopped whole and named in one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from s2i.build.sandbox import Bind, Sandbox, run_logged
from s2i.errors import EXIT_BUILD, S2IError
from tests.adversarial.sandbox_apps import FirstSeen, c_app, last_line, processes_with
from tests.e2e.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e


def assert_nothing_half_written(builder, app) -> None:
    store = builder.cache / "s2i"
    assert not (store / "refs" / "builds" / app.name).exists()
    assert not list(store.glob(".build-*"))


def failed_build(builder, app, timeout: str, marker: str) -> tuple[str, float]:
    """Build `app` with --build-timeout `timeout`; its stderr and how long s2i ran once `marker` ran in the build."""
    started = FirstSeen(marker)  # not s2i's start: unpacking the builder first may take a while on a busy host
    result = builder("build", app, "--build-timeout", timeout, timeout=300)
    assert result.returncode == EXIT_BUILD, result.stderr
    return result.stderr, started.seconds_since()


def test_endless_build_is_stopped_at_its_timeout_with_everything_it_started(builder, tmp_path):
    # a background sleeper and a foreground one: both must go
    app = c_app(tmp_path / "endless", "sleep 987651 & sleep 987652")
    stderr, elapsed = failed_build(builder, app, "5", "987652")
    assert last_line(stderr) == "s2i: error: the build ran longer than 5 s (raise --build-timeout)"
    assert elapsed < 25
    assert processes_with("98765") == []
    assert_nothing_half_written(builder, app)


def test_fork_bomb_is_capped_stopped_and_named(builder, tmp_path):
    # exec: the shell at the top needs no fork of its own, so only the limit can end this build;
    # the second's sleep first lets the test see the marked shell start (at the cap it lives < 0.1 s)
    app = c_app(tmp_path / "bomb", "sh -c 'sleep 1; bomb() { bomb | bomb & }; bomb; exec sleep 876543'")
    stderr, elapsed = failed_build(builder, app, "120", "876543")
    limit = max(4096, 256 * (os.cpu_count() or 1))
    assert re.search(rf"build limits: .*{limit} processes \((pids cgroup|RLIMIT_NPROC)\)", stderr)
    assert last_line(stderr) == (
        f"s2i: error: the build reached the limit of {limit} processes and was stopped "
        "(a build that forks without end, like a fork bomb, cannot finish; fix its build commands)")
    assert elapsed < 60  # stopped at the cap, not at the 120 s timeout
    assert processes_with("876543") == []
    assert_nothing_half_written(builder, app)


def test_a_megabyte_output_line_is_cut(builder, tmp_path):
    app = c_app(tmp_path / "loud", "python3 -c \"print('x' * 1000000)\"")
    result = builder("build", app, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "x" * 4096 + " [s2i: 995904 more bytes of this line not shown]" in result.stderr
    assert "x" * 4097 not in result.stderr and len(result.stderr) < 100_000


def test_build_timeout_must_be_a_positive_number(builder, tmp_path):
    result = builder("build", c_app(tmp_path / "app"), "--build-timeout", "0")
    assert result.returncode == 2 and "--build-timeout" in result.stderr and "0" in result.stderr


# Run as an unprivileged user, where RLIMIT_NPROC (not a root-only cgroup) caps processes.
UNPRIVILEGED = r'''
import sys, time
from pathlib import Path
from s2i.build.limits import Limits
from s2i.build.sandbox import Sandbox, run_logged
from s2i.errors import S2IError
sandbox = Sandbox(Path("/"), env=(("PATH", "/usr/bin:/bin"),), network="none")
try:
    run_logged(sandbox, ["/bin/sh", "-c", sys.argv[1]], "unprivileged", limits=Limits(seconds=float(sys.argv[2]), processes=512))
except S2IError as exc:
    print("ERROR", exc.one_line())
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="as non-root, the build tests above already run unprivileged")
@pytest.mark.parametrize("script, seconds, expected", [
    ("bomb() { bomb | bomb & }; bomb; exec sleep 765431", 30, "ERROR the build reached the limit of 512 processes and was stopped"),
    ("sleep 765432 & sleep 765433", 3, "ERROR the build ran longer than 3 s (raise --build-timeout)"),
])
def test_limits_hold_for_an_unprivileged_user(script, seconds, expected):
    """The host's own root filesystem stands in for the builder, which lives in a directory only root can read."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "PYTHONPATH": str(REPO_ROOT)}
    started = time.monotonic()
    done = subprocess.run(["setpriv", "--reuid=65533", "--regid=65533", "--clear-groups", sys.executable, "-P", "-c", UNPRIVILEGED,
                           script, str(seconds)], env=env, capture_output=True, text=True, timeout=120, cwd="/")
    assert done.stdout.strip().splitlines()[-1].startswith(expected), done.stdout + done.stderr
    assert "processes (RLIMIT_NPROC)" in done.stderr
    assert time.monotonic() - started < 60
    assert processes_with("76543") == []


@pytest.mark.parametrize("network", ["default", "none"])
def test_a_sandbox_that_cannot_start_is_one_line(network, tmp_path):
    """bwrap dies while the network and limits are put around it: its own message, not a traceback."""
    sandbox = Sandbox(Path("/"), (Bind(tmp_path / "missing", "/opt"),), network=network)
    with pytest.raises(S2IError) as caught:
        run_logged(sandbox, ["/bin/true"], "start")
    # "did not start" when it died during the set-up, "failed (exit 1)" once it was released
    assert re.fullmatch(rf"(the build sandbox did not start|start failed \(exit 1\)): bwrap: Can't find source path "
                        rf"{tmp_path}/missing: No such file or directory \(.*\)", caught.value.one_line())
