"""What `s2i inspect --layers/--files` shows: each layer's origin, size and files, and what later layers waste."""

from __future__ import annotations

import posixpath
import tarfile
from dataclasses import dataclass, field

from s2i.errors import UsageError
from s2i.oci.image import Image, Layer
from s2i.stack.rootfs import unpack_limit, walk_layer

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass
class LayerFile:
    path: str  # absolute, normalised: /app/main.py
    size: int
    kind: str  # file, dir, link, hardlink, whiteout, other
    shadowed_by: int | None = None  # index of the later layer that overwrites or deletes it
    deleted: bool = False


@dataclass
class LayerView:
    index: int
    digest: str
    size: int
    created_by: str
    files: list[LayerFile] = field(default_factory=list)

    @property
    def wasted(self) -> int:
        return sum(f.size for f in self.files if f.shadowed_by is not None)


def layer_history(config: dict, count: int) -> list[str]:
    """The `created_by` of each layer: history entries marked empty_layer describe no layer."""
    entries = [h for h in config.get("history") or [] if isinstance(h, dict) and not h.get("empty_layer")]
    texts = [str(h.get("created_by") or h.get("comment") or "") for h in entries]
    if len(texts) != count:  # a history that does not line up says nothing reliable about any layer
        return ["(no history)"] * count
    return [text or "(not recorded)" for text in texts]


def _kind(member: tarfile.TarInfo, name: str) -> str:
    if posixpath.basename(name).startswith(WHITEOUT):
        return "whiteout"
    return {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "link",
            tarfile.LNKTYPE: "hardlink"}.get(member.type, "other")


def read_layer_files(layer: Layer, limit: int) -> list[LayerFile]:
    """The members of one layer, streamed through its digests' checks and the unpack limit; no file is written."""
    files = []
    for _tar, member in walk_layer(layer, limit):
        path = posixpath.normpath("/" + member.name.lstrip("./"))
        files.append(LayerFile(path, member.size if member.isreg() else 0, _kind(member, path)))
    return files


def _self_and_parents(path: str):
    while True:
        yield path
        if path == "/":
            return
        path = posixpath.dirname(path)


def mark_shadowed(views: list[LayerView]) -> None:
    """Mark each file a later layer overwrites (same path, or a non-directory over a parent) or deletes (a whiteout)."""
    for later in views[1:]:
        replaced, removed, emptied = set(), set(), set()
        for entry in later.files:
            directory, base = posixpath.split(entry.path)
            if base == OPAQUE:
                emptied.add(directory)
            elif entry.kind == "whiteout":
                removed.add(posixpath.join(directory, base[len(WHITEOUT):]))
            elif entry.kind != "dir":
                replaced.add(entry.path)
        for earlier in views[: later.index]:
            for entry in earlier.files:
                if entry.shadowed_by is not None or entry.kind == "whiteout":
                    continue
                lineage = list(_self_and_parents(entry.path))
                gone = any(p in removed for p in lineage) or any(p in emptied for p in lineage[1:])
                if gone or any(p in replaced for p in lineage):
                    entry.shadowed_by, entry.deleted = later.index, gone


def explore(image: Image, with_files: bool = True) -> list[LayerView]:
    histories = layer_history(image.config, len(image.layers))
    views = [LayerView(i, layer.descriptor.digest, layer.descriptor.size, histories[i]) for i, layer in enumerate(image.layers)]
    if with_files:
        limit = unpack_limit()
        for view, layer in zip(views, image.layers):
            view.files = read_layer_files(layer, limit)
        mark_shadowed(views)
    return views


def pick_layer(views: list[LayerView], wanted: str) -> LayerView:
    """A layer by its number in `--layers` (from 1) or a unique prefix of its digest."""
    if wanted.isdigit() and 1 <= int(wanted) <= len(views):
        return views[int(wanted) - 1]
    prefix = wanted if wanted.startswith("sha256:") else f"sha256:{wanted}"
    matches = [v for v in views if len(wanted) >= 4 and v.digest.startswith(prefix)]
    if len(matches) != 1:
        raise UsageError(f"--files {wanted}: no one layer has that number or digest prefix", f"give 1..{len(views)} or a digest prefix, as --layers lists")
    return matches[0]


def layers_json(views: list[LayerView]) -> list[dict]:
    return [{"number": v.index + 1, "digest": v.digest, "size": v.size, "createdBy": v.created_by,
             "files": sum(f.kind != "dir" for f in v.files), "wastedBytes": v.wasted} for v in views]


def files_json(views: list[LayerView]) -> list[dict]:
    return [{"layer": v.index + 1, "path": f.path, "size": f.size, "kind": f.kind,
             **({"deletedBy" if f.deleted else "overwrittenBy": f.shadowed_by + 1} if f.shadowed_by is not None else {})}
            for v in views for f in v.files]


def format_layers(views: list[LayerView]) -> str:
    lines = [f"{'#':>3}  {'size':>10}  {'files':>6}  {'wasted':>9}  created by"]
    for row in layers_json(views):
        lines.append(f"{row['number']:>3}  {row['size']:>10}  {row['files']:>6}  {row['wastedBytes']:>9}  {row['createdBy']}")
    wasted = sum(v.wasted for v in views)
    lines.append(f"{len(views)} layers, {sum(v.size for v in views)} bytes compressed; {wasted} bytes in files a later layer replaces or deletes")
    return "\n".join(lines)


def format_files(views: list[LayerView]) -> str:
    lines = []
    for row in files_json(views):
        if row["kind"] == "dir":
            continue
        note = f"  (deleted by layer {row['deletedBy']})" if "deletedBy" in row else (
            f"  (overwritten by layer {row['overwrittenBy']})" if "overwrittenBy" in row else "")
        lines.append(f"{row['layer']:>3}  {row['size']:>10}  {row['kind']:<8}  {row['path']}{note}")
    return "\n".join(lines)
