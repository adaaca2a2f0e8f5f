"""Runs commands in a bubblewrap sandbox over a read-only root filesystem; argv building is pure."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from s2i.errors import S2IError


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
    network: bool = True


def bwrap_argv(sandbox: Sandbox, command: list[str]) -> list[str]:
    """Only the rootfs and the named binds are visible; /tmp is private; the env is exactly `env`."""
    argv = [
        "bwrap", "--ro-bind", str(sandbox.rootfs), "/",
        "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
        "--unshare-all", "--die-with-parent", "--new-session",
        "--uid", str(sandbox.uid), "--gid", str(sandbox.gid),
        "--clearenv",
    ]
    if sandbox.network:
        argv.append("--share-net")
    for bind in sandbox.binds:
        argv += ["--bind" if bind.writable else "--ro-bind", str(bind.source), bind.target]
    for key, value in sandbox.env:
        argv += ["--setenv", key, value]
    argv += ["--chdir", sandbox.workdir, "--", *command]
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


def run_logged(sandbox: Sandbox, command: list[str], prefix: str, log: TextIO | None = None, tail_lines: int = 15) -> None:
    """Stream output to stderr (prefixed) and to the log; on failure raise with the last lines."""
    prepare_mountpoints(sandbox)
    tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
    try:
        process = subprocess.Popen(bwrap_argv(sandbox, command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    except FileNotFoundError:
        raise S2IError("bwrap is not installed", "install bubblewrap (apt-get install bubblewrap)") from None
    for line in process.stdout:
        line = line.rstrip("\n")
        tail.append(line)
        print(f"[{prefix}] {line}", file=sys.stderr, flush=True)
        if log:
            log.write(line + "\n")
    code = process.wait()
    if code != 0:
        meaningful = [line.strip() for line in tail if line.strip()]
        # the tool's own error line says more than a trailing "try --help"
        errors = [line for line in meaningful if "error" in line.lower() or line.startswith("E:")]
        last = (errors or meaningful or ["no output"])[-1]
        raise S2IError(f"{prefix} failed (exit {code}): {last}", "see the build output above" + (f" or {log.name}" if log else ""))


def run_interactive(sandbox: Sandbox, command: list[str]) -> int:
    prepare_mountpoints(sandbox)
    return subprocess.run(bwrap_argv(sandbox, command)).returncode


def host_ca_bundle() -> Path:
    path = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
    if not path.is_file():
        raise S2IError(f"no CA bundle at {path}", "set SSL_CERT_FILE to your CA bundle")
    return path
