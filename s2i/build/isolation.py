"""Which isolation a build gets here (--isolation): probed once, chosen by a pure function, said on stderr."""

from __future__ import annotations

import ctypes
import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from s2i.build.netns import tool_env
from s2i.errors import S2IError, UsageError

MODES = ("auto", "bwrap", "chroot", "none")
NETWORK_NOTES = {
    "default": "network outbound only (slirp4netns; no host loopback or host addresses)",
    "host": "network shared with this machine, its services on 127.0.0.1 included",
    "none": "no network (--network none)",
}
# capabilities (bit numbers) a chroot run needs: enter the builder, give the build its files and /dev, drop to its uid
CHROOT_CAPS = {"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SYS_CHROOT": 18, "CAP_MKNOD": 27}
PR_SET_DUMPABLE = 4
NONE_CAPS = ("CAP_SYS_CHROOT", "CAP_MKNOD")
AS_NON_ROOT = "run s2i as a non-root user (bwrap then needs no capability), or grant it " + ", ".join(CHROOT_CAPS)


@dataclass(frozen=True)
class Probe:
    """What works on this machine; an empty string means it works, else the reason it does not."""

    bwrap: str  # bwrap with a fresh /proc
    bwrap_host_proc: str  # bwrap with this machine's /proc bound in
    chroot: str  # chroot as root, then setuid to the build's uid
    chroot_as_root: str  # chroot, staying root (--isolation none)
    tun: bool  # /dev/net/tun opens, so slirp4netns can give a network namespace its outbound link


@dataclass(frozen=True)
class Isolation:
    kind: str  # "bwrap", "chroot" or "none"
    network: str  # what the build gets, a key of sandbox.NETWORK_NOTES
    host_proc: bool = False
    notes: tuple[str, ...] = ()  # what this is short of full isolation, for stderr

    def describe(self) -> str:
        name = {"bwrap": "bwrap with this machine's /proc" if self.host_proc else "bwrap", "chroot": "chroot",
                "none": "none (chroot as root)"}[self.kind]
        return "; ".join((f"isolation: {name}", *self.notes))


def choose(requested: str, network: str, probe: Probe) -> Isolation:
    """The strongest isolation `requested` allows that works here; anything weaker than bwrap is said, never silent."""
    if requested not in MODES:
        raise UsageError(f"--isolation {requested!r} is not one of {', '.join(MODES)}", "set --isolation or S2I_ISOLATION to one of them")
    if requested == "none":
        if probe.chroot_as_root:
            raise S2IError(f"--isolation none still enters the builder with chroot, which fails here: {probe.chroot_as_root}",
                           AS_NON_ROOT)
        return _shared_network(Isolation("none", network, notes=(
            "asked for: the build runs as root inside a chroot it can leave, so it can change anything s2i can, its store included; for throwaway containers only",)), requested)
    if not probe.bwrap and requested in ("auto", "bwrap"):
        return _auto_network(Isolation("bwrap", network), probe) if requested == "auto" else Isolation("bwrap", network)
    if requested == "bwrap":
        raise S2IError(f"bwrap cannot run here: {probe.bwrap}", "pass --isolation auto to fall back to what works here, and be told what that means")
    if requested == "auto" and not probe.bwrap_host_proc:
        notes = (f"a fresh /proc cannot be mounted here ({probe.bwrap}), so the build sees this machine's processes "
                 "through its /proc, and can read those of the user s2i runs as",)
        return _auto_network(Isolation("bwrap", network, host_proc=True, notes=notes), probe)
    if probe.chroot:
        tried = f"bwrap: {probe.bwrap}; " if requested == "auto" else ""
        raise S2IError(f"no build isolation works here ({tried}chroot: {probe.chroot})", f"{AS_NON_ROOT}; or pass --isolation none")
    why = f"bwrap cannot run here ({probe.bwrap}), so " if requested == "auto" else ""
    return _shared_network(Isolation("chroot", network, notes=(
        f"{why}the build runs in a private copy of the builder as an unprivileged user, without namespaces: "
        "it shares this machine's processes and has no /proc; less isolation than bwrap",)), requested)


def _auto_network(isolation: Isolation, probe: Probe) -> Isolation:
    """bwrap's outbound-only network needs /dev/net/tun; where it is missing, auto shares the network and says so."""
    if isolation.network != "default" or probe.tun:
        return isolation
    return Isolation(isolation.kind, "host", isolation.host_proc, (*isolation.notes, (
        "no usable /dev/net/tun for the build's own outbound-only network, so it shares this machine's network, "
        "local services included (pass --network none to build offline)")))


def _shared_network(isolation: Isolation, requested: str) -> Isolation:
    """Without namespaces the build cannot be offline or outbound-only: it shares this machine's network."""
    if isolation.network == "none":
        raise UsageError(f"--network none needs a network namespace, which --isolation {requested} cannot make here",
                         "drop --network none, or run where bwrap works")
    if isolation.network == "host":
        return isolation
    return Isolation(isolation.kind, "host", notes=(*isolation.notes, "the build shares this machine's network, local services included"))


def not_dumpable() -> None:
    """Only a process with capabilities over s2i may read its /proc/PID/environ and mem, or ptrace it, from now on."""
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise S2IError(f"could not hide s2i's memory from the build: {os.strerror(ctypes.get_errno())}", "pass --isolation bwrap where it works")


def missing_caps(status: str, wanted) -> list[str]:
    """The capabilities in `wanted` that are not in the CapEff line of /proc/self/status text `status`."""
    effective = next((int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapEff:")), 0)
    return [name for name in wanted if not effective >> CHROOT_CAPS[name] & 1]


def _chroot_problem(wanted) -> str:
    if os.geteuid() != 0:
        return "s2i is not root"
    missing = missing_caps(Path("/proc/self/status").read_text(), wanted)
    return f"missing {', '.join(missing)}" if missing else ""


def _bwrap_problem(argv: list[str]) -> str:
    """bwrap's own complaint when it cannot start a sandbox with `argv`, else ""."""
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, env=tool_env())
    except FileNotFoundError:
        return "bwrap is not installed (apt-get install bubblewrap)"
    except subprocess.TimeoutExpired:
        return "bwrap did not finish a trial run within 30 s"
    lines = [line.strip().removeprefix("bwrap: ") for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    return "" if done.returncode == 0 else (lines[-1] if lines else f"bwrap exited {done.returncode}")


@functools.lru_cache(maxsize=8)
def probe(fresh_proc: tuple[str, ...], host_proc: tuple[str, ...]) -> Probe:
    """Try the two bwrap command lines (each runs `true` in the builder) and read what chroot would need."""
    fresh = _bwrap_problem(list(fresh_proc))
    return Probe(bwrap=fresh, bwrap_host_proc=_bwrap_problem(list(host_proc)) if fresh else "",
                 chroot=_chroot_problem(CHROOT_CAPS), chroot_as_root=_chroot_problem(NONE_CAPS),
                 tun=_tun_opens())


def _tun_opens() -> bool:
    """slirp4netns opens /dev/net/tun; a container may have none, or a device cgroup refusing it (opening makes no interface)."""
    try:
        os.close(os.open("/dev/net/tun", os.O_RDWR))
    except OSError:
        return False
    return True
