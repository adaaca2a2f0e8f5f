import gzip
import io
import os
import tarfile

import pytest
import zstandard

from s2i.archive import layer as layer_module
from s2i.archive.layer import tree_diff_id, write_layer
from s2i.archive.tarwriter import TarOptions, write_tree
from s2i.errors import UsageError
from s2i.oci.types import OCI_LAYER_GZIP, OCI_LAYER_ZSTD, sha256_digest
from s2i.store import Store


def make_tree(root, mtime):
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "app").write_text("#!/bin/sh\necho hi\n")
    (root / "bin" / "app").chmod(0o750)
    (root / "etc").mkdir()
    (root / "etc" / "conf").write_text("x=1\n")
    (root / "etc" / "conf").chmod(0o600)
    os.symlink("../bin/app", root / "etc" / "link")
    os.link(root / "bin" / "app", root / "zz-hardlink")
    for path in [root / "bin" / "app", root / "etc" / "conf", root / "etc", root / "bin", root]:
        os.utime(path, (mtime, mtime))
    return root


def tar_bytes(root, **options):
    out = io.BytesIO()
    write_tree(root, out, TarOptions(**options))
    return out.getvalue()


def members(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getmembers()


def test_tar_is_sorted_normalised_and_keeps_links(tmp_path):
    root = make_tree(tmp_path / "a", 1_600_000_000)
    entries = {m.name: m for m in members(tar_bytes(root, mtime=42, prefix="/app"))}
    assert list(entries) == ["app", "app/bin", "app/bin/app", "app/etc", "app/etc/conf", "app/etc/link", "app/zz-hardlink"]
    assert entries["app/bin/app"].mode == 0o755 and entries["app/etc/conf"].mode == 0o644
    assert entries["app/etc/link"].issym() and entries["app/etc/link"].linkname == "../bin/app"
    assert entries["app/zz-hardlink"].islnk() and entries["app/zz-hardlink"].linkname == "app/bin/app"
    assert all(m.mtime == 42 and m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "" for m in entries.values())


def test_owner_and_kept_modes(tmp_path):
    root = make_tree(tmp_path / "a", 0)
    entries = {m.name: m for m in members(tar_bytes(root, uid=65532, gid=65532, keep_modes=True))}
    assert entries["bin/app"].uid == 65532 and entries["bin/app"].gid == 65532
    assert entries["bin/app"].mode == 0o750 and entries["etc/conf"].mode == 0o600


def test_same_tree_with_different_disk_mtimes_gives_same_bytes(tmp_path):
    first = tar_bytes(make_tree(tmp_path / "a", 1_000_000))
    second = tar_bytes(make_tree(tmp_path / "b", 2_000_000))
    assert first == second


def test_prefix_may_not_escape(tmp_path):
    with pytest.raises(UsageError):
        tar_bytes(make_tree(tmp_path / "a", 0), prefix="/../etc")


@pytest.mark.parametrize("compression, media_type, decompress", [
    ("gzip", OCI_LAYER_GZIP, gzip.decompress),
    ("zstd", OCI_LAYER_ZSTD, lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data)),
])
def test_write_layer_digests_match_bytes(tmp_path, compression, media_type, decompress):
    root = make_tree(tmp_path / "a", 0)
    store = Store(tmp_path / "store")
    blob = write_layer(root, store, media_type, compression, TarOptions())
    compressed = store.blob_path(blob.descriptor.digest).read_bytes()
    assert sha256_digest(compressed) == blob.descriptor.digest and len(compressed) == blob.descriptor.size
    assert sha256_digest(decompress(compressed)) == blob.diff_id == tree_diff_id(root, TarOptions())[0]
    assert blob.descriptor.media_type == media_type


def test_gzip_header_has_no_time_or_name(tmp_path):
    store = Store(tmp_path / "store")
    blob = write_layer(make_tree(tmp_path / "a", 0), store, OCI_LAYER_GZIP, "gzip", TarOptions())
    header = store.blob_path(blob.descriptor.digest).read_bytes()[:10]
    assert header[3] & 0x08 == 0  # FNAME flag
    assert header[4:8] == b"\0\0\0\0"  # MTIME


def test_known_diff_id_is_not_compressed_again(tmp_path, monkeypatch):
    root = make_tree(tmp_path / "a", 0)
    store = Store(tmp_path / "store")
    first = write_layer(root, store, OCI_LAYER_GZIP, "gzip", TarOptions())
    monkeypatch.setattr(layer_module, "_compressor", lambda *a: pytest.fail("compressed twice"))
    assert write_layer(root, store, OCI_LAYER_GZIP, "gzip", TarOptions()) == first


def test_cache_entry_without_blob_is_rebuilt(tmp_path):
    root = make_tree(tmp_path / "a", 0)
    store = Store(tmp_path / "store")
    first = write_layer(root, store, OCI_LAYER_GZIP, "gzip", TarOptions())
    store.blob_path(first.descriptor.digest).unlink()
    assert write_layer(root, store, OCI_LAYER_GZIP, "gzip", TarOptions()) == first
    assert store.has_blob(first.descriptor.digest, first.descriptor.size)


def test_store_leaves_no_temp_file_on_failure(tmp_path):
    store = Store(tmp_path / "store")
    with pytest.raises(RuntimeError):
        with store.temp_file() as (handle, path):
            handle.write(b"partial")
            raise RuntimeError("killed")
    assert list((tmp_path / "store" / "tmp").iterdir()) == []
    assert not (tmp_path / "store" / "blobs").exists()
