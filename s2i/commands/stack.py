"""What `s2i stack build` and `s2i stack list` do."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from s2i.errors import UsageError
from s2i.oci.image import Image
from s2i.oci.reference import RegistryLocation, parse_reference
from s2i.progress import log
from s2i.stack.build import image_name, store_ref
from s2i.stack.files import find_stack, load_stack, stacks_dir
from s2i.files import atomic_write
from s2i.stack.handout import format_stack
from s2i.stack.images import build_and_save, stored_stack
from s2i.store import Store
from s2i.transports import Context, write_image
from s2i.transports.local import load_image


def _with_origins(image: Image, pushed: dict[str, tuple[str, str]]) -> Image:
    """Layers already pushed to a sibling repository get mounted from there instead of uploaded."""
    layers = tuple(
        dataclasses.replace(layer, source=dataclasses.replace(layer.source, origin=pushed[layer.descriptor.digest]))
        if layer.descriptor.digest in pushed else layer
        for layer in image.layers
    )
    return dataclasses.replace(image, layers=layers)


def build(name: str | None, push_prefix: str | None, update: bool, context: Context, write_stack: Path | None = None) -> list[dict]:
    stack = load_stack(find_stack(name))
    if write_stack and not push_prefix:
        raise UsageError("--write-stack names the pushed images, so it needs --push", "add --push PREFIX, e.g. --push registry.example.com/stacks")
    if write_stack and not write_stack.parent.is_dir():
        raise UsageError(f"--write-stack {write_stack}: there is no directory {write_stack.parent}", "create it first")
    if push_prefix:
        parse_reference(f"{push_prefix}/builder:{stack.name}")  # a bad prefix fails before hours of work
    store = Store()
    images = None if update else stored_stack(stack, store)
    if images is None:
        images = build_and_save(stack, store, update).images
    else:
        log(f"stack {stack.name}: the store holds it built from {stack.lock_path.name}; using it (--update builds it afresh)")
    results, pushed = [], {}
    for image_name_, image in images.items():
        entry = {"image": image_name_, "digest": image.digest, "size": image.size,
                 "uncompressedSize": store.uncompressed_size([l.diff_id for l in image.layers])}
        if push_prefix:
            reference = parse_reference(f"{push_prefix}/{image_name_}:{stack.name}")
            published = write_image(RegistryLocation(reference), _with_origins(image, pushed), context)
            pushed.update({layer.descriptor.digest: (reference.registry, reference.repository) for layer in image.layers})
            entry["reference"] = published.reference
            log(f"pushed {published.reference}")
        results.append(entry)
    if write_stack:
        atomic_write(write_stack, format_stack(stack, {r["image"]: r["reference"] for r in results}).encode())
        log(f"wrote {write_stack}: stack {stack.name} by reference, usable with --stack {write_stack}")
    return results


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
            else:
                local = load_image(store, store_ref(stack, image_name(name))) if kind != "scratch" else None
                if local:
                    entry.update(digest=local.digest, size=local.size,
                                 uncompressedSize=store.uncompressed_size([l.diff_id for l in local.layers]))
            images.append(entry)
        stacks.append({"stack": stack.name, "path": str(path), "locked": stack.lock_path.exists(), "images": images,
                       "toolchains": {language: list(versions) for language, versions in stack.toolchains}})
    if not stacks:
        raise UsageError(f"no stacks in {stacks_dir()}", "add a stacks/<name>.toml")
    return stacks


def format_stacks(stacks: list[dict]) -> str:
    lines = []
    for stack in stacks:
        offers = "; ".join(f"{language} {' '.join(versions)}" for language, versions in stack["toolchains"].items())
        lines.append(f"{stack['stack']}  ({stack['path']}{', locked' if stack['locked'] else ''}){'  offers ' + offers if offers else ''}")
        for image in stack["images"]:
            if "image" in image:
                detail = f"by reference: {image['image']}"
            elif "digest" in image:
                size = image["uncompressedSize"]
                detail = f"{image['digest'][:19]}  {image['size'] / 1e6:7.1f} MB compressed" + (f", {size / 1e6:.1f} MB unpacked" if size else "")
            else:
                detail = "empty" if image["kind"] == "scratch" else "not built (s2i stack build)"
            lines.append(f"  {image['name']:<10} {image['kind']:<9} {detail}")
    return "\n".join(lines)
