"""A started build: the watchdog that holds it to its limits, and a stop that leaves none of its processes behind."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time

from s2i.build.limits import Confinement, Limits
from s2i.progress import log as progress


class Run:
    """A started bwrap and the sandbox it made; stop() leaves no process of it behind."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.pidfds = [os.pidfd_open(process.pid)]  # pidfds: a signal never reaches a recycled pid
        self.breach: tuple[str, str] | None = None
        self.fork_refused = False  # the build printed a refused fork: the one trace RLIMIT_NPROC leaves
        self.done = threading.Event()
        self.watchdog: threading.Thread | None = None

    def watch(self, confinement: Confinement, seconds: float) -> None:
        deadline = time.monotonic() + seconds

        def loop() -> None:
            while not self.done.wait(0.1):
                breach = confinement.breach(self.fork_refused)
                if time.monotonic() > deadline:
                    breach = (f"the build ran longer than {seconds:g} s", "raise --build-timeout")
                if breach:
                    self.breach = breach
                    self.kill()
                    return

        self.watchdog = threading.Thread(target=loop, name="s2i-build-limits", daemon=True)
        self.watchdog.start()

    def kill(self) -> None:
        """The sandbox's init first: when it dies the kernel kills everything in its pid namespace."""
        for pidfd in reversed(self.pidfds):
            try:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        if self.done.is_set():
            return
        self.done.set()
        if self.watchdog:  # before the pidfds close under it
            self.watchdog.join()
        self.kill()
        self.process.wait()
        self.reap()
        for pidfd in self.pidfds:
            os.close(pidfd)

    def reap(self) -> None:
        if len(self.pidfds) > 1:  # readable once the init, and so every process of its namespace, is gone
            select.select([self.pidfds[1]], [], [], 30)


def watch_limits(run: Run, confinement: Confinement, limits: Limits, network_note: str) -> None:
    """Say which caps hold the build and on which network it runs, then hold it to them."""
    progress(f"build limits: {confinement.summary()}; {network_note}")
    run.watch(confinement, limits.seconds)
