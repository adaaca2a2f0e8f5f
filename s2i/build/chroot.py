"""A build in a private hard-linked copy of the builder, entered with chroot as an unprivileged uid: where bwrap cannot run.

No namespaces: the copy stands in for bwrap's mounts (the build's writable directories are moved into it and back),
the build's uid stands in for its user namespace (it owns nothing in the copy, whose files stay root's), and
no_new_privs keeps setuid programs from giving root back.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from s2i.build.isolation import NETWORK_NOTES
from s2i.build.limits import Confinement, Limits
from s2i.build.started import Run, watch_limits
from s2i.errors import S2IError

if TYPE_CHECKING:
    from s2i.build.sandbox import Bind, Sandbox

PREFIX = ".chroot-"
LAUNCHER = Path(__file__).with_name("chroot_exec.py")
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}


class ChrootRun(Run):
    """Without a pid namespace, the build's processes are those whose root is its copy (or, unreadable, run as its uid)."""

    def __init__(self, process: subprocess.Popen, root: Path, uid: int):
        super().__init__(process)
        self.root, self.uid = str(root), uid

    def members(self) -> list[int]:
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if os.readlink(f"/proc/{entry.name}/root") == self.root:
                    found.append(int(entry.name))
            except PermissionError:  # no CAP_SYS_PTRACE: a process of the build's own (unprivileged) uid is one of its
                if self.uid and _real_uid(entry.name) == self.uid:
                    found.append(int(entry.name))
            except OSError:
                pass
        return found

    def kill(self) -> None:
        super().kill()
        for pid in self.members():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def reap(self) -> None:
        deadline = time.monotonic() + 30
        while self.members() and time.monotonic() < deadline:
            self.kill()
            time.sleep(0.05)

    def end_with_main(self) -> None:
        """What the build left running dies with its main process, as in bwrap's pid namespace (and closes the output)."""
        def wait() -> None:
            self.process.wait()
            self.reap()

        threading.Thread(target=wait, name="s2i-build-orphans", daemon=True).start()


@contextmanager
def started(sandbox: Sandbox, command: list[str], limits: Limits, scratch: Path, drop: bool = True) -> Iterator[Run]:
    """Run `command` in a copy of sandbox.rootfs as sandbox.uid (as root when not `drop`), held back until its limits hold."""
    _remove_stale(sandbox.rootfs.parent)
    root = sandbox.rootfs.parent / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    uid, gid = (sandbox.uid, sandbox.gid) if drop else (0, 0)
    with ExitStack() as cleanup:  # unwinds after stop(): the build is gone by then
        cleanup.callback(shutil.rmtree, root, ignore_errors=True)
        link_tree(sandbox.rootfs, root)
        _system_dirs(root)
        cleanup.callback(_move_back, _place_binds(sandbox.binds, root, (uid, gid)))
        block_r, block_w = os.pipe()
        cleanup.callback(os.close, block_w)
        spec = {"root": str(root), "workdir": sandbox.workdir, "uid": uid if drop else None, "gid": gid,
                "command": command, "block_fd": block_r}
        try:
            process = subprocess.Popen([sys.executable, "-I", str(LAUNCHER), json.dumps(spec)], env=dict(sandbox.env),
                                       pass_fds=(block_r,), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            os.close(block_r)
        run = ChrootRun(process, root, uid)
        try:
            confinement = Confinement(limits, process.pid, os.readlink("/proc/self/ns/pid"), uid)
            cleanup.callback(confinement.release)
            confinement.apply()
            watch_limits(run, confinement, limits, NETWORK_NOTES[sandbox.network])
            os.write(block_w, b"go")
            run.end_with_main()
            yield run
            if run.process.wait() != 0 and not run.breach:
                run.breach = confinement.breach(run.fork_refused)
        finally:
            run.stop()


def link_tree(source: Path, target: Path) -> None:
    """`target` as a copy of `source` whose files are hard links: root's files, which the build's uid cannot change."""
    for directory, dirs, files in os.walk(source):
        here = target / os.path.relpath(directory, source)
        info = os.lstat(directory)
        here.mkdir(mode=0o700)
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):  # os.walk does not enter links to directories: copied as links
                os.symlink(os.readlink(path), here / name)
            elif stat.S_ISREG(st.st_mode):
                if st.st_uid != 0 or st.st_mode & 0o002:  # a file the build could write is its own copy
                    shutil.copy2(path, here / name)
                else:
                    os.link(path, here / name)
        os.chown(here, info.st_uid, info.st_gid)
        os.chmod(here, stat.S_IMODE(info.st_mode))


def _system_dirs(root: Path) -> None:
    """/dev with the usual devices (bwrap's --dev), a sticky /tmp; /proc stays empty: mounting one needs namespaces."""
    for name in ("dev", "proc", "tmp"):
        _fresh_dir(root / name, 0o1777 if name == "tmp" else 0o755)
    for name, (major, minor) in DEVICES.items():
        os.mknod(root / "dev" / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(root / "dev" / name, 0o666)
    _fresh_dir(root / "dev" / "shm", 0o1777)


def _fresh_dir(path: Path, mode: int) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.mkdir()
    os.chmod(path, mode)


def _place_binds(binds: tuple[Bind, ...], root: Path, owner: tuple[int, int]) -> list[tuple[Path, Path]]:
    """Writable binds moved into the copy (deepest source first, as sources nest), owned by the build; the rest copied."""
    moved = []
    try:
        for bind in sorted(binds, key=lambda b: len(b.source.parts), reverse=True):
            target = _inside(root, bind.target)
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.is_dir():
                shutil.rmtree(target)
            if bind.writable:
                os.rename(bind.source, target)
                moved.append((bind.source, target))
                _chown_tree(target, owner)
            elif bind.source.is_dir():
                shutil.copytree(bind.source, target, symlinks=True)
            else:
                shutil.copyfile(bind.source, target)
                os.chmod(target, 0o644)
    except OSError as exc:
        _move_back(moved)
        raise S2IError(f"could not lay out the build's files in its chroot: {exc}", "run the build again, or where bwrap works") from exc
    return moved


def _inside(root: Path, target: str) -> Path:
    """root/target with its parents made as real directories: a link among them would lead out of the copy."""
    path = root
    for part in Path(target.lstrip("/")).parts[:-1]:
        path = path / part
        if path.is_symlink():
            raise S2IError(f"the builder has a link at {path.relative_to(root)}, where the build's {target} goes",
                           "build with --isolation bwrap, or fix the builder")
        if not path.exists():
            path.mkdir(mode=0o755)
    return path / Path(target).name


def _chown_tree(top: Path, owner: tuple[int, int]) -> None:
    os.lchown(top, *owner)
    for directory, dirs, files in os.walk(top):
        for name in dirs + files:
            os.lchown(os.path.join(directory, name), *owner)


def _move_back(moved: list[tuple[Path, Path]]) -> None:
    for source, target in reversed(moved):
        try:
            os.rename(target, source)
        except OSError:
            pass  # the build took it away: what reads it next says what is missing


def _remove_stale(parent: Path) -> None:
    """Copies left by an s2i that was killed: those whose s2i process is gone."""
    for path in parent.glob(f"{PREFIX}*"):
        pid = path.name[len(PREFIX):].partition("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def _real_uid(pid: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None
