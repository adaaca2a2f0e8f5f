import gzip
import io
import multiprocessing
import os
import tarfile

import tracemalloc

import pytest
import zstandard

from s2i.oci.image import FileBlob, Layer
from s2i.oci.mutate import append_layers
from s2i.oci.image import empty_image
from s2i.oci.types import OCI_LAYER_GZIP, OCI_LAYER_ZSTD, Descriptor, sha256_digest
from s2i.stack.rootfs import UnsafeLayer, chain_id, unpack_image, unpack_tar_stream
from s2i.store import Store
from tests.unit.crafted import stored_image, tar_of


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


def test_an_image_claiming_anothers_diff_ids_is_refused_and_leaves_nothing(tmp_path):
    store = Store(tmp_path / "store")
    builder_tar = tar_of([("bin", "dir", ""), ("bin/sh", "file", b"the real shell")])
    builder = stored_image(store, [builder_tar])
    hostile = stored_image(store, [tar_of([("bin", "dir", ""), ("bin/sh", "file", b"evil"), ("evil", "file", b"x")])],
                           diff_ids=[sha256_digest(builder_tar)])
    with pytest.raises(UnsafeLayer) as caught:
        unpack_image(hostile, store)
    assert caught.value.message == (f"layer 1 ({hostile.layers[0].descriptor.digest}) of image {hostile.digest}: its tar is "
                                    f"{sha256_digest(hostile_tar(hostile, store))} but the image config claims {sha256_digest(builder_tar)}")
    assert snapshot(store.root / "rootfs") == []
    assert (unpack_image(builder, store) / "bin" / "sh").read_bytes() == b"the real shell"


def hostile_tar(image, store) -> bytes:
    return gzip.decompress(store.blob_path(image.layers[0].descriptor.digest).read_bytes())


def test_whiteouts_never_remove_outside_their_directory(tmp_path):
    cache = tmp_path / "rootfs"
    (cache / "cached-builder" / "bin").mkdir(parents=True)
    root = cache / "new"
    root.mkdir()
    unpack_tar_stream(str(root), io.BytesIO(tar_of([("a", "dir", ""), ("a/keep", "file", b"1"), ("a/gone", "file", b"2")])))
    hostile = tar_of([(".wh..", "file", b""), (".wh...", "file", b""), ("a/.wh...", "file", b""), ("a/.wh..", "file", b""),
                      ("a/.wh..wh.plnk", "file", b""), ("a/.wh.gone", "file", b"")])
    unpack_tar_stream(str(root), io.BytesIO(hostile))
    assert snapshot(cache) == ["cached-builder", "cached-builder/bin", "new", "new/a", "new/a/keep"]


def test_devices_and_fifos_never_reach_the_host(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    unpack_tar_stream(str(root), io.BytesIO(tar_of([
        ("null", "chr", ""), ("sda", "blk", ""), ("pipe", "fifo", ""), ("su", "file", b"x", 0o4755), ("shared", "dir", "", 0o1777),
    ])))
    assert snapshot(root) == ["shared", "su"]
    assert (root / "su").stat().st_mode & 0o7777 == 0o4755  # stacks need setuid; bwrap's no_new_privs makes it inert


def test_sparse_members_are_refused(tmp_path):
    with pytest.raises(UnsafeLayer):
        unpack_tar_stream(str(tmp_path), io.BytesIO(tar_of([("holes", "sparse", "")], fmt=tarfile.GNU_FORMAT)))
    # PAX sparse 0.1: ten bytes in the stream, 64 MiB of holes on disk
    info = tarfile.TarInfo("GNUSparseFile.0/big")
    info.size = 10
    info.pax_headers = {"GNU.sparse.map": "0,10", "GNU.sparse.size": str(64 << 20), "GNU.sparse.name": "big"}
    with pytest.raises(UnsafeLayer):
        unpack_tar_stream(str(tmp_path), io.BytesIO(info.tobuf(tarfile.PAX_FORMAT) + b"x" * 10 + b"\0" * 1526))
    assert not (tmp_path / "big").exists()


def pax_bomb(header_bytes: int) -> bytes:
    """A gzip layer whose one member carries a `header_bytes` pax header: tiny compressed, huge to parse whole."""
    info = tarfile.TarInfo("file")
    info.pax_headers = {"comment": "x" * header_bytes}
    return gzip.compress(info.tobuf(tarfile.PAX_FORMAT) + b"\0" * 1024, compresslevel=9, mtime=0)


def test_a_pax_header_bomb_is_refused_before_it_is_read(tmp_path):
    blob = pax_bomb(64 << 20)
    assert len(blob) < 254 << 10
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeLayer) as caught:
            unpack_tar_stream(str(tmp_path), gzip.GzipFile(fileobj=io.BytesIO(blob)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "over the 1 MiB limit" in caught.value.message and peak < 16 << 20


def test_a_decompression_bomb_stops_at_the_unpack_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("S2I_MAX_UNPACK", "1M")
    store = Store(tmp_path / "store")
    image = stored_image(store, [tar_of([("zeros", "file", b"\0" * (4 << 20))])])
    with pytest.raises(UnsafeLayer) as caught:
        unpack_image(image, store)
    assert caught.value.message.endswith("it expands past the unpack limit of 1048576 bytes (S2I_MAX_UNPACK)")
    assert snapshot(store.root / "rootfs") == []

