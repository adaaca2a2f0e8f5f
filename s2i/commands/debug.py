"""`s2i run --debug`: a busybox shell over an image's own root filesystem, for images with no shell; the image is not changed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from s2i.build.sandbox import Bind, Sandbox, run_interactive
from s2i.commands.run import container_files
from s2i.oci.reference import parse_location
from s2i.progress import log
from s2i.stack.debian import AptArchive, extract_deb
from s2i.stack.files import find_stack, known_stack, load_stack
from s2i.stack.images import deb_cache
from s2i.stack.rootfs import unpack_image
from s2i.store import Store
from s2i.transports import Context, read_image

TOOLS_MOUNT = "/tmp/.s2i-debug"  # under the sandbox's private /tmp: nothing is mounted over the image's own paths
PACKAGE = "busybox-static"  # one static binary; Debian's build runs its applets from `sh` without links


def busybox_dir(stack_name: str | None, store: Store) -> Path:
    """A directory holding Debian's static busybox for the image's stack, fetched once (checked against the archive's index)."""
    stack = load_stack(find_stack(stack_name))
    archive = AptArchive(deb_cache(store), stack.architecture, stack.suite, stack.extra_suites)
    if not archive.ready:
        log(f"reading the Debian package index ({stack.suite}) for the debug shell")
        archive.update()
    version = archive.candidates([PACKAGE])[PACKAGE]
    target = store.root / "debug" / f"{PACKAGE}_{version.replace(':', '%')}"
    if not (target / "busybox").is_file():
        deb = archive.download(PACKAGE, version)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".unpack-") as temp:
            root = Path(temp) / "root"
            root.mkdir()
            extract_deb(deb, root)
            tools = Path(temp) / "tools"
            tools.mkdir()
            found = next(p for p in (root / "bin" / "busybox", root / "usr" / "bin" / "busybox") if p.is_file())
            os.replace(found, tools / "busybox")
            if not target.exists():  # else a racing run put the same file there first
                os.replace(tools, target)
    return target


def debug_command(args: tuple[str, ...]) -> list[str]:
    """An interactive shell, or ARGS run by it as an argument list (never spliced into shell text)."""
    shell = [f"{TOOLS_MOUNT}/busybox", "sh"]
    return shell if not args else [*shell, "-c", '"$@"', "s2i-debug", *args]


def debug(reference: str, args: tuple[str, ...], context: Context) -> int:
    image = read_image(parse_location(reference), context)
    store = Store()
    rootfs = unpack_image(image, store)
    config = image.config.get("config") or {}
    tools = busybox_dir(known_stack(image.labels.get("io.s2i.stack")), store)
    env = tuple(entry.partition("=")[::2] for entry in config.get("Env") or [])
    hostname = "s2i-debug-" + image.digest.split(":")[-1][:12]
    log(f"debug shell: busybox over {reference}'s files (read-only), the image's env; type exit to leave")
    with tempfile.TemporaryDirectory(prefix="s2i-debug-") as temp:
        binds = (*container_files(Path(temp), hostname), Bind(tools, TOOLS_MOUNT))
        sandbox = Sandbox(rootfs=rootfs, env=env, uid=0, gid=0, workdir=config.get("WorkingDir") or "/", network="host",
                          hostname=hostname, binds=binds)
        return run_interactive(sandbox, debug_command(args))
