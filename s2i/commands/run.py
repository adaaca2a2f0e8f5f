"""`s2i run`: an image's entrypoint in bubblewrap over its unpacked rootfs, host network, no Docker."""

from __future__ import annotations

from pathlib import Path

from s2i.errors import UsageError
from s2i.oci.reference import parse_location
from s2i.transports import Context, read_image
from s2i.stack.rootfs import unpack_image
from s2i.build.sandbox import Sandbox, run_interactive
from s2i.store import Store


def resolve_user(rootfs: Path, user: str) -> tuple[int, int]:
    """Numeric uid[:gid], or names looked up in the image's /etc/passwd and /etc/group."""
    if not user:
        return 0, 0
    name, _, group = user.partition(":")

    def lookup(file: str, key: str, field: int) -> int:
        if key.isdigit():
            return int(key)
        for line in (rootfs / "etc" / file).read_text().splitlines() if (rootfs / "etc" / file).is_file() else []:
            parts = line.split(":")
            if parts[0] == key:
                return int(parts[field])
        raise UsageError(f"the image has no {file[:-1] if file == 'passwd' else 'group'} {key!r}", "use a numeric uid:gid")

    uid = lookup("passwd", name, 2)
    gid = lookup("group", group, 2) if group else (lookup("passwd", name, 3) if not name.isdigit() else uid)
    return uid, gid


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
    sandbox = Sandbox(rootfs=rootfs, env=env, uid=uid, gid=gid, workdir=config.get("WorkingDir") or "/", network="host")
    return run_interactive(sandbox, command)
