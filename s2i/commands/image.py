"""What `append`, `copy` and `inspect` do, as plain functions the CLI calls once each."""

from __future__ import annotations

from pathlib import Path

from s2i.archive.layer import write_layer
from s2i.archive.tarwriter import TarOptions, source_date_epoch
from s2i.errors import UsageError
from s2i.oci.image import Image, Layer
from s2i.oci.index import ImageIndex, platform_text
from s2i.oci.mutate import ConfigChanges, append_layers
from s2i.oci.reference import parse_destination, parse_location, repository_name
from s2i.oci.types import layer_media_type
from s2i.progress import log
from s2i.transports import Context, Published, prepare_destination, publish_index, read_all, read_image, write_image
from s2i.store import Store


def append(base: str, target: str, layer_dirs: list[tuple[Path, str]], changes: ConfigChanges, owner: tuple[int, int], compression: str,
           context: Context, tags: tuple[str, ...] = ()) -> Published:
    base_location, target_location = parse_location(base), parse_destination(target, tags)
    for directory, _ in layer_dirs:
        if not directory.is_dir():
            raise UsageError(f"--layer {directory} is not a directory", "pass an existing directory")
    prepare_destination(target_location, context)
    mtime = source_date_epoch()
    base_image = read_image(base_location, context)
    media_type = layer_media_type(base_image.family if base_image.layers else "oci", compression)
    store = Store()
    layers = []
    for directory, dest in layer_dirs:
        options = TarOptions(mtime=mtime, uid=owner[0], gid=owner[1], prefix=dest)
        blob = write_layer(directory, store, media_type, compression, options)
        log(f"layer {directory} -> {blob.descriptor.digest} ({blob.descriptor.size} bytes)")
        layers.append(Layer(blob.descriptor, blob.diff_id, store.blob(blob.descriptor)))
    image = append_layers(base_image, layers, changes, created=mtime, base_name=base_location.base_name)
    return write_image(target_location, image, context)


def copy(source: str, destination: str, context: Context, tags: tuple[str, ...] = (), one_platform: bool = False) -> Published:
    """A whole index (every platform), or with `one_platform` the image for context.platform."""
    source_location, destination_location = parse_location(source), parse_destination(destination, tags)
    prepare_destination(destination_location, context)
    found = read_image(source_location, context) if one_platform else read_all(source_location, context)
    if isinstance(found, ImageIndex):
        return publish_index(destination_location, found, context)
    return write_image(destination_location, found, context)


def summarise(image: Image, name: str) -> dict:
    config = image.config
    return {
        "reference": name,
        "digest": image.digest,
        "mediaType": image.media_type,
        "platform": "/".join(filter(None, [config.get("os"), config.get("architecture"), config.get("variant")])),
        "created": config.get("created"),
        "config": config.get("config") or {},
        "annotations": image.manifest.get("annotations") or {},
        "size": image.size,
        "layers": [
            {"digest": l.descriptor.digest, "mediaType": l.descriptor.media_type, "size": l.descriptor.size, "diffID": l.diff_id}
            for l in image.layers
        ],
    }


def summarise_index(index: ImageIndex, name: str) -> dict:
    return {
        "reference": name,
        "digest": index.digest,
        "mediaType": index.media_type,
        "annotations": index.manifest.get("annotations") or {},
        "size": index.size,
        "manifests": [
            {"platform": platform_text(entry.platform), "digest": child.digest, "mediaType": child.media_type, "size": child.size}
            for entry, child in zip(index.entries, index.children)
        ],
    }


def inspect(reference: str, context: Context, one_platform: bool = False) -> dict:
    """An image's summary; an index's platforms and their digests, unless `one_platform` asks for context.platform's image."""
    location = parse_location(reference)
    found = read_image(location, context) if one_platform else read_all(location, context)
    if isinstance(found, ImageIndex):
        return summarise_index(found, repository_name(location))
    return summarise(found, repository_name(location))


def explore_image(reference: str, files: str | None, context: Context) -> tuple[dict, str]:
    """`inspect --layers` (files only counted) or `--files [LAYER]`: the result as data and as text."""
    from s2i.commands import explore

    location = parse_location(reference)
    image = read_image(location, context)
    views = explore.explore(image)
    result = {"reference": repository_name(location), "digest": image.digest, "layers": explore.layers_json(views)}
    if files is None:
        return result, explore.format_layers(views)
    shown = views if files == "all" else [explore.pick_layer(views, files)]
    result["files"] = explore.files_json(shown)
    return result, explore.format_files(shown)


def format_summary(summary: dict) -> str:
    if "manifests" in summary:
        return format_index_summary(summary)
    config = summary["config"]
    lines = [
        f"{summary['reference']}@{summary['digest']}",
        f"  media type  {summary['mediaType']}",
        f"  platform    {summary['platform']}",
        f"  created     {summary['created']}",
    ]
    for key in ("Entrypoint", "Cmd", "Env", "WorkingDir", "User", "ExposedPorts", "Labels"):
        if config.get(key):
            lines.append(f"  {key:<11} {config[key]}")
    lines.append(f"  layers      {len(summary['layers'])}, {summary['size']} bytes compressed")
    for layer in summary["layers"]:
        lines.append(f"    {layer['digest']}  {layer['size']:>12}  {layer['mediaType']}")
    return "\n".join(lines)


def format_index_summary(summary: dict) -> str:
    width = max(len(m["platform"]) for m in summary["manifests"])
    lines = [
        f"{summary['reference']}@{summary['digest']}",
        f"  media type  {summary['mediaType']}",
        f"  platforms   {len(summary['manifests'])}, {summary['size']} bytes compressed (pick one with --platform)",
    ]
    for m in summary["manifests"]:
        lines.append(f"    {m['platform']:<{width}}  {m['digest']}  {m['size']:>12}  {m['mediaType']}")
    return "\n".join(lines)
