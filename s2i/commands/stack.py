"""What `s2i stack build` and `s2i stack list` do."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from s2i.errors import UsageError
from s2i.oci.image import Image, parse_platform
from s2i.oci.reference import RegistryLocation, parse_reference
from s2i.progress import log
from s2i.stack.build import image_name, store_ref
from s2i.stack.files import find_stack, load_stack, stacks_dir
from s2i.files import atomic_write
from s2i.stack.handout import format_stack
from s2i.stack.foreign import build_foreign, check_serves, foreign_ref, stored_foreign
from s2i.stack.images import archive_for, build_and_save, stored_stack
from s2i.store import Store
from s2i.transports import Context, write_image, write_index
from s2i.transports.local import load_image


def _with_origins(image: Image, pushed: dict[str, tuple[str, str]]) -> Image:
    """Layers already pushed to a sibling repository get mounted from there instead of uploaded."""
    layers = tuple(
        dataclasses.replace(layer, source=dataclasses.replace(layer.source, origin=pushed[layer.descriptor.digest]))
        if layer.descriptor.digest in pushed else layer
        for layer in image.layers
    )
    return dataclasses.replace(image, layers=layers)


def architectures(stack, platforms: str | None, update: bool) -> list[str]:
    """--platform linux/amd64,linux/arm64 -> the stack's architectures asked for; none: the builder's (all of them on --update)."""
    if not platforms:
        return list(stack.architectures) if update else [stack.architecture]
    wanted = []
    for text in platforms.split(","):
        platform = parse_platform(text.strip())
        if platform["os"] != "linux" or platform.get("variant"):
            raise UsageError(f"--platform {text}: stacks serve linux/ARCH only", f"use one of: {', '.join('linux/' + a for a in stack.architectures)}")
        if platform["architecture"] != stack.architecture:
            check_serves(stack, platform["architecture"])
        wanted.append(platform["architecture"])
    return sorted(set(wanted), key=stack.architectures.index)  # the builder's first: the others follow its pins


def _images_for(stack, architecture: str, store: Store, update: bool) -> dict[str, Image]:
    """One architecture's images: as stored when built from the current lock, else built now."""
    foreign = architecture != stack.architecture
    images = None if update else (stored_foreign(stack, architecture, store) if foreign else stored_stack(stack, store))
    if images is not None:
        log(f"stack {stack.name} ({architecture}): the store holds it built from {stack.lock_path.name}; using it (--update builds it afresh)")
        return images
    if foreign:
        return build_foreign(stack, archive_for(stack, store, architecture), store, update)
    return build_and_save(stack, store, update).images


def build(name: str | None, push_prefix: str | None, update: bool, context: Context, write_stack: Path | None = None,
          platforms: str | None = None) -> list[dict]:
    stack = load_stack(find_stack(name))
    if write_stack and not push_prefix:
        raise UsageError("--write-stack names the pushed images, so it needs --push", "add --push PREFIX, e.g. --push registry.example.com/stacks")
    if write_stack and not write_stack.parent.is_dir():
        raise UsageError(f"--write-stack {write_stack}: there is no directory {write_stack.parent}", "create it first")
    if push_prefix:
        parse_reference(f"{push_prefix}/builder:{stack.name}")  # a bad prefix fails before hours of work
    wanted = architectures(stack, platforms, update)
    if write_stack and stack.architecture not in wanted:
        raise UsageError(f"--write-stack needs the builder's platform, linux/{stack.architecture}", f"add it: --platform linux/{stack.architecture},...")
    store = Store()
    results, pushed, images_by_platform = [], {}, {}
    for architecture in wanted:
        suffix = "" if architecture == stack.architecture else f"-{architecture}"  # amd64's tags stay as they were
        images_by_platform[architecture] = _images_for(stack, architecture, store, update)
        for image_name_, image in images_by_platform[architecture].items():
            entry = {"image": image_name_, "platform": f"linux/{architecture}", "digest": image.digest, "size": image.size,
                     "uncompressedSize": store.uncompressed_size([l.diff_id for l in image.layers])}
            if push_prefix:
                reference = parse_reference(f"{push_prefix}/{image_name_}:{stack.name}{suffix}")
                published = write_image(RegistryLocation(reference), _with_origins(image, pushed), context)
                pushed.update({layer.descriptor.digest: (reference.registry, reference.repository) for layer in image.layers})
                entry["reference"] = published.reference
                log(f"pushed {published.reference}")
            results.append(entry)
    if push_prefix and len(wanted) > 1:
        push_indexes(stack, push_prefix, results, images_by_platform, context)
    if write_stack:
        by_platform: dict[str, dict[str, str]] = {}
        for entry in results:
            by_platform.setdefault(entry["platform"].removeprefix("linux/"), {})[entry["image"]] = entry["reference"]
        own = by_platform.pop(stack.architecture)
        atomic_write(write_stack, format_stack(stack, own, by_platform).encode())
        log(f"wrote {write_stack}: stack {stack.name} by reference, usable with --stack {write_stack}")
    return results


def push_indexes(stack, push_prefix: str, results: list[dict], images: dict[str, dict[str, Image]], context: Context) -> None:
    """Each run base built for several architectures gets an index under the stack's tag, naming every one (pushed already)."""
    for name in images[stack.architecture]:
        children = [by_name[name] for by_name in images.values() if name in by_name]
        if len(children) > 1:
            published = write_index(RegistryLocation(parse_reference(f"{push_prefix}/{name}:{stack.name}")), children, context)
            for entry in results:
                if entry["image"] == name:
                    entry["index"] = published.reference
            log(f"pushed {published.reference} (an index: {', '.join(images)})")


def _stored(store: Store, entry: dict, ref: str) -> dict:
    local = load_image(store, ref)
    if local:
        entry.update(digest=local.digest, size=local.size, uncompressedSize=store.uncompressed_size([l.diff_id for l in local.layers]))
    return entry


def _foreign_entries(stack, store: Store) -> dict[str, list[dict]]:
    """The package-built run bases of each other architecture (arm64), as the store holds them."""
    return {arch: [_stored(store, {"name": name, "kind": base.kind}, foreign_ref(stack, arch, image_name(name)))
                   for name, base in stack.bases.items() if base.kind == "packages"]
            for arch in stack.foreign_architectures}


def list_stacks(store: Store | None = None) -> list[dict]:
    store = store or Store()
    stacks = []
    for path in sorted(stacks_dir().glob("*.toml")):
        stack = load_stack(path)
        images = []
        for name in ["builder", *stack.bases]:
            kind = "builder" if name == "builder" else stack.bases[name].kind
            entry = {"name": name, "kind": kind}
            reference = stack.reference_of(name)
            if reference:
                entry["image"] = reference
            elif kind != "scratch":
                _stored(store, entry, store_ref(stack, image_name(name)))
            images.append(entry)
        stacks.append({"stack": stack.name, "path": str(path), "locked": stack.lock_path.exists(), "images": images,
                       "architectures": list(stack.architectures), "otherArchitectures": _foreign_entries(stack, store),
                       "toolchains": {language: list(versions) for language, versions in stack.toolchains}})
    if not stacks:
        raise UsageError(f"no stacks in {stacks_dir()}", "add a stacks/<name>.toml")
    return stacks


def format_stacks(stacks: list[dict]) -> str:
    lines = []
    for stack in stacks:
        offers = "; ".join(f"{language} {' '.join(versions)}" for language, versions in stack["toolchains"].items())
        lines.append(f"{stack['stack']}  ({stack['path']}{', locked' if stack['locked'] else ''}){'  offers ' + offers if offers else ''}")
        rows = [(image, "") for image in stack["images"]]
        rows += [(image, arch) for arch, images in stack.get("otherArchitectures", {}).items() for image in images]
        for image, arch in rows:
            if "image" in image:
                detail = f"by reference: {image['image']}"
            elif "digest" in image:
                size = image["uncompressedSize"]
                detail = f"{image['digest'][:19]}  {image['size'] / 1e6:7.1f} MB compressed" + (f", {size / 1e6:.1f} MB unpacked" if size else "")
            else:
                detail = "empty" if image["kind"] == "scratch" else "not built (s2i stack build" + (f" --platform linux/{arch})" if arch else ")")
            lines.append(f"  {image['name'] + ('/' + arch if arch else ''):<12} {image['kind']:<9} {detail}")
    return "\n".join(lines)
