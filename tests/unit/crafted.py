"""Hand-made tar layers and image documents for tests of hostile input: one helper per shape."""

from __future__ import annotations

import gzip
import io
import tarfile

from s2i.oci.image import FileBlob, Image, assemble
from s2i.oci.types import OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, Descriptor, canonical_json, sha256_digest
from s2i.store import Store

KINDS = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "link": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE,
         "blk": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE, "sparse": tarfile.GNUTYPE_SPARSE}


def tar_of(entries, fmt=tarfile.PAX_FORMAT) -> bytes:
    """entries: (name, kind, payload[, mode]) with kind file|dir|sym|link|chr|blk|fifo|sparse."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for name, kind, payload, *mode in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                info.mode = mode[0] if mode else 0o644
                tar.addfile(info, io.BytesIO(payload))
                continue
            info.type = KINDS[kind]
            info.mode = mode[0] if mode else (0o755 if kind == "dir" else 0o644)
            if kind in ("sym", "link"):
                info.linkname = payload
            tar.addfile(info)
    return out.getvalue()


def documents(layers: list[bytes], diff_ids: list[str], config_extra: dict | None = None) -> tuple[bytes, bytes]:
    """(manifest, config) bytes for gzip `layers` whose config claims `diff_ids`."""
    config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}, "config": {}}
    config.update(config_extra or {})
    config_bytes = canonical_json(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": Descriptor(OCI_CONFIG, sha256_digest(config_bytes), len(config_bytes)).to_json(),
        "layers": [Descriptor(OCI_LAYER_GZIP, sha256_digest(blob), len(blob)).to_json() for blob in layers],
    }
    return canonical_json(manifest), config_bytes


def stored_image(store: Store, tars: list[bytes], diff_ids: list[str] | None = None, config_extra: dict | None = None) -> Image:
    """An image whose gzip layers sit in `store`; its config claims `diff_ids` (by default the true ones)."""
    blobs = [gzip.compress(tar, mtime=0) for tar in tars]
    manifest, config = documents(blobs, diff_ids or [sha256_digest(t) for t in tars], config_extra)
    sources = [FileBlob(store.blob_path(store.write_blob(blob))) for blob in blobs]
    return assemble(manifest, config, sources)
