import gzip
import io
import multiprocessing
import os
import tarfile

import pytest
import zstandard

from s2i.oci.image import FileBlob, Layer
from s2i.oci.mutate import append_layers
from s2i.oci.image import empty_image
from s2i.oci.types import OCI_LAYER_GZIP, OCI_LAYER_ZSTD, Descriptor, sha256_digest
from s2i.stack.rootfs import chain_id, unpack_image, unpack_tar_stream
from s2i.store import Store


def tar_of(entries) -> bytes:
    """entries: (name, kind, payload) with kind file|dir|sym|link."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "link": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE}[kind]
            info.mode = 0o755 if kind == "dir" else 0o644
            if kind in ("sym", "link"):
                info.linkname = payload
            tar.addfile(info)
    return out.getvalue()


def snapshot(path):
    return sorted(os.path.relpath(os.path.join(d, f), path) for d, dirs, files in os.walk(path) for f in dirs + files)


def test_crafted_tar_writes_nothing_outside_the_root(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("host data")
    root = tmp_path / "sandbox" / "root"
    root.mkdir(parents=True)
    data = tar_of([
        ("../../x", "file", b"climb"),
        ("/abs", "file", b"absolute"),
        ("etc", "sym", str(outside)),  # a symlink to a host directory...
        ("etc/x", "file", b"through the link"),  # ...then a file through it
        ("up", "sym", "../../outside"),
        ("up/y", "file", b"relative climb"),
        ("hard", "link", str(outside / "secret")),
        ("hard2", "link", "../../outside/secret"),
        ("dev-null", "chr", ""),
    ])
    before = snapshot(tmp_path)
    unpack_tar_stream(str(root), io.BytesIO(data))
    after = snapshot(tmp_path)
    assert [p for p in after if not p.startswith("sandbox")] == [p for p in before if not p.startswith("sandbox")]
    assert (outside / "secret").read_text() == "host data"
    assert (root / "abs").read_bytes() == b"absolute"
    # the link stays a link; what went "through" it landed inside the root
    assert os.readlink(root / "etc") == str(outside)
    assert (root / str(outside).lstrip("/") / "x").read_bytes() == b"through the link"
    assert not (root / "hard").exists() and not (root / "hard2").exists()


def layer_blob(store, data: bytes, compression: str) -> Layer:
    compressed = gzip.compress(data, mtime=0) if compression == "gzip" else zstandard.ZstdCompressor().compress(data)
    digest = store.write_blob(compressed)
    media_type = OCI_LAYER_GZIP if compression == "gzip" else OCI_LAYER_ZSTD
    return Layer(Descriptor(media_type, digest, len(compressed)), sha256_digest(data), FileBlob(store.blob_path(digest)))


def test_unpack_image_applies_whiteouts_across_gzip_and_zstd(tmp_path):
    store = Store(tmp_path / "store")
    lower = layer_blob(store, tar_of([
        ("a", "dir", ""), ("a/keep", "file", b"1"), ("a/gone", "file", b"2"),
        ("opaque", "dir", ""), ("opaque/old", "file", b"3"),
    ]), "gzip")
    upper = layer_blob(store, tar_of([
        ("a/.wh.gone", "file", b""),
        ("opaque", "dir", ""), ("opaque/new", "file", b"4"), ("opaque/.wh..wh..opq", "file", b""),
    ]), "zstd")
    image = append_layers(empty_image(), [lower, upper])
    root = unpack_image(image, store)
    assert snapshot(root) == ["a", "a/keep", "opaque", "opaque/new"]
    assert root.name == chain_id([lower.diff_id, upper.diff_id]).replace(":", "-")
    assert unpack_image(image, store) == root  # cached
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".tmp-")]


def _unpack_in_child(store_root, image, queue):
    queue.put(str(unpack_image(image, Store(store_root))))


def test_two_processes_unpacking_at_once_share_one_result(tmp_path):
    store = Store(tmp_path / "store")
    files = [(f"f{n}", "file", os.urandom(200_000)) for n in range(50)]
    image = append_layers(empty_image(), [layer_blob(store, tar_of(files), "gzip")])
    queue = multiprocessing.get_context("fork").Queue()
    children = [multiprocessing.get_context("fork").Process(target=_unpack_in_child, args=(store.root, image, queue)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    results = {queue.get(), queue.get()}
    assert len(results) == 1
    assert len(snapshot(results.pop())) == 50
    assert not [p for p in (store.root / "rootfs").iterdir() if p.name.startswith(".tmp-")]
