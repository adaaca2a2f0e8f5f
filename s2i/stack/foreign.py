"""Run bases of a stack's other architectures (arm64 beside amd64): Debian's packages for them, extracted as amd64's are.

Nothing runs for the other architecture, so no emulation is needed to make them; the builder stays the host's.
"""

from __future__ import annotations

from s2i.archive.tarwriter import source_date_epoch
from s2i.errors import S2IError, UsageError
from s2i.oci.image import Image
from s2i.progress import log
from s2i.stack.build import hashes_of, build_run_bases, image_name, store_ref
from s2i.stack.debian import AptArchive
from s2i.stack.files import Stack
from s2i.stack.lock import Lock, changes, check_against_archive, read_lock, write_lock
from s2i.store import Store
from s2i.transports.local import load_image, save_image


def foreign_ref(stack: Stack, architecture: str, name: str) -> str:
    """stacks/debian-trixie/arm64/run-base: beside amd64's stacks/debian-trixie/run-base, which stay as they were."""
    return store_ref(stack, f"{architecture}/{name}")


def run_packages(stack: Stack) -> list[str]:
    return sorted({p for base in stack.bases.values() for p in base.packages})


def check_serves(stack: Stack, architecture: str) -> None:
    if architecture not in stack.foreign_architectures:
        raise UsageError(f"stack {stack.name} serves {', '.join(stack.architectures)}, not {architecture}",
                         f'add it to {stack.path.name}: architectures = ["{stack.architecture}", "{architecture}"]')


def resolve_pins(stack: Stack, archive: AptArchive, prefer: dict[str, str]) -> Lock:
    """The builder architecture's locked version where the archive has it for this one too (the two stay in step), else today's."""
    packages = run_packages(stack)
    same = archive.records({p: prefer[p] for p in packages if p in prefer})
    versions = {p: record["Version"] for p, record in same.items()}
    rest = [p for p in packages if p not in versions]
    versions.update(archive.candidates(rest) if rest else {})
    versions = {p: versions[p] for p in packages}
    return Lock(versions, {}, hashes_of(archive, versions))


def locked_pins(stack: Stack, lock: Lock, archive: AptArchive, update: bool) -> Lock:
    """The architecture's pins from the lock, checked against the archive; resolved when the lock has none (or on --update)."""
    pins = None if update else lock.for_architecture(archive.architecture)
    if pins is None or not archive.ready:
        log(f"reading the Debian package index ({stack.suite}, {archive.architecture}, from the host's mirrors)")
        archive.update()
    if pins is None:
        return resolve_pins(stack, archive, lock.run)
    missing = sorted(set(run_packages(stack)) - set(pins.run))
    if missing:
        raise S2IError(f"{stack.lock_path.name} has no {archive.architecture} version for {', '.join(missing)}",
                       f"refresh it: s2i stack build {stack.name} --update")
    check_against_archive(stack.lock_path.name, pins.run, pins.run_sha256, archive.records(pins.run))
    return pins


def build_foreign(stack: Stack, archive: AptArchive, store: Store, update: bool) -> dict[str, Image]:
    """Every package-built run base for the archive's architecture, saved in the store; the lock gains its pins if new."""
    check_serves(stack, archive.architecture)
    lock = read_lock(stack.lock_path)
    if lock is None or not lock.run:
        raise UsageError(f"stack {stack.name} has no lock yet", f"build it first: s2i stack build {stack.name}")
    pins = locked_pins(stack, lock, archive, update)
    for package in run_packages(stack):
        archive.download(package, pins.run[package])
    images = build_run_bases(stack, pins, archive, store, source_date_epoch())
    new_lock = lock.with_architecture(archive.architecture, pins)
    if new_lock != lock:
        changed = changes(lock.foreign_run.get(archive.architecture, {}), pins.run)
        log(f"{stack.lock_path.name}: {archive.architecture} pins written, {len(changed)} changed")
        write_lock(stack.lock_path, new_lock)
    for name, image in images.items():
        save_image(store, foreign_ref(stack, archive.architecture, name), image)
    return images


def stored_foreign(stack: Stack, architecture: str, store: Store) -> dict[str, Image] | None:
    """The architecture's run bases as the store holds them, when every one was built from the lock's current pins."""
    lock = read_lock(stack.lock_path)
    pins = lock.for_architecture(architecture) if lock else None
    if pins is None:
        return None
    images = {}
    for base in stack.bases.values():
        if base.kind == "packages":
            image = load_image(store, foreign_ref(stack, architecture, image_name(base.name)))
            if image is None or image.labels.get("io.s2i.stack.lock") != pins.digest():
                return None
            images[image_name(base.name)] = image
    return images
