"""A stack's images for a build: by reference from a registry, else from the store, built there once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from s2i.errors import UsageError
from s2i.oci.image import Image
from s2i.oci.reference import RegistryLocation, ScratchLocation, parse_reference
from s2i.progress import log
from s2i.stack.build import BuiltStack, build_stack, image_name, store_ref
from s2i.stack.lock import read_lock
from s2i.stack.debian import AptArchive
from s2i.stack.files import Stack, find_stack, load_stack
from s2i.stack.foreign import build_foreign, check_serves, stored_foreign
from s2i.stack.lock import StaleLock
from s2i.store import Store
from s2i.transports import Context, read_image
from s2i.transports.local import load_image, save_image


class StackNotBuilt(UsageError):
    """The stack's images are not in the local store yet."""


def deb_cache(store: Store) -> Path:
    return store.root / "debian"


def archive_for(stack: Stack, store: Store, architecture: str | None = None) -> AptArchive:
    return AptArchive(deb_cache(store), architecture or stack.architecture, stack.suite, stack.extra_suites)


def build_and_save(stack: Stack, store: Store, update: bool) -> BuiltStack:
    built = build_stack(stack, store, archive_for(stack, store), update)
    for name, image in built.images.items():
        save_image(store, store_ref(stack, name), image)
    return built


def stack_image(stack: Stack | str | None, name: str, context: Context, store: Store | None = None) -> Image:
    """A stack's builder or run base: by reference from its registry, else as built into the store."""
    stack = stack if isinstance(stack, Stack) else load_stack(find_stack(stack))
    store = store or Store()
    if name != "builder" and name not in stack.bases:
        raise UsageError(f"stack {stack.name} has no run base {name!r}", f"use one of: {', '.join(stack.bases)}")
    reference = stack.reference_of(name)
    if reference:
        return read_image(RegistryLocation(parse_reference(reference)), context)
    if name in stack.bases and stack.bases[name].kind == "scratch":
        return read_image(ScratchLocation(), context)
    image = load_image(store, store_ref(stack, image_name(name)))
    if image is None:
        raise StackNotBuilt(f"{image_name(name)} of stack {stack.name} is not built", f"build it: s2i stack build {stack.name}")
    return image


def ensure_stack_image(stack: Stack, name: str, context: Context, store: Store, architecture: str | None = None) -> Image:
    """Like stack_image, but builds the stack first when it is not in the store yet (once, minutes).

    `architecture` other than the builder's (arm64) gives that architecture's run base, extracted on first use (seconds).
    """
    if architecture and architecture != stack.architecture:
        return foreign_stack_image(stack, name, context, store, architecture)
    try:
        return stack_image(stack, name, context, store)
    except StackNotBuilt:
        log(f"stack {stack.name} is not built yet: building it now (once; a few minutes)")
    try:
        build_and_save(stack, store, update=False)
    except StaleLock as exc:
        # Debian replaces versions at each point release; a newcomer's first build should still work
        log(f"{exc.message}: resolving stack {stack.name} afresh from today's archive (and rewriting {stack.lock_path.name})")
        build_and_save(stack, store, update=True)
    return stack_image(stack, name, context, store)


def foreign_stack_image(stack: Stack, name: str, context: Context, store: Store, architecture: str) -> Image:
    """A run base for another architecture than the builder's: Debian's packages for it, extracted (no emulation)."""
    if name == "builder":
        raise UsageError(f"stack {stack.name}'s builder is {stack.architecture} only, not {architecture}",
                         f"cross builds run on the {stack.architecture} builder: ask for it without an architecture")
    check_serves(stack, architecture)
    if name not in stack.bases:
        raise UsageError(f"stack {stack.name} has no run base {name!r}", f"use one of: {', '.join(stack.bases)}")
    platform_context = dataclasses.replace(context, platform={"os": "linux", "architecture": architecture})
    base = stack.bases[name]
    if base.kind == "image":
        reference = dict(base.images).get(architecture) or base.image
        image = read_image(RegistryLocation(parse_reference(reference)), platform_context)
        if image.config.get("architecture") != architecture:  # a single-platform manifest is not chosen by platform
            raise UsageError(f"run base {name} of stack {stack.name} ({reference}) is {image.config.get('architecture')!r}, not {architecture}",
                             f"name an {architecture} image for it: images = {{ {architecture} = \"...\" }} in the stack file")
        return image
    if base.kind == "scratch":
        return read_image(ScratchLocation(), platform_context)
    images = stored_foreign(stack, architecture, store)
    if images is None:
        log(f"building the {architecture} run bases of stack {stack.name} (by extraction, once)")
        try:
            images = build_foreign(stack, archive_for(stack, store, architecture), store, update=False)
        except StaleLock as exc:
            log(f"{exc.message}: resolving the {architecture} pins of stack {stack.name} afresh")
            images = build_foreign(stack, archive_for(stack, store, architecture), store, update=True)
    return images[image_name(name)]


def stored_stack(stack: Stack, store: Store) -> dict[str, Image] | None:
    """The stack's images as the store holds them, when every one was built from its current lock; else None."""
    lock = read_lock(stack.lock_path)
    if lock is None:
        return None
    names = [] if stack.builder.image else ["builder"]
    names += [image_name(b.name) for b in sorted(stack.bases.values(), key=lambda b: len(stack.base_chain(b.name))) if b.kind == "packages"]
    images = {}
    for name in names:
        image = load_image(store, store_ref(stack, name))
        labels = ((image.config.get("config") or {}).get("Labels") or {}) if image else {}
        if labels.get("io.s2i.stack.lock") != lock.digest():
            return None
        images[name] = image
    return images
