"""`s2i run`: an image's entrypoint in bubblewrap over its unpacked rootfs, host network, no Docker."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from s2i.errors import UsageError
from s2i.oci.reference import parse_location
from s2i.oci.types import shorten
from s2i.transports import Context, read_image
from s2i.stack.rootfs import resolve, unpack_image
from s2i.build.sandbox import Bind, Sandbox, run_interactive
from s2i.store import Store

MAX_ACCOUNTS_FILE = 1 << 20


def read_image_file(rootfs: Path, name: str) -> str:
    """A file of the image, found like a chroot would (links resolve inside the rootfs); "" if it is not a regular file."""
    try:
        path = resolve(str(rootfs), name.strip("/").split("/"), follow_last=True)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return ""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return ""
    with os.fdopen(fd, "rb") as handle:
        return handle.read(MAX_ACCOUNTS_FILE).decode("utf-8", "replace")


def lookup_id(rootfs: Path, file: str, key: str, field: int) -> int:
    """A numeric id as given, or the named entry's field from the image's /etc/passwd or /etc/group."""
    if key.isdigit():
        return int(key)
    for line in read_image_file(rootfs, f"etc/{file}").splitlines():
        parts = line.split(":")
        if parts[0] == key and len(parts) > field and parts[field].isdigit():
            return int(parts[field])
    kind = "user" if file == "passwd" else "group"
    raise UsageError(f"the image has no {kind} {shorten(key)} in /etc/{file}", "use a numeric uid:gid")


def resolve_user(rootfs: Path, user: str) -> tuple[int, int]:
    """Numeric uid[:gid], or names looked up in the image's own /etc/passwd and /etc/group."""
    if not user:
        return 0, 0
    name, _, group = user.partition(":")
    uid = lookup_id(rootfs, "passwd", name, 2)
    if group:
        return uid, lookup_id(rootfs, "group", group, 2)
    return uid, uid if name.isdigit() else lookup_id(rootfs, "passwd", name, 3)


def run(reference: str, args: tuple[str, ...], context: Context) -> int:
    image = read_image(parse_location(reference), context)
    store = Store()
    rootfs = unpack_image(image, store)
    config = image.config.get("config") or {}
    command = list(config.get("Entrypoint") or []) + (list(args) or list(config.get("Cmd") or []))
    if not command:
        raise UsageError(f"{reference} has no entrypoint or cmd", "pass the command after --: s2i run IMAGE -- /bin/app")
    env = tuple(entry.partition("=")[::2] for entry in config.get("Env") or [])
    uid, gid = resolve_user(rootfs, config.get("User", ""))
    hostname = "s2i-" + image.digest.split(":")[-1][:12]
    with tempfile.TemporaryDirectory(prefix="s2i-run-") as temp:
        sandbox = Sandbox(rootfs=rootfs, env=env, uid=uid, gid=gid, workdir=config.get("WorkingDir") or "/", network="host",
                          hostname=hostname, binds=container_files(Path(temp), hostname))
        return run_interactive(sandbox, command)


def container_files(temp: Path, hostname: str) -> tuple[Bind, ...]:
    """/etc/hosts, /etc/resolv.conf and /etc/hostname as every container runtime gives them."""
    (temp / "hosts").write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n")
    (temp / "hostname").write_text(hostname + "\n")
    binds = [Bind(temp / "hosts", "/etc/hosts"), Bind(temp / "hostname", "/etc/hostname")]
    resolv = Path("/etc/resolv.conf").resolve()
    if resolv.is_file():
        binds.append(Bind(resolv, "/etc/resolv.conf"))
    return tuple(binds)
