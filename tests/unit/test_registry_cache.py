"""The registry cache's pure parts: the repository it names, entry tags, how a build cache is split into blobs."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from s2i.archive.tarwriter import TarOptions, write_tree
from s2i.build.remote_cache import BUCKETS, build_cache_key, cache_parts, entry_tag, parse_cache_repo
from s2i.errors import UsageError


def test_the_cache_names_a_repository_without_tag_or_digest():
    reference = parse_cache_repo("127.0.0.1:5000/team/cache")
    assert (reference.registry, reference.repository, reference.tag, reference.digest) == ("127.0.0.1:5000", "team/cache", "", "")
    for bad in ("127.0.0.1:5000/cache:v1", "127.0.0.1:5000/cache@sha256:" + "a" * 64):
        with pytest.raises(UsageError, match="names a tag or digest"):
            parse_cache_repo(bad)


def test_an_entry_tag_is_a_valid_tag_naming_its_kind_and_key():
    key = "sha256:" + "0123456789abcdef" * 4
    assert entry_tag("layer", key) == "layer-" + "0123456789abcdef" * 4
    assert len(entry_tag("cache", key)) <= 128


def test_the_build_cache_key_depends_on_buildpack_builder_and_app_name(tmp_path):
    (tmp_path / "a" / "shop").mkdir(parents=True)
    (tmp_path / "b" / "shop").mkdir(parents=True)
    key = build_cache_key("go", "sha256:1", tmp_path / "a" / "shop")
    assert key == build_cache_key("go", "sha256:1", tmp_path / "b" / "shop")  # another runner's checkout of the same app
    assert len({key, build_cache_key("python", "sha256:1", tmp_path / "a" / "shop"), build_cache_key("go", "sha256:2", tmp_path / "a" / "shop"),
                build_cache_key("go", "sha256:1", tmp_path)}) == 4


def go_cache(root: Path) -> Path:
    for bucket in range(256):
        (root / "go-build" / f"{bucket:02x}").mkdir(parents=True)
        (root / "go-build" / f"{bucket:02x}" / "entry-d").write_text(f"object {bucket}")
    (root / "go-build" / "trim.txt").write_text("1700000000")
    (root / "go-mod" / "cache" / "download").mkdir(parents=True)
    (root / "s2i-launch-1").write_bytes(b"\x7fELF")
    (root / "empty").mkdir()
    os.symlink("/etc", root / "go-mod" / "escape")
    return root


def test_a_build_cache_splits_into_disjoint_buckets_covering_every_entry(tmp_path):
    parts = cache_parts(go_cache(tmp_path))
    named = [name for part in parts for name in part]
    assert len(named) == len(set(named))
    assert set(named) == {"s2i-launch-1", "empty", "go-build/trim.txt", "go-mod/cache", "go-mod/escape",
                          *(f"go-build/{bucket:02x}" for bucket in range(256))}
    assert len([part for part in parts if part[0].startswith("go-build/")]) == BUCKETS
    assert parts == cache_parts(tmp_path)  # the same tree, the same split


def tar_names(root: Path, only: tuple[str, ...]) -> list[str]:
    out = io.BytesIO()
    write_tree(root, out, TarOptions(only=only))
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        return [(member.name, member.type) for member in tar.getmembers()]


def test_a_part_holds_its_entries_with_their_parents_and_never_goes_through_a_link(tmp_path):
    root = go_cache(tmp_path / "cache")
    assert tar_names(root, ("go-build/0a", "go-build/trim.txt")) == [
        ("go-build", tarfile.DIRTYPE), ("go-build/0a", tarfile.DIRTYPE), ("go-build/0a/entry-d", tarfile.REGTYPE),
        ("go-build/trim.txt", tarfile.REGTYPE)]
    assert tar_names(root, ("go-mod/escape",)) == [("go-mod", tarfile.DIRTYPE), ("go-mod/escape", tarfile.SYMTYPE)]
    assert tar_names(root, ("go-mod/escape/passwd",)) == []  # a link as a parent: the entry is left out
