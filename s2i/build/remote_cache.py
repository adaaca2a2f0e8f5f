"""A cache in a registry repository (`--cache REPO`): reusable layers and build caches as images, shared by runners.

Each entry is an OCI image tagged by its key (`layer-<hex>`, `cache-<hex>`): blobs are content-addressed and
pushed first, the tag last, so two runners writing at once leave one whole entry. A reader checks every blob's
digest (and a layer's diff_id) itself and takes a mismatch for a miss; a registry that fails is one warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tarfile
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import zstandard

from s2i.archive.layer import ZSTD_LEVEL, HashingReader, open_uncompressed, write_layer
from s2i.archive.tarwriter import TarOptions
from s2i.build.cache_delta import Snapshot, changed_paths, forget_reads, freshen, new_go_entries, snapshot, unused_files, used_parts
from s2i.build.closure import valid_scan
from s2i.build.layers import keep_scan, kept_scan
from s2i.build.output import META_KEYS, check_keys
from s2i.errors import RegistryError, S2IError, UsageError
from s2i.oci.image import Image, Layer, empty_image
from s2i.oci.mutate import ConfigChanges, append_layers
from s2i.oci.reference import REFERENCE_HINT, Reference, parse_reference
from s2i.oci.types import OCI_LAYER_ZSTD, shorten
from s2i.progress import log
from s2i.stack.rootfs import unpack_layer, unpack_limit
from s2i.store import Store, remove_tree
from s2i.transports import Context

LABEL = "io.s2i.cache"  # the entry's record in its config: kind, key and (for a layer) what its step recorded
BUCKETS = 16  # a build cache directory is split in this many blobs, so a change re-sends a sixteenth of it
# an imported cache's changes go out as one more blob on top of the entry's; past this many (or past a quarter of the
# bucket blobs' bytes) the entry is written afresh in buckets, so a reader never unpacks a long chain
MAX_DELTAS = 8
# Go's build cache: every entry is optional (a missing one is compiled again), so a bucketed write leaves out those
# the build did not use, and the entry does not grow with every edit
PRUNED = "go-build"
# what a corrupt or hostile entry raises while it is read; each makes it a miss
CORRUPT = (S2IError, OSError, ValueError, EOFError, tarfile.TarError, zlib.error, zstandard.ZstdError)


def parse_cache_repo(text: str) -> Reference:
    """The repository `--cache` names: a registry repository, no tag or digest (s2i tags its entries)."""
    reference = parse_reference(text)
    if "@" in text or text.rsplit("/", 1)[-1].count(":"):
        raise UsageError(f"--cache {text!r} names a tag or digest", f"give the repository only, e.g. {reference.registry}/{reference.repository}")
    if not reference.registry:
        raise UsageError(f"--cache {text!r} is not a registry repository", REFERENCE_HINT)
    return dataclasses.replace(reference, tag="", digest="")


def entry_tag(kind: str, key: str) -> str:
    """A tag naming the entry for `key` (a sha256 digest): digest-safe, at most 128 characters."""
    return f"{kind}-{key.partition(':')[2]}"


def build_cache_key(buildpack: str, builder_digest: str, app: Path) -> str:
    """What a build cache is shared by: the buildpack, the builder and the app's directory name (stable across CI runners)."""
    text = "\0".join(("build-cache", buildpack, builder_digest, app.resolve().name))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def cache_parts(cache_dir: Path) -> list[tuple[str, ...]]:
    """The cache's entries in groups, one blob each: top-level files together, a directory's entries in BUCKETS by name."""
    groups: dict[tuple[str, int], list[str]] = {}
    for top in sorted(os.listdir(cache_dir)):
        path = cache_dir / top
        if not path.is_dir() or path.is_symlink():
            groups.setdefault(("", 0), []).append(top)
            continue
        for name in sorted(os.listdir(path)) or [""]:
            bucket = hashlib.sha256(name.encode()).digest()[0] % BUCKETS
            groups.setdefault((top, bucket), []).append(f"{top}/{name}" if name else top)
    return [tuple(names) for _, names in sorted(groups.items())]


def layer_diff_id(path: Path, layer: Layer) -> str:
    """The digest of the tar inside a stored layer blob, computed here rather than taken from the entry."""
    with open(path, "rb") as raw:
        tar = HashingReader(open_uncompressed(raw, layer.descriptor.media_type), "sha256", unpack_limit(), "the layer is too large")
        tar.drain()
    return tar.digest


def entry_image(record: dict, layers: list[Layer]) -> Image:
    return append_layers(empty_image(), layers, ConfigChanges(labels=((LABEL, json.dumps(record, sort_keys=True)),), created_by="s2i cache"))


def entry_record(image: Image) -> dict:
    try:
        record = json.loads(((image.config.get("config") or {}).get("Labels") or {}).get(LABEL, ""))
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise S2IError("the entry carries no s2i cache record")
    return record


def _bytes(layers: list[Layer]) -> int:
    return sum(layer.descriptor.size for layer in layers)


def _describe(exc: BaseException) -> str:
    return exc.one_line() if isinstance(exc, S2IError) else f"{type(exc).__name__}: {exc}"[:200]


class RemoteCache:
    """One build's use of a cache repository: read before the build, written after; at most one warning line."""

    def __init__(self, repository: Reference, context: Context, store: Store):
        from s2i.transports.registry.client import Registry

        # one try per request: a cache is never worth a build's time in retries
        self.registry = Registry(repository.registry, dataclasses.replace(context.registries.options, retries=1))
        self.repository, self.context, self.store = repository, context, store
        self.where = f"{repository.registry}/{repository.repository}"
        self.warned = self.off = False
        self.seen: dict[str, str] = {}  # tag -> digest of the entry read, so an unchanged entry is not written again
        self.imported: tuple[Image, Snapshot] | None = None  # the build cache entry unpacked here, and its files' state after
        self.started = 0  # when the build began (ns): a Go cache entry neither read nor written since was not used

    def _warn(self, message: str) -> None:
        if not self.warned:
            log(f"warning: cache {self.where}: {message}")
        self.warned = True

    def start(self) -> None:
        """Ask the registry first: unreachable or refusing, the cache is off for this build."""
        from s2i.transports.registry.api import ping

        try:
            ping(self.registry)
        except CORRUPT as exc:
            self._warn(f"unusable, building without it: {_describe(exc)}")
            self.off = True

    def _read(self, kind: str, key: str, what: str) -> Image | None:
        """The entry for `key`, or None on a miss: absent, or unreadable (a warning), never a failed build."""
        from s2i.transports.registry.pull import read_image

        tag = entry_tag(kind, key)
        try:
            image = read_image(self.registry, self.repository.with_tag(tag), self.context.platform)
            record = entry_record(image)
            if record.get("key") != key or record.get("kind") != kind:
                raise S2IError(f"entry {tag} records {shorten(record.get('kind'))} {shorten(record.get('key'))}")
        except RegistryError as exc:
            if exc.status != 404:
                raise
            log(f"cache: no {what} in {self.where} yet")
            return None
        self.seen[tag] = image.digest
        return image

    def _adopt(self, what: str, adopt) -> None:
        try:
            adopt()
        except CORRUPT as exc:
            self._warn(f"the {what} entry is unusable, treated as a miss: {_describe(exc)}")

    def import_layers(self, keys: dict[str, str]) -> None:
        """Reusable layers the store does not hold, checked blob and tar, remembered under their keys."""
        for name, key in keys.items():
            if not self.off and not self.store.keyed_layer(key):
                self._adopt(f"{name} layer", lambda: self._import_layer(name, key))

    def _import_layer(self, name: str, key: str) -> None:
        image = self._read("layer", key, f"{name} layer")
        if image is None:
            return
        if len(image.layers) != 1:
            raise S2IError(f"entry {entry_tag('layer', key)} holds {len(image.layers)} layers, not one")
        layer = image.layers[0]
        path = self.store.fetch(layer.descriptor, layer.source)  # checks the digest as it copies
        if layer_diff_id(path, layer) != layer.diff_id:
            raise S2IError(f"layer {layer.descriptor.digest}'s tar does not match the diff_id its entry claims")
        record = entry_record(image)
        meta = check_keys(record.get("meta") or {}, "cache entry meta", META_KEYS)
        if valid_scan(record.get("closure")):  # the native closure's scan of this tar: no unpacking it to scan again
            keep_scan(self.store, layer.diff_id, record["closure"])
        self.store.remember_keyed_layer(key, layer.descriptor, layer.diff_id, meta)
        log(f"cache: the {name} layer comes from {self.where}")

    def import_build_cache(self, cache_dir: Path, key: str) -> None:
        """Fill an empty build cache (a fresh runner's) from the entry, unpacked aside and moved in whole."""
        if not self.off and not any(cache_dir.iterdir()):  # a warm local cache is newer than a shared one
            self._adopt("build cache", lambda: self._import_tree(cache_dir, key))

    def _import_tree(self, cache_dir: Path, key: str) -> None:
        image = self._read("cache", key, "build cache")
        if image is None:
            return
        temp = Path(tempfile.mkdtemp(dir=cache_dir.parent, prefix=".import-"))
        try:
            self._unpack_parts(temp, image.layers)
            freshen(temp)
            taken = snapshot(temp)
            os.rmdir(cache_dir)
            os.rename(temp, cache_dir)
        finally:
            if temp.exists():
                remove_tree(temp)
        self.imported = (image, taken)
        log(f"cache: the build cache comes from {self.where} ({len(image.layers)} parts)")

    def _unpack_parts(self, root: Path, layers: list[Layer]) -> None:
        """Fetch every part at once (a fresh runner waits on the network), unpack them in order as they arrive."""
        left = unpack_limit()
        with ThreadPoolExecutor(max_workers=max(1, self.context.jobs)) as pool:
            blobs = [pool.submit(self.store.fetch, layer.descriptor, layer.source) for layer in layers]
            for layer, blob in zip(layers, blobs):  # unpack_layer checks the blob's digest and its tar's diff_id
                left -= unpack_layer(str(root), blob.result(), layer, left)
                if layer.descriptor.media_type == OCI_LAYER_ZSTD:  # the next export finds these parts already made
                    self.store.remember_layer(layer.diff_id, f"zstd-{ZSTD_LEVEL}", layer.descriptor)

    def before_build(self, cache_dir: Path) -> None:
        """Make the build's reads of Go's cache show (an imported cache is already so), then note the time."""
        if not self.off and not self.imported:
            forget_reads(cache_dir / PRUNED)
        self.started = time.time_ns()

    def export(self, keys: dict[str, str], cache_dir: Path, cache_key: str) -> None:
        """Write the entries this build changed: blobs the repository lacks, then each entry's tag."""
        if self.off:
            return
        try:
            entries = [*self._layer_entries(keys), *self._tree_entry(cache_dir, cache_key)]
            changed = [(tag, image) for tag, image in entries if self.seen.get(tag) != image.digest]
            results = [result for tag, image in changed for result in self._push(tag, image)]
        except CORRUPT as exc:
            self._warn(f"not written: {_describe(exc)}")
            return
        uploaded = [r for r in results if r.outcome == "uploaded"]
        log(f"cache: {len(changed)} of {len(entries)} entries written to {self.where}: {len(uploaded)} blobs uploaded "
            f"({sum(r.size for r in uploaded)} bytes), {len(results) - len(uploaded)} already there")

    def _layer_entries(self, keys: dict[str, str]) -> list[tuple[str, Image]]:
        entries = []
        for key in keys.values():
            if record := self.store.keyed_layer(key):
                descriptor, diff_id, meta = record
                layer = Layer(descriptor, diff_id, self.store.blob(descriptor))
                scan = kept_scan(self.store, diff_id)
                record = {"kind": "layer", "key": key, "meta": meta, **({"closure": scan} if scan else {})}
                entries.append((entry_tag("layer", key), entry_image(record, [layer])))
        return entries

    def _tree_entry(self, cache_dir: Path, key: str) -> list[tuple[str, Image]]:
        tag = entry_tag("cache", key)
        if self.imported and (image := self._delta_entry(cache_dir, key)):
            return [(tag, image)]
        unused = unused_files(cache_dir / PRUNED, self.started) if self.started else set()
        parts = used_parts(cache_dir, PRUNED, cache_parts(cache_dir), {f"{PRUNED}/{path}" for path in unused})
        layers = [self._part(cache_dir, part) for part in parts]
        return [(tag, entry_image({"kind": "cache", "key": key, "base": len(layers)}, layers))] if layers else []

    def _delta_entry(self, cache_dir: Path, key: str) -> Image | None:
        """The imported entry with this build's new and rewritten files as one more part (or as it was, when there are
        none); None when its chain is long enough to be written afresh."""
        image, taken = self.imported
        now = snapshot(cache_dir)
        changed = new_go_entries(cache_dir, PRUNED, taken, now, changed_paths(taken, now))
        if not changed:
            return image
        base = entry_record(image).get("base")
        base = base if isinstance(base, int) and 0 < base <= len(image.layers) else len(image.layers)
        deltas = [*image.layers[base:], self._part(cache_dir, changed)]
        if len(deltas) > MAX_DELTAS or 4 * _bytes(deltas) > _bytes(image.layers[:base]):
            return None
        return entry_image({"kind": "cache", "key": key, "base": base}, [*image.layers[:base], *deltas])

    def _part(self, cache_dir: Path, names: tuple[str, ...]) -> Layer:
        # zstd: a build cache is written after every build, and only s2i reads it, so the fast codec wins
        blob = write_layer(cache_dir, self.store, OCI_LAYER_ZSTD, "zstd", TarOptions(only=names))
        return Layer(blob.descriptor, blob.diff_id, self.store.blob(blob.descriptor))

    def _push(self, tag: str, image: Image) -> list:
        from s2i.transports.registry.push import push_image

        return push_image(self.registry, self.repository.with_tag(tag), image, self.context.jobs)[1]
