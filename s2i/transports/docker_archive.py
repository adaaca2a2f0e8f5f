"""Writes `docker save` style archives that `podman load` and `docker load` accept."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

from s2i.archive.layer import open_uncompressed
from s2i.errors import UsageError
from s2i.files import atomic_file
from s2i.oci.image import Image
from s2i.oci.reference import ArchiveLocation, Reference
from s2i.transports import Published


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_archive(path: Path, image: Image, reference: Reference | None) -> None:
    """Layers go in uncompressed, named by diff_id, as `docker save` does; written to a temp file then renamed."""
    config_name = image.config_descriptor.digest.split(":")[1] + ".json"
    layer_names = [layer.diff_id.split(":")[1] + ".tar" for layer in image.layers]
    manifest = [{"Config": config_name, "RepoTags": [str(reference)] if reference else [], "Layers": layer_names}]
    with atomic_file(path) as out, tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, config_name, image.config_bytes)
        for name, layer in zip(layer_names, image.layers):
            _add_layer(tar, name, layer)
        _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())


def _add_layer(tar: tarfile.TarFile, name: str, layer) -> None:
    """Spooled to a temp file: the tar header needs the size before the bytes, and a remote blob is read once."""
    with tempfile.TemporaryFile() as spool:
        with layer.source.open() as handle:
            shutil.copyfileobj(open_uncompressed(handle, layer.descriptor.media_type), spool, 1 << 20)
        info = tarfile.TarInfo(name)
        info.size = spool.tell()
        spool.seek(0)
        tar.addfile(info, spool)


def read(location: ArchiveLocation, context) -> Image:
    raise UsageError(f"s2i cannot read images from {location}", "use a registry reference, oci:DIR:TAG or store:NAME")


def prepare(location: ArchiveLocation, context) -> None:
    pass


def write(location: ArchiveLocation, image: Image, context) -> Published:
    write_archive(location.path, image, location.reference)
    return Published(str(location), image.digest)
