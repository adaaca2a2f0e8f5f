"""Hostile images from a real registry or OCI layout: they cannot poison the builder cache, write outside
the store, delete through whiteouts, or ship corrupt bytes; each is one line and leaves the store usable."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from s2i.oci.image import BytesBlob, Image, Layer
from s2i.oci.reference import parse_reference
from s2i.oci.types import OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, Descriptor, canonical_json, sha256_digest
from s2i.stack.files import DEFAULT_STACK
from s2i.stack.rootfs import chain_id
from s2i.transports.registry.client import Registry, RegistryOptions
from s2i.transports.registry.push import push_image
from tests.e2e.conftest import REPO_ROOT, S2I

pytestmark = pytest.mark.e2e
CLIMB = "sha256:../../../evil"


def tar_of(entries: list[tuple[str, str, bytes]]) -> bytes:
    """(name, kind, data) with kind file|exe|blk|fifo, as a layer tar."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.mode = 0o755 if kind == "exe" else 0o644
            if kind in ("blk", "fifo"):
                info.type = tarfile.BLKTYPE if kind == "blk" else tarfile.FIFOTYPE
                tar.addfile(info)
                continue
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def image_of(tars: list[bytes], diff_ids: list[str] | None = None, entrypoint=("/hello",)) -> Image:
    """gzip layers from `tars`; the config claims `diff_ids` (by default the true ones)."""
    blobs = [gzip.compress(t, mtime=0) for t in tars]
    config = canonical_json({"architecture": "amd64", "os": "linux", "config": {"Entrypoint": list(entrypoint)},
                             "rootfs": {"type": "layers", "diff_ids": diff_ids or [sha256_digest(t) for t in tars]}})
    descriptors = [Descriptor(OCI_LAYER_GZIP, sha256_digest(b), len(b)) for b in blobs]
    manifest = canonical_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": Descriptor(OCI_CONFIG, sha256_digest(config), len(config)).to_json(),
                               "layers": [d.to_json() for d in descriptors]})
    layers = tuple(Layer(d, sha256_digest(t), BytesBlob(b)) for d, t, b in zip(descriptors, tars, blobs))
    return Image(manifest, config, layers)


def push(registry, name: str, image: Image) -> str:
    """Push with s2i's own push code, which trusts what it is given: the registry checks blob digests only."""
    client = Registry(registry.host, RegistryOptions(retries=1))
    try:
        push_image(client, parse_reference(f"{registry.host}/{name}"), image)
    finally:
        client.close()
    return f"{registry.host}/{name}"


def hello_tar(static_hello: Path) -> tuple[str, str, bytes]:
    return ("hello", "exe", (static_hello / "hello").read_bytes())


def listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_an_image_claiming_the_builders_diff_ids_cannot_replace_the_builder(builder, registry, tmp_path, static_hello):
    # a private store holding the session's stack images, but no unpacked rootfs yet: the hostile run comes first
    private = S2I(tmp_path / "private")
    (private.cache / "s2i").mkdir()
    for name in ("blobs", "refs"):
        subprocess.run(["cp", "-al", builder.cache / "s2i" / name, private.cache / "s2i" / name], check=True, timeout=120)
    ref = json.loads((private.cache / "s2i" / "refs" / "stacks" / DEFAULT_STACK / "builder").read_text())
    manifest = json.loads((private.cache / "s2i" / "blobs" / "sha256" / ref["digest"][7:]).read_text())
    config = json.loads((private.cache / "s2i" / "blobs" / "sha256" / manifest["config"]["digest"][7:]).read_text())
    builder_diff_ids = config["rootfs"]["diff_ids"]
    evil = tar_of([hello_tar(static_hello), ("evil", "file", b"planted by a hostile image")])
    hostile = image_of([evil] * len(builder_diff_ids), builder_diff_ids)
    reference = push(registry, "hostile/builder-twin:1", hostile)

    result = private("run", reference, env=builder.stack.env, timeout=300)
    assert result.returncode == 1
    assert result.stderr == (f"s2i: error: layer 1 ({hostile.layers[0].descriptor.digest}) of image {hostile.digest}: its tar is "
                             f"{sha256_digest(evil)} but the image config claims {builder_diff_ids[0]} "
                             "(the image is corrupt or hostile; nothing was kept)\n")
    assert listing(private.cache / "s2i" / "rootfs") == []

    built = private("build", REPO_ROOT / "examples" / "c-hello", "store:builds/c-hello", env=builder.stack.env, timeout=600)
    assert built.returncode == 0, built.stderr
    rootfs = private.cache / "s2i" / "rootfs" / chain_id(builder_diff_ids).replace(":", "-")
    assert (rootfs / "usr" / "bin").is_dir() and not (rootfs / "evil").exists()
    assert [p.name for p in rootfs.parent.iterdir()] == [rootfs.name]


def test_a_climbing_diff_id_from_a_registry_writes_nothing_outside_the_store(s2i, registry, static_hello):
    reference = push(registry, "hostile/climb:1", image_of([tar_of([hello_tar(static_hello)])], [CLIMB]))
    result = s2i("run", reference, timeout=120)
    assert result.returncode == 1
    assert result.stderr == (f"s2i: error: config of {reference}, diff_id 1: invalid digest '{CLIMB}' "
                             "(a digest is sha256: and 64 lowercase hex digits (or sha512: and 128))\n")
    assert listing(s2i.cache) == []  # refused before the store is touched: no rootfs, nothing beside it


def test_climbing_digests_in_an_oci_layout_are_one_line(s2i, registry, tmp_path):
    layout = tmp_path / "deep" / "er" / "layout"
    layout.mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": CLIMB, "size": 10, "annotations": {"org.opencontainers.image.ref.name": "t"}}]}))
    result = s2i("copy", f"oci:{layout}:t", f"{registry.host}/copied:1", timeout=120)
    assert result.returncode == 1
    assert result.stderr == (f"s2i: error: {layout}/index.json, tag t: invalid digest '{CLIMB}' "
                             "(a digest is sha256: and 64 lowercase hex digits (or sha512: and 128))\n")
    assert registry.manifest_tags("copied") == set()

    # a manifest in the layout whose layer descriptor climbs: nothing is written beside the target layout
    image = image_of([tar_of([("a", "file", b"x")])])
    hostile = json.loads(image.manifest_bytes)
    hostile["layers"][0]["digest"] = "sha256:../../escaped"
    manifest = canonical_json(hostile)
    (layout / "blobs" / "sha256").mkdir(parents=True)
    for blob in (manifest, image.config_bytes):
        (layout / "blobs" / "sha256" / sha256_digest(blob)[7:]).write_bytes(blob)
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": sha256_digest(manifest), "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": "t"}}]}))
    result = s2i("copy", f"oci:{layout}:t", f"oci:{tmp_path / 'out'}:t", timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith(f"s2i: error: manifest of oci:{layout}:t, layer 1: invalid digest 'sha256:../../escaped'")
    assert not (tmp_path / "out").exists() and not (tmp_path / "escaped").exists()


def test_whiteouts_devices_and_fifos_from_a_layer_stay_inside_its_rootfs(s2i, registry, static_hello):
    victim = image_of([tar_of([hello_tar(static_hello)])])
    victim_ref = push(registry, "victim:1", victim)
    first = s2i("run", victim_ref, timeout=120)
    assert (first.returncode, first.stdout) == (0, "hello from s2i\n"), first.stderr
    hostile_layer = tar_of([(".wh...", "file", b""), (".wh..", "file", b""), ("etc/.wh...", "file", b""),
                            ("sda", "blk", b""), ("pipe", "fifo", b""), ("etc/passwd", "file", b"app:x:1:1::/:/bin/sh\n")])
    hostile = image_of([tar_of([hello_tar(static_hello)]), hostile_layer])
    result = s2i("run", push(registry, "hostile/whiteout:1", hostile), timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello from s2i\n", "")
    cache = s2i.cache / "s2i" / "rootfs"
    victim_root = cache / chain_id([layer.diff_id for layer in victim.layers]).replace(":", "-")
    hostile_root = cache / chain_id([layer.diff_id for layer in hostile.layers]).replace(":", "-")
    assert sorted(p.name for p in cache.iterdir()) == sorted([victim_root.name, hostile_root.name])
    assert (victim_root / "hello").is_file()
    assert {"hello", "etc", "etc/passwd"} <= set(listing(hostile_root))
    assert not {"sda", "pipe"} & set(listing(hostile_root))


def test_a_corrupt_store_blob_is_named_and_never_pushed(s2i, registry, tmp_path, static_hello):
    saved = s2i("append", "scratch", "store:apps/hello", "--layer", static_hello, "--entrypoint", "/hello", timeout=120)
    assert saved.returncode == 0, saved.stderr
    ref = json.loads((s2i.cache / "s2i" / "refs" / "apps" / "hello").read_text())
    blobs = s2i.cache / "s2i" / "blobs" / "sha256"
    layer = json.loads((blobs / ref["digest"][7:]).read_text())["layers"][0]
    path = blobs / layer["digest"][7:]
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF  # same size, other bytes: what a bad disk leaves
    path.write_bytes(bytes(data))
    (s2i.cache / "s2i" / ".build-killed" / "workspace").mkdir(parents=True)  # and what a killed build left
    result = s2i("copy", "store:apps/hello", f"{registry.host}/hello:1", timeout=120)
    assert result.returncode == 1
    assert result.stderr == (f"s2i: removed 1 leftovers of killed runs from {s2i.cache / 's2i'}\n"
                             f"s2i: error: {path}: blob {layer['digest']} does not match its digest "
                             "(the copy is corrupt or was tampered with; delete it, then fetch or build the image again)\n")
    assert registry.manifest_tags("hello") == set() and layer["digest"] not in registry.blob_digests()
    assert not (s2i.cache / "s2i" / ".build-killed").exists()
