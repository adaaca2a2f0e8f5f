"""What a build changed and used in an imported build cache: the snapshot, the access times, the parts left out."""

from __future__ import annotations

import os
import time
from pathlib import Path

from s2i.build.cache_delta import changed_paths, forget_reads, freshen, new_go_entries, snapshot, unused_files, used_parts


def cache_tree(root: Path) -> Path:
    for name, text in {"go-build/0a/one-a": "v1 one", "go-build/0a/one-d": "output one", "go-build/0b/two-d": "output two",
                       "go-build/trim.txt": "1700000000", "go-mod/cache/x.info": "{}"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "go-mod" / "link").symlink_to("cache")
    return root


def test_only_files_written_or_added_since_the_snapshot_are_changed(tmp_path):
    root = cache_tree(tmp_path)
    freshen(root)
    before = snapshot(root)
    assert (root / "go-build/0a/one-d").read_text() == "output one"  # read only: not a change
    (root / "go-build/0a/one-a").write_text("v1 ONE")  # the same size, other bytes
    (root / "go-build/0c").mkdir()
    (root / "go-build/0c/new-d").write_text("new")
    os.chmod(root / "go-mod/cache/x.info", 0o600)
    (root / "go-build/0b/two-d").unlink()  # a cache keeps what is gone: not named
    (root / "go-mod/link").unlink()
    (root / "go-mod/link").symlink_to("elsewhere")
    assert changed_paths(before, snapshot(root)) == ("go-build/0a/one-a", "go-build/0c/new-d", "go-mod/cache/x.info", "go-mod/link")
    assert changed_paths(snapshot(root), snapshot(root)) == ()


def test_a_rewrite_that_puts_the_old_times_back_is_still_a_change(tmp_path):
    root = cache_tree(tmp_path)
    before = snapshot(root)
    path = root / "go-build/0a/one-a"
    st = os.stat(path)
    time.sleep(0.02)
    path.write_text("v1 ONE")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # ctime moves all the same
    assert changed_paths(before, snapshot(root)) == ("go-build/0a/one-a",)


def test_files_the_build_neither_read_nor_wrote_are_unused(tmp_path):
    root = cache_tree(tmp_path) / "go-build"
    forget_reads(root)
    started = time.time_ns()
    time.sleep(0.02)  # past the file system's coarse clock
    assert (root / "0a/one-a").read_text() == "v1 one"
    (root / "0c").mkdir()
    (root / "0c/new-d").write_text("new")
    assert unused_files(root, started) == {"0a/one-d", "0b/two-d", "trim.txt"}


def test_with_no_read_showing_nothing_is_taken_for_unused(tmp_path):
    root = cache_tree(tmp_path) / "go-build"
    forget_reads(root)
    started = time.time_ns()
    time.sleep(0.02)
    (root / "0c").mkdir()
    (root / "0c/new-d").write_text("new")  # written, but no read shows: a noatime mount looks like this
    assert unused_files(root, started) == set()


def test_an_imported_file_shows_a_read_and_keeps_its_state_until_written(tmp_path):
    root = cache_tree(tmp_path)
    freshen(root)
    before = snapshot(root)
    started = time.time_ns()
    time.sleep(0.02)
    assert (root / "go-build/0b/two-d").read_text() == "output two"
    assert unused_files(root / "go-build", started) == {"0a/one-a", "0a/one-d", "trim.txt"}
    assert changed_paths(before, snapshot(root)) == ()  # a read moves atime only


def test_unused_go_cache_files_are_left_out_of_the_parts_and_the_rest_kept_whole(tmp_path):
    root = cache_tree(tmp_path)
    parts = [("go-build/0a", "go-build/trim.txt"), ("go-build/0b",), ("go-mod",)]
    assert used_parts(root, "go-build", parts, set()) == parts
    assert used_parts(root, "go-build", parts, {"go-build/0a/one-d", "go-build/0b/two-d", "go-mod/cache/x.info"}) == [
        ("go-build/0a/one-a", "go-build/trim.txt"), ("go-mod",)]  # only Go's build cache is pruned


def go_index(root: Path, action: str, output: str, when: int) -> str:
    path = f"go-build/{action[:2]}/{action}-a"
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(f"v1 {action} {output} {0:20d} {when:20d}\n")
    return path


def test_a_go_index_entry_stored_again_for_an_imported_output_is_not_new(tmp_path):
    root = cache_tree(tmp_path)
    kept, other, fresh = "a" * 64, "b" * 64, "c" * 64
    (root / f"go-build/{kept[:2]}").mkdir()
    (root / f"go-build/{kept[:2]}/{kept}-d").write_text("")
    again, moved, missing = (go_index(root, action, kept, 1) for action in ("1" * 64, "2" * 64, "3" * 64))
    freshen(root)
    before = snapshot(root)
    go_index(root, "1" * 64, kept, 2)  # only the time is new: Go stored the same output again
    go_index(root, "2" * 64, other, 2)  # another output, not among those imported
    go_index(root, "3" * 64, fresh, 2)
    (root / f"go-build/{fresh[:2]}").mkdir()
    (root / f"go-build/{fresh[:2]}/{fresh}-d").write_text("new output")
    (root / "go-build/0a/one-a").write_text("not an index entry")
    after = snapshot(root)
    changed = changed_paths(before, after)
    assert again in changed
    assert new_go_entries(root, "go-build", before, after, changed) == tuple(
        sorted((moved, missing, f"go-build/{fresh[:2]}/{fresh}-d", "go-build/0a/one-a")))
