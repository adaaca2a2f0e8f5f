"""The store verifies what it keeps and hands out, and a lone run sweeps what killed runs left."""

import fcntl
import os

import pytest

from s2i.errors import S2IError
from s2i.oci.image import BytesBlob, parse_platform
from s2i.oci.reference import parse_reference
from s2i.oci.types import OCI_LAYER_GZIP, Descriptor
from s2i.store import Store
from s2i.transports import layout
from s2i.transports.local import load_image, save_image
from s2i.transports.registry.client import Registry, RegistryOptions
from s2i.transports.registry.push import push_image
from tests.unit.crafted import stored_image, tar_of
from tests.unit.fake_registry import FakeRegistry


def corrupt(path) -> None:
    """Flip one byte in place, keeping the size: what a bad disk or a tamperer does."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    os.chmod(path, 0o644)
    path.write_bytes(bytes(data))


def saved_image(tmp_path):
    store = Store(tmp_path / "store")
    image = stored_image(store, [tar_of([("app", "file", b"the app" * 1000)])])
    save_image(store, "builds/app", image)
    return store, load_image(store, "builds/app")


def test_a_corrupt_store_blob_is_fetched_again_from_its_source(tmp_path):
    store = Store(tmp_path / "store")
    data = os.urandom(4096)
    digest = store.write_blob(data)
    corrupt(store.blob_path(digest))
    assert store.fetch(Descriptor(OCI_LAYER_GZIP, digest, len(data)), BytesBlob(data)).read_bytes() == data


def test_a_corrupt_store_blob_is_never_copied_out(tmp_path):
    store, image = saved_image(tmp_path)
    corrupt(store.blob_path(image.layers[0].descriptor.digest))
    with pytest.raises(S2IError) as caught:
        layout.write_image(tmp_path / "copy", "t", image)
    assert caught.value.message.endswith(f"blob {image.layers[0].descriptor.digest} does not match its digest")
    assert not (tmp_path / "copy" / "blobs" / "sha256" / image.layers[0].descriptor.digest[7:]).exists()
    assert not (tmp_path / "copy" / "index.json").exists()
    with pytest.raises(S2IError) as caught:
        store.fetch(image.layers[0].descriptor, image.layers[0].source)
    assert caught.value.message.startswith(f"store blob {image.layers[0].descriptor.digest} is corrupt")


def test_a_corrupt_store_blob_is_never_pushed(tmp_path):
    store, image = saved_image(tmp_path)
    corrupt(store.blob_path(image.layers[0].descriptor.digest))
    fake = FakeRegistry()
    registry = Registry("registry.test", RegistryOptions(transport=fake.transport(), backoff=0.0))
    with pytest.raises(S2IError) as caught:
        push_image(registry, parse_reference("registry.test/t/app:1"), image)
    assert "does not match its digest" in caught.value.message and "\n" not in caught.value.one_line()
    assert not fake.manifests and image.layers[0].descriptor.digest not in fake.blobs


def test_a_tampered_layout_blob_is_refused_when_copied(tmp_path):
    _, image = saved_image(tmp_path)
    layout.write_image(tmp_path / "source", "t", image)
    corrupt(tmp_path / "source" / "blobs" / "sha256" / image.layers[0].descriptor.digest[7:])
    read = layout.read_image(tmp_path / "source", "t", parse_platform("linux/amd64"))
    with pytest.raises(S2IError):
        layout.write_image(tmp_path / "copy", "t", read)
    assert not (tmp_path / "copy" / "blobs" / "sha256" / image.layers[0].descriptor.digest[7:]).exists()


def test_a_corrupt_manifest_in_the_store_is_named(tmp_path):
    store, image = saved_image(tmp_path)
    corrupt(store.blob_path(image.digest))
    with pytest.raises(S2IError) as caught:
        load_image(store, "builds/app")
    assert caught.value.message.startswith(f"manifest of store:builds/app: blob {image.digest}")


def leftovers(root):
    (root / ".build-x1" / "workspace").mkdir(parents=True)
    locked = root / "rootfs" / ".tmp-y1" / "usr" / "locked"
    locked.mkdir(parents=True)
    (locked / "file").write_text("x")
    locked.chmod(0o500)
    (root / "tmp").mkdir()
    (root / "tmp" / "tmpabc").write_text("half a blob")
    (root / "refs" / "stacks").mkdir(parents=True)
    (root / "refs" / "stacks" / ".builder.tmp-1").write_text("half a ref")
    (root / "rootfs" / "sha256-kept").mkdir()
    (root / "refs" / "stacks" / "builder").write_text("a ref")
    return {".build-x1", "rootfs/.tmp-y1", "tmp/tmpabc", "refs/stacks/.builder.tmp-1"}


def test_a_lone_run_sweeps_what_killed_runs_left(tmp_path):
    root = tmp_path / "store"
    gone = leftovers(root)
    Store(root)
    assert not [name for name in gone if os.path.lexists(root / name)]
    assert (root / "rootfs" / "sha256-kept").is_dir() and (root / "refs" / "stacks" / "builder").exists()


def test_nothing_is_swept_while_another_run_holds_the_store(tmp_path):
    root = tmp_path / "store"
    gone = leftovers(root)
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # what a live run holds
        Store(root)
        assert all(os.path.lexists(root / name) for name in gone)
    finally:
        os.close(fd)
