"""Runs commands in a sandbox over a read-only builder (bwrap, else what --isolation allows), within limits; argv building is pure."""

from __future__ import annotations

import collections
import json
import os
import re
import select
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, TextIO

from s2i.build import chroot, isolation, netns
from s2i.build.isolation import NETWORK_NOTES
from s2i.build.limits import Confinement, Limits
from s2i.build.started import Run, watch_limits
from s2i.errors import BuildError, S2IError
from s2i.progress import log as progress, output

LINE_CAP = 4096  # bytes of one output line that are kept and printed
OUTPUT_CAP = 64 << 20  # bytes of output printed and logged; past it only the last lines are kept
START_ATTEMPTS = 3  # bwrap now and then fails setting up loopback on a loaded machine (RTM_NEWADDR): transient


class SandboxNotStarted(S2IError):
    """bwrap failed before the build's command ran."""


@dataclass(frozen=True)
class Bind:
    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class Sandbox:
    rootfs: Path
    binds: tuple[Bind, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    uid: int = 65532
    gid: int = 65532
    workdir: str = "/"
    network: str = "default"  # a key of NETWORK_NOTES
    hostname: str = ""  # the UTS name inside (its own namespace); empty keeps bwrap's default
    host_proc: bool = False  # this machine's /proc bound in, where a fresh one cannot be mounted (masked paths)


def bwrap_argv(sandbox: Sandbox, command: list[str], control: tuple[str, ...] = ()) -> list[str]:
    """Only the rootfs and the named binds are visible; /tmp is private; the env is exactly `env`."""
    argv = [
        "bwrap", "--ro-bind", str(sandbox.rootfs), "/",
        "--dev", "/dev", *(("--bind", "/proc", "/proc") if sandbox.host_proc else ("--proc", "/proc")), "--tmpfs", "/tmp",
        "--unshare-all", "--die-with-parent", "--new-session",
        "--uid", str(sandbox.uid), "--gid", str(sandbox.gid),
        "--clearenv",
    ]
    if sandbox.network == "host":
        argv.append("--share-net")
    if sandbox.hostname:
        argv += ["--hostname", sandbox.hostname]
    for bind in sandbox.binds:
        argv += ["--bind" if bind.writable else "--ro-bind", str(bind.source), bind.target]
    for key, value in sandbox.env:
        argv += ["--setenv", key, value]
    argv += [*control, "--chdir", sandbox.workdir, "--", *command]
    return argv


def prepare_mountpoints(sandbox: Sandbox) -> None:
    """bwrap cannot create mount points on a read-only root, so they are made in the cached rootfs."""
    for name in ("dev", "proc", "tmp"):
        path = sandbox.rootfs / name
        if not path.exists() and not path.is_symlink():
            path.mkdir()
    for bind in sandbox.binds:
        target = sandbox.rootfs / bind.target.lstrip("/")
        if target.exists() or target.is_symlink():
            continue
        if bind.source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()


def with_resolver(sandbox: Sandbox, scratch: Path) -> Sandbox:
    """The build's /etc/resolv.conf: slirp4netns's forwarder, or this machine's with --network host."""
    if sandbox.network == "default":
        conf = scratch / "resolv.conf"
        conf.write_text(f"nameserver {netns.DNS}\n")
    elif sandbox.network == "host" and Path("/etc/resolv.conf").is_file():
        conf = Path("/etc/resolv.conf")
    else:
        return sandbox
    return replace(sandbox, binds=(*sandbox.binds, Bind(conf, "/etc/resolv.conf")))


def capped_lines(stream: BinaryIO, cap: int = LINE_CAP) -> Iterator[str]:
    """The stream's lines, each cut at `cap` bytes with a marker; the rest of a longer line is read and dropped."""
    while chunk := stream.readline(cap):
        line, dropped = chunk, 0
        while not chunk.endswith(b"\n") and (chunk := stream.readline(cap)):
            dropped += len(chunk.rstrip(b"\n"))
        text = line.rstrip(b"\n").decode(errors="replace")
        yield f"{text} [s2i: {dropped} more bytes of this line not shown]" if dropped else text


def isolate(sandbox: Sandbox, requested: str = "auto") -> tuple[Sandbox, isolation.Isolation]:
    """The sandbox as this machine can give it (see isolation.choose), said on stderr."""
    prepare_mountpoints(sandbox)
    # no network namespace for the trial: one made and torn down just before the build's has been seen to fail its loopback
    trial = Sandbox(sandbox.rootfs, network="host")
    probe = isolation.probe(tuple(bwrap_argv(trial, ["true"])), tuple(bwrap_argv(replace(trial, host_proc=True), ["true"])))
    chosen = isolation.choose(requested, sandbox.network, probe)
    progress(chosen.describe())
    if chosen.host_proc:
        # the build runs as s2i's own uid and sees it in /proc: its environ and memory (credentials) stay unreadable
        isolation.not_dumpable()
    return replace(sandbox, network=chosen.network, host_proc=chosen.host_proc), chosen


def run_logged(sandbox: Sandbox, command: list[str], prefix: str, log: TextIO | None = None,
               limits: Limits | None = None, tail_lines: int = 15, requested: str = "auto") -> None:
    """Stream output to stderr (prefixed, capped) and to the log; stop the build at a limit; on failure raise with the last lines."""
    tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
    sandbox, chosen = isolate(sandbox, requested)
    start = _started if chosen.kind == "bwrap" else partial(chroot.started, drop=chosen.kind == "chroot")
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            with tempfile.TemporaryDirectory(prefix="s2i-sandbox-") as scratch:
                confined = with_resolver(sandbox, Path(scratch))
                prepare_mountpoints(confined)
                with start(confined, command, limits or Limits(), Path(scratch)) as run:
                    _echo(noting_refused_forks(run, capped_lines(run.process.stdout)), prefix, log, tail)
                    code = run.process.wait()
            break
        except SandboxNotStarted as exc:  # the command never ran (bwrap holds it back): starting again is safe
            if attempt == START_ATTEMPTS:
                raise
            progress(f"{exc.message}; starting it again ({attempt + 1} of {START_ATTEMPTS})")
            time.sleep(attempt)
    if run.breach:
        raise BuildError(*run.breach)
    if code != 0:
        raise BuildError(f"{prefix} failed (exit {code}): {summary_line(tail)}", "see the build output above" + (f" or {log.name}" if log else ""))


def summary_line(tail: Iterable[str]) -> str:
    """The step's own `s2i:` line (its one-line verdict), else the tool's last error line (it says more than a trailing
    "try --help"), else the last line: an install's make error earlier in the tail must not hide the step's reason."""
    meaningful = [line.strip() for line in tail if line.strip()]
    own = [line for line in meaningful if line.startswith("s2i: ")]
    errors = [line for line in meaningful if "error" in line.lower() or line.startswith("E:")]
    return (own or errors or meaningful or ["no output"])[-1]


# how sh, bash, make and Python report fork() failing with EAGAIN
REFUSED_FORK = re.compile(r"\b(cannot|can't|unable to) fork\b|fork: (retry|Resource temporarily unavailable)|"
                          r"fork\(\) failed|\[Errno 11\] Resource temporarily unavailable", re.IGNORECASE)


def noting_refused_forks(run: Run, lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if not run.fork_refused and REFUSED_FORK.search(line):
            run.fork_refused = True
        yield line


def _echo(lines: Iterator[str], prefix: str, log: TextIO | None, tail: collections.deque[str]) -> None:
    shown = 0
    for line in lines:
        tail.append(line)
        if shown > OUTPUT_CAP:
            continue
        shown += len(line) + 1
        if shown > OUTPUT_CAP:
            line = f"s2i: more than {OUTPUT_CAP >> 20} MiB of output; the rest is neither shown nor logged"
        output(f"[{prefix}] {line}")
        if log:
            log.write(line + "\n")


@contextmanager
def _started(sandbox: Sandbox, command: list[str], limits: Limits, scratch: Path) -> Iterator[Run]:
    """bwrap holds the command back (--block-fd) until the limits and the network are in place."""
    info_r, info_w = os.pipe()
    block_r, block_w = os.pipe()
    with ExitStack() as cleanup:  # unwinds after stop(): the build is gone by then
        cleanup.callback(os.close, block_w)
        try:
            process = subprocess.Popen(
                bwrap_argv(sandbox, command, ("--info-fd", str(info_w), "--block-fd", str(block_r))),
                pass_fds=(info_w, block_r), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True, env=netns.tool_env())  # bwrap gives the build its env itself
        except FileNotFoundError:
            os.close(info_r)
            raise S2IError("bwrap is not installed", "install bubblewrap (apt-get install bubblewrap)") from None
        finally:
            os.close(info_w)
            os.close(block_r)
        run = Run(process)
        try:
            confinement = _prepare(run, _read_info(info_r), sandbox, limits, scratch, cleanup)
            try:
                if confinement:
                    os.write(block_w, b"go")
            except BrokenPipeError:
                pass  # bwrap failed before making the sandbox, and its output says why
            yield run
            if confinement and run.process.wait() != 0 and not run.breach:
                run.breach = confinement.breach(run.fork_refused)  # a build that failed at a cap it hit between two samples
        finally:
            run.stop()


def _prepare(run: Run, info: dict | None, sandbox: Sandbox, limits: Limits, scratch: Path, cleanup: ExitStack) -> Confinement | None:
    """Limits and network around the sandbox bwrap made (described by `info`), before its command runs."""
    if not info:
        return None
    try:
        run.pidfds.append(os.pidfd_open(info["child-pid"]))
        confinement = Confinement(limits, info["child-pid"], f"pid:[{info['pid-namespace']}]")
        cleanup.callback(confinement.release)
        confinement.apply()
        if sandbox.network == "default":
            cleanup.enter_context(netns.outbound(info["child-pid"], scratch))
    except (S2IError, OSError) as exc:
        run.stop()  # then what bwrap printed, if it failed on its own meanwhile, is all there is to read
        complaint = run.process.stdout.read(LINE_CAP).decode(errors="replace").strip().splitlines()
        if complaint:
            raise SandboxNotStarted(f"the build sandbox did not start: {complaint[-1]}", "check that bwrap works here: bwrap --ro-bind / / true") from exc
        if isinstance(exc, S2IError):
            raise
        raise S2IError(f"could not set up the build sandbox: {exc}", "run the build again") from exc
    watch_limits(run, confinement, limits, NETWORK_NOTES[sandbox.network])
    return confinement


def _read_info(fd: int) -> dict | None:
    """bwrap's --info-fd JSON (child-pid, namespaces), or None when bwrap exits before writing it."""
    data = b""
    with os.fdopen(fd, "rb", buffering=0) as stream:
        while select.select([stream], [], [], 60)[0] and (chunk := stream.read(4096)):
            data += chunk
            try:
                return json.loads(data)
            except ValueError:
                continue
    return None


def run_interactive(sandbox: Sandbox, command: list[str]) -> int:
    prepare_mountpoints(sandbox)
    return subprocess.run(bwrap_argv(sandbox, command)).returncode


def host_ca_bundle() -> Path:
    path = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
    if not path.is_file():
        raise S2IError(f"no CA bundle at {path}", "set SSL_CERT_FILE to your CA bundle")
    return path
