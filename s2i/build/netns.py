"""Outbound-only network for a sandbox: slirp4netns in its network namespace, the host's own addresses unroutable."""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from s2i.errors import S2IError

DNS = "10.0.2.3"  # slirp4netns forwards it to the host's resolver
NS_GET_USERNS = 0xB701  # ioctl: the user namespace that owns a namespace
TOOLS = {"slirp4netns": "slirp4netns", "nsenter": "util-linux", "ip": "iproute2"}
HINT = "or pass --network host to share this machine's network, or --network none"


def tool_env() -> dict[str, str]:
    """The environment of the tools around a build: PATH only, never s2i's (credentials), which a build seeing this machine's /proc could read."""
    return {"PATH": os.environ["PATH"]} if "PATH" in os.environ else {}


def host_addresses(fib_trie: str) -> list[str]:
    """This machine's own IPv4 addresses (LOCAL in /proc/net/fib_trie) outside 127/8."""
    found, last = set(), ""
    for line in fib_trie.splitlines():
        words = line.split()
        if line.lstrip().startswith("|--") and len(words) == 2:
            last = words[1]
        elif words[-2:] == ["host", "LOCAL"] and last and not last.startswith("127."):
            found.add(last)
    return sorted(found)


@contextmanager
def outbound(pid: int, scratch: Path) -> Iterator[None]:
    """Connect the network namespace of process `pid` to the internet; the host's services stay out of reach.

    slirp4netns relays connections from the host as this user; --disable-host-loopback refuses its
    gateway's way to 127.0.0.1, and unreachable routes keep the host's other addresses (where a
    daemon listening on 0.0.0.0 would answer) out. It exits when the exit pipe closes, so also when s2i dies.
    """
    for tool, package in TOOLS.items():
        if not shutil.which(tool):
            raise S2IError(f"the build's network needs {tool}, which is not installed", f"install {package} (apt-get install {package}) {HINT}")
    netns = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    # bwrap moves the build into a nested user namespace, so join the one owning the netns
    owner = fcntl.ioctl(netns, NS_GET_USERNS)
    ready_r, ready_w = os.pipe()
    exit_r, exit_w = os.pipe()
    fds, slirp = [netns, owner, ready_r, exit_w], None
    try:
        with open(scratch / "slirp4netns.log", "w+") as errors:
            try:
                slirp = subprocess.Popen(
                    ["slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", f"--ready-fd={ready_w}",
                     f"--exit-fd={exit_r}", f"--userns-path=/proc/self/fd/{owner}", "--netns-type=path", f"/proc/{pid}/ns/net", "tap0"],
                    pass_fds=(ready_w, exit_r, owner), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                    env=tool_env())
            finally:
                os.close(ready_w)
                os.close(exit_r)
            _wait_ready(ready_r, errors)
            _block_host(pid, owner)
            yield
    finally:
        for fd in fds:  # closing exit_w tells slirp4netns to exit
            os.close(fd)
        if slirp:
            try:
                slirp.wait(timeout=5)
            except subprocess.TimeoutExpired:
                slirp.kill()
                slirp.wait()


def _wait_ready(ready: int, errors) -> None:
    readable, _, _ = select.select([ready], [], [], 10)
    if readable and os.read(ready, 1) == b"1":
        return
    errors.seek(0)
    lines = [line.strip() for line in errors.read().splitlines() if line.strip()]
    reason = "; ".join(lines[-2:]) if lines else "it did not start within 10 s"  # the cause, then "child failed"
    hint = "make /dev/net/tun usable (chmod 0666 /dev/net/tun) " if "/dev/net/tun" in reason else ""
    raise S2IError(f"could not set up the build's network: slirp4netns: {reason}", f"{hint}{HINT}".strip())


def _block_host(pid: int, owner: int) -> None:
    routes = "".join(f"route add unreachable {address}/32\n" for address in host_addresses(Path("/proc/net/fib_trie").read_text()))
    if not routes:
        return
    done = subprocess.run(["nsenter", f"--user=/proc/self/fd/{owner}", f"--net=/proc/{pid}/ns/net", "--preserve-credentials",
                           "ip", "-batch", "-"], input=routes, pass_fds=(owner,), capture_output=True, text=True, timeout=10,
                          env=tool_env())
    if done.returncode != 0:
        raise S2IError(f"could not close the build's way to this machine's addresses: {done.stderr.strip()}", HINT)
