"""Lock files: both formats read, content pinned, stale pins named all at once, changes listed."""

from __future__ import annotations

import pytest

from s2i.errors import S2IError
from s2i.stack.lock import Lock, StaleLock, changes, check_against_archive, format_lock, read_lock, write_lock


def test_round_trip_with_hashes_and_older_version_only_locks(tmp_path):
    lock = Lock({"libc6": "2.36-9"}, {"gcc": "4:12.2.0-3", "make": "4.3-4.1"}, {"libc6": "ab" * 32}, {"gcc": "cd" * 32})
    write_lock(tmp_path / "s.lock", lock)
    assert read_lock(tmp_path / "s.lock") == lock
    assert '"libc6" = { version = "2.36-9", sha256 = "' in format_lock(lock)
    (tmp_path / "old.lock").write_text('[run]\n"libc6" = "2.36-9"\n[builder]\n')
    assert read_lock(tmp_path / "old.lock") == Lock({"libc6": "2.36-9"}, {})
    assert read_lock(tmp_path / "none.lock") is None


def test_stale_pins_are_named_together_and_content_is_checked():
    records = {"libc6": {"SHA256": "ab" * 32}}
    check_against_archive("s.lock", {"libc6": "2.36-9"}, {"libc6": "ab" * 32}, records)
    with pytest.raises(StaleLock) as caught:
        check_against_archive("s.lock", {"libc6": "2.36-9", "tzdata": "1", "zlib1g": "2"}, {}, records)
    assert caught.value.message == "s.lock is stale: the Debian archive no longer has tzdata=1, zlib1g=2"
    assert caught.value.hint == "refresh it: s2i stack build s --update"
    with pytest.raises(S2IError) as caught:
        check_against_archive("s.lock", {"libc6": "2.36-9"}, {"libc6": "00" * 32}, records)
    assert "different content for libc6" in caught.value.message and not isinstance(caught.value, StaleLock)


def test_changes_lists_updates_additions_and_removals():
    assert changes({"a": "1", "b": "1", "c": "1"}, {"a": "2", "b": "1", "d": "1"}) == ["a 1 -> 2", "+d 1", "-c 1"]


def test_a_first_build_resolves_a_stale_stack_afresh(monkeypatch, capsys):
    from pathlib import Path
    from types import SimpleNamespace

    from s2i.stack import images

    updates = []

    def build_and_save(stack, store, update):
        updates.append(update)
        if not update:
            raise StaleLock("s.lock is stale: the Debian archive no longer has tzdata=1", "refresh it")

    def stack_image(stack, name, context, store):
        if not updates:
            raise images.StackNotBuilt("not built")
        return "the builder"

    monkeypatch.setattr(images, "build_and_save", build_and_save)
    monkeypatch.setattr(images, "stack_image", stack_image)
    stack = SimpleNamespace(name="s", lock_path=Path("stacks/s.lock"))
    assert images.ensure_stack_image(stack, "builder", None, None) == "the builder"
    assert updates == [False, True]
    assert "no longer has tzdata=1: resolving stack s afresh" in capsys.readouterr().err
