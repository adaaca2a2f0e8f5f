"""Cache entries in a real registry: writers racing, blobs that lie, entries that claim what they are not."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from s2i.archive.layer import write_layer
from s2i.archive.tarwriter import TarOptions
from s2i.build.remote_cache import RemoteCache, entry_image, entry_tag, parse_cache_repo
from s2i.oci.image import Layer
from s2i.oci.types import OCI_LAYER_GZIP
from s2i.store import Store
from s2i.transports import Context
from s2i.transports.registry.client import Registries
from s2i.transports.registry.push import push_image

pytestmark = pytest.mark.e2e

KEY = "sha256:" + "ab" * 32
TREE_KEY = "sha256:" + "cd" * 32


def runner(registry, root: Path) -> RemoteCache:
    """One CI runner's view of the cache: its own store and registry connections."""
    return RemoteCache(parse_cache_repo(f"{registry.host}/cache"), Context(Registries()), Store(root / "store"))


def build_cache(root: Path, flavour: str) -> Path:
    """A Go-like build cache: 64 entries, half the same on every runner, half this runner's own."""
    for n in range(64):
        entry = root / "go-build" / f"{n:02x}" / f"{n:02x}-d"
        entry.parent.mkdir(parents=True)
        entry.write_text(f"object {n} {flavour if n % 2 else 'shared'}\n" * 200)
    (root / "s2i-launch-1").write_text(flavour)
    return root


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def deps_layer(cache: RemoteCache, root: Path, text: str) -> None:
    """A deps layer made on this runner and remembered under KEY, as a build would."""
    (root / "site-packages").mkdir(parents=True)
    (root / "site-packages" / "lib.py").write_text(text)
    blob = write_layer(root, cache.store, OCI_LAYER_GZIP, "gzip", TarOptions())
    cache.store.remember_keyed_layer(KEY, blob.descriptor, blob.diff_id, {"labels": {"deps": text}})


def empty_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def warnings(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("s2i: warning:")]


def test_two_runners_writing_at_once_leave_one_whole_entry(registry, tmp_path, capsys):
    writers = [runner(registry, tmp_path / f"w{n}") for n in (1, 2)]
    trees = [build_cache(tmp_path / f"tree{n}", f"runner {n}") for n in (1, 2)]
    for n, writer in enumerate(writers):
        deps_layer(writer, tmp_path / f"deps{n}", f"built on runner {n}")
    for round_ in range(3):
        start = threading.Barrier(2, timeout=30)

        def export(writer, tree):
            start.wait()
            writer.export({"deps": KEY}, tree, TREE_KEY)

        threads = [threading.Thread(target=export, args=pair) for pair in zip(writers, trees)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        reader = runner(registry, tmp_path / f"reader{round_}")
        target = empty_dir(tmp_path / f"imported{round_}" / "go")
        reader.import_build_cache(target, TREE_KEY)
        reader.import_layers({"deps": KEY})
        assert files(target) in (files(trees[0]), files(trees[1]))  # one writer's whole tree, never a mix
        descriptor, diff_id, meta = reader.store.keyed_layer(KEY)
        assert meta["labels"]["deps"] in ("built on runner 0", "built on runner 1")
        assert (descriptor, diff_id, meta) in [writer.store.keyed_layer(KEY) for writer in writers]  # its own blob, diff_id and meta
    assert warnings(capsys) == []


def registry_blob(registry, digest: str) -> Path:
    hexdigest = digest.split(":")[1]
    return registry.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"


def test_a_blob_whose_bytes_do_not_match_is_a_miss(registry, tmp_path, capsys):
    writer = runner(registry, tmp_path / "writer")
    deps_layer(writer, tmp_path / "deps", "genuine")
    tree = build_cache(tmp_path / "tree", "genuine")
    writer.export({"deps": KEY}, tree, TREE_KEY)
    descriptor = writer.store.keyed_layer(KEY)[0]
    for path in registry.storage.glob("docker/registry/v2/blobs/sha256/*/*/data"):
        if path.stat().st_size > 2000 or path == registry_blob(registry, descriptor.digest):  # layers, not configs or manifests
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0xFF  # same size, other bytes
            path.write_bytes(bytes(data))
    reader = runner(registry, tmp_path / "reader")
    target = empty_dir(tmp_path / "fresh" / "go")
    reader.import_layers({"deps": KEY})
    reader.import_build_cache(target, TREE_KEY)
    assert reader.store.keyed_layer(KEY) is None and not reader.store.has_blob(descriptor.digest)
    assert list(target.iterdir()) == [] and [p.name for p in target.parent.iterdir()] == ["go"]  # nothing half-imported
    said = warnings(capsys)
    assert len(said) == 1 and "the deps layer entry is unusable, treated as a miss" in said[0], said


def test_an_entry_claiming_another_diff_id_or_key_is_a_miss(registry, tmp_path, capsys):
    writer = runner(registry, tmp_path / "writer")
    deps_layer(writer, tmp_path / "deps", "genuine")
    descriptor, diff_id, _ = writer.store.keyed_layer(KEY)
    lying = Layer(descriptor, "sha256:" + "0" * 64, writer.store.blob(descriptor))
    image = entry_image({"kind": "layer", "key": KEY, "meta": {}}, [lying])
    push_image(writer.registry, writer.repository.with_tag(entry_tag("layer", KEY)), image)
    other = "sha256:" + "ef" * 32  # a genuine entry for KEY, tagged as another key's
    genuine = entry_image({"kind": "layer", "key": KEY, "meta": {}}, [Layer(descriptor, diff_id, writer.store.blob(descriptor))])
    push_image(writer.registry, writer.repository.with_tag(entry_tag("layer", other)), genuine)
    for key in (KEY, other):
        reader = runner(registry, tmp_path / f"reader-{key[7:9]}")
        reader.import_layers({"deps": key})
        assert reader.store.keyed_layer(key) is None
        said = warnings(capsys)
        assert len(said) == 1 and "treated as a miss" in said[0], said
