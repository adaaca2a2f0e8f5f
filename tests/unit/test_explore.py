"""`inspect --layers/--files`: history per layer, files per layer, and what later layers overwrite or delete."""

from __future__ import annotations

import pytest

from s2i.commands.explore import (
    explore,
    files_json,
    format_files,
    format_layers,
    layer_history,
    layers_json,
    pick_layer,
)
from s2i.errors import UsageError
from s2i.oci.types import sha256_digest
from s2i.stack.rootfs import UnsafeLayer
from s2i.store import Store
from tests.unit.crafted import stored_image, tar_of

BASE = tar_of([("app", "dir", b""), ("app/main.py", "file", b"x" * 100), ("app/old.txt", "file", b"y" * 40),
               ("etc", "dir", b""), ("etc/conf", "file", b"z" * 7), ("data", "dir", b""), ("data/a", "file", b"a" * 5)])
TOP = tar_of([("app", "dir", b""), ("app/main.py", "file", b"new"), ("app/.wh.old.txt", "file", b""),
              ("data", "dir", b""), ("data/.wh..wh..opq", "file", b""), ("data/b", "file", b"b")])
HISTORY = {"history": [{"created_by": "s2i stack build: static"}, {"created_by": "meta", "empty_layer": True},
                       {"created_by": "s2i build (python): app layer"}]}


def image(tmp_path, tars=(BASE, TOP), config_extra=HISTORY, diff_ids=None):
    return stored_image(Store(tmp_path / "store"), list(tars), diff_ids, config_extra)


def by_path(rows):
    return {(row["layer"], row["path"]): row for row in rows}


def test_each_layer_shows_what_created_it_its_size_files_and_waste(tmp_path):
    views = explore(image(tmp_path))
    rows = layers_json(views)
    assert [r["createdBy"] for r in rows] == ["s2i stack build: static", "s2i build (python): app layer"]
    assert [r["files"] for r in rows] == [4, 4]  # directories are not counted as files
    assert rows[0]["wastedBytes"] == 100 + 40 + 5  # main.py overwritten, old.txt whited out, data/a hidden by opaque
    assert rows[1]["wastedBytes"] == 0
    assert rows[0]["size"] == views[0].size > 0
    assert "145 bytes in files a later layer replaces or deletes" in format_layers(views)


def test_files_are_marked_overwritten_or_deleted_by_the_later_layer(tmp_path):
    rows = by_path(files_json(explore(image(tmp_path))))
    assert rows[(1, "/app/main.py")]["overwrittenBy"] == 2
    assert rows[(1, "/app/old.txt")]["deletedBy"] == 2
    assert rows[(1, "/data/a")]["deletedBy"] == 2
    assert "overwrittenBy" not in rows[(1, "/etc/conf")] and "deletedBy" not in rows[(1, "/etc/conf")]
    assert "overwrittenBy" not in rows[(1, "/data")] and "deletedBy" not in rows[(1, "/data")]  # opaque keeps the dir itself
    assert rows[(2, "/app/main.py")]["size"] == 3
    text = format_files(explore(image(tmp_path)))
    assert "/app/old.txt  (deleted by layer 2)" in text and "/app/main.py  (overwritten by layer 2)" in text


def test_a_file_under_a_path_a_later_layer_turns_into_a_file_is_overwritten(tmp_path):
    later = tar_of([("etc", "file", b"not a dir any more")])
    rows = by_path(files_json(explore(image(tmp_path, (BASE, later), {}))))
    assert rows[(1, "/etc/conf")]["overwrittenBy"] == 2


def test_a_history_that_does_not_line_up_with_the_layers_is_not_trusted():
    assert layer_history({"history": [{"created_by": "one"}]}, 2) == ["(no history)"] * 2
    assert layer_history({}, 1) == ["(no history)"]
    assert layer_history({"history": [{"comment": "from a tool"}, {}]}, 2) == ["from a tool", "(not recorded)"]


def test_a_layer_is_picked_by_number_or_digest_prefix(tmp_path):
    views = explore(image(tmp_path), with_files=False)
    assert pick_layer(views, "2") is views[1]
    assert pick_layer(views, views[0].digest.removeprefix("sha256:")[:12]) is views[0]
    with pytest.raises(UsageError) as refused:
        pick_layer(views, "3")
    assert "give 1..2 or a digest prefix" in refused.value.one_line()


def test_a_layer_whose_tar_is_not_what_the_config_claims_is_refused(tmp_path):
    lying = image(tmp_path, (BASE,), {}, diff_ids=[sha256_digest(b"something else")])
    with pytest.raises(UnsafeLayer, match="not the config's"):
        explore(lying)
