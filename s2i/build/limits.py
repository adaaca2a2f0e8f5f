"""Build limits: a process and a memory cap put on a running sandbox, through a cgroup where one is writable."""

from __future__ import annotations

import os
import resource
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "s2i-build-"


def default_processes() -> int:
    # threads count too, and `go build` runs a many-threaded compiler per CPU
    return max(4096, 256 * (os.cpu_count() or 1))


def default_memory() -> int:
    """Three quarters of this machine's memory, so the host keeps room to stop the build."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024 * 3 // 4
    return 0


@dataclass(frozen=True)
class Limits:
    """What one build may use; processes counts threads, memory is in bytes."""

    seconds: float = 1800
    processes: int = field(default_factory=default_processes)
    memory: int = field(default_factory=default_memory)


def cgroup_parents(proc_cgroup: str, root: Path = CGROUP_ROOT) -> list[Path]:
    """Where a child cgroup may be made: ours and our parent on cgroup v2, ours in the v1 pids hierarchy."""
    paths = dict(line.split(":", 2)[1:] for line in proc_cgroup.splitlines() if line.count(":") >= 2)
    parents = []
    if (root / "cgroup.controllers").is_file() and "" in paths:
        own = root / paths[""].lstrip("/")
        # a v2 cgroup holding processes (ours) cannot hand controllers down, but its parent may
        parents += [own] + ([own.parent] if own != root else [])
    if (root / "pids" / "tasks").is_file() and "pids" in paths:
        # root is exempt from RLIMIT_NPROC, so on a v1 host this is its only process cap;
        # v1 memory is left alone: that hierarchy belongs to whatever runs us (container, session)
        parents.append(root / "pids" / paths["pids"].lstrip("/"))
    return parents


class Confinement:
    """The caps put on one running sandbox (its first process `pid`, in pid namespace `pid_ns`)."""

    def __init__(self, limits: Limits, pid: int, pid_ns: str, host_uid: int | None = None):
        self.limits, self.pid, self.pid_ns = limits, pid, pid_ns
        self.host_uid = os.geteuid() if host_uid is None else host_uid  # whom the build's processes count against
        self.groups: list[Path] = []
        self.pids_group: Path | None = None
        self.memory_group: Path | None = None
        self.nproc = False
        self.peak = 0  # most processes seen at once, where RLIMIT_NPROC has no counter to read

    def apply(self) -> None:
        for parent in cgroup_parents(Path("/proc/self/cgroup").read_text()):
            if self.pids_group and self.memory_group:
                break
            self._try_cgroup(parent)
        if not self.pids_group and self.host_uid != 0:
            # set on the sandbox's first process, after its user namespace exists, so only its own
            # processes count (set before, every process of this user on the host would)
            resource.prlimit(self.pid, resource.RLIMIT_NPROC, (self.limits.processes, self.limits.processes))
            self.nproc = True

    def _try_cgroup(self, parent: Path) -> None:
        _remove_stale(parent)
        group = parent / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            group.mkdir()
        except OSError:
            return
        wanted = {"pids.max": (self.pids_group is None, self.limits.processes),
                  "memory.max": (self.memory_group is None and self.limits.memory > 0, self.limits.memory)}
        applied = []
        try:
            for name, (needed, value) in wanted.items():
                if needed and (group / name).is_file():
                    (group / name).write_text(str(value))
                    applied.append(name)
            if applied:
                (group / "cgroup.procs").write_text(str(self.pid))
        except OSError:
            applied = []
        if not applied:
            _rmdir(group)
            return
        self.groups.append(group)
        self.pids_group = group if "pids.max" in applied else self.pids_group
        self.memory_group = group if "memory.max" in applied else self.memory_group

    def summary(self) -> str:
        processes = (f"{self.limits.processes} processes (pids cgroup)" if self.pids_group
                     else f"{self.limits.processes} processes (RLIMIT_NPROC)" if self.nproc
                     else "processes not limited (root ignores RLIMIT_NPROC and no pids cgroup is writable)")
        memory = (f"memory {self.limits.memory >> 20} MiB (cgroup)" if self.memory_group
                  else "memory not limited (no writable cgroup v2 memory controller)")
        return f"{self.limits.seconds:g} s, {processes}, {memory}"

    def breach(self, fork_refused: bool = False) -> tuple[str, str] | None:
        """The limit the build has reached and a hint, if any: it is then stopped, not left to spin at the cap.

        `fork_refused`: the build's output told of a refused fork, which under RLIMIT_NPROC is the cap.
        """
        if self.memory_group and _event(self.memory_group / "memory.events", "oom_kill"):
            return f"the build ran out of memory (limit {self.limits.memory >> 20} MiB) and was stopped", "see the build output above"
        if self.pids_group:
            reached = _event(self.pids_group / "pids.events", "max") > 0
        else:
            # a fork bomb at the cap churns well below it (refused forks exit), so half of it counts;
            # no real build runs that many processes at once, its threads aside. A bomb can also end
            # itself between two samples (its top shell refused a fork): its output is then the trace
            self.peak = max(self.peak, self._count()) if self.nproc else 0
            reached = self.nproc and (self.peak >= self.limits.processes // 2 or fork_refused)
        if reached:
            return (f"the build reached the limit of {self.limits.processes} processes and was stopped",
                    "a build that forks without end, like a fork bomb, cannot finish; fix its build commands")
        return None

    def _count(self) -> int:
        """Processes in the sandbox's pid namespace (threads aside: a sample, not the kernel's count)."""
        count = 0
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    count += os.readlink(f"/proc/{entry.name}/ns/pid") == self.pid_ns
                except OSError:
                    pass
        return count

    def release(self) -> None:
        """Remove the cgroups, once nothing of the build is left in them."""
        for group in self.groups:
            _rmdir(group)


def _event(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _rmdir(group: Path) -> None:
    for _ in range(50):  # the kernel empties a cgroup shortly after its last process is reaped
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _remove_stale(parent: Path) -> None:
    """Cgroups left by an s2i that was killed: empty ones whose s2i process is gone."""
    try:
        stale = [p for p in parent.glob(f"{PREFIX}*") if not _alive(p.name[len(PREFIX):].partition("-")[0])]
    except OSError:
        return
    for group in stale:
        try:
            group.rmdir()
        except OSError:
            pass


def _alive(pid: str) -> bool:
    return pid.isdigit() and Path(f"/proc/{pid}").exists()
