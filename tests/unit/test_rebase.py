"""Rebase's pure parts: what counts as a compatible base, how the new image is put together."""

from __future__ import annotations

import pytest

from s2i.commands.rebase import (
    _own_history,
    base_layer_count,
    check_compatible,
    rebased,
)
from s2i.errors import UsageError
from s2i.oci.mutate import ConfigChanges, append_layers
from s2i.oci.types import ANNOTATION_BASE_DIGEST, ANNOTATION_BASE_LAYERS
from s2i.stack.build import upstream_version
from s2i.store import Store
from tests.unit.crafted import stored_image, tar_of

APP = {"io.s2i.stack": "debian-bookworm", "io.s2i.stack.image": "run-python", "io.s2i.stack.libc": "2.36", "io.s2i.stack.python": "3.11"}


def test_debian_versions_give_the_upstream_abi_version():
    assert upstream_version("2.36-9+deb12u14") == "2.36"
    assert upstream_version("1:1.2.13.dfsg-1") == "1.2.13"
    assert upstream_version("2.41-12") == "2.41"


def test_a_base_of_the_same_family_with_a_newer_libc_is_accepted():
    check_compatible(APP, {**APP, "io.s2i.stack.libc": "2.36", "io.s2i.stack.lock": "sha256:new"}, "new")
    check_compatible(APP, {**APP, "io.s2i.stack.libc": "2.37"}, "new")
    check_compatible({}, {}, "a base s2i knows nothing about, for an image that claims nothing")


@pytest.mark.parametrize("change, said", [
    ({"io.s2i.stack": "debian-trixie"}, "from stack debian-trixie"),
    ({"io.s2i.stack.image": "run-base"}, "is stack image run-base"),
    ({"io.s2i.stack.libc": "2.31"}, "glibc 2.31, older than the 2.36"),
    ({"io.s2i.stack.libc": "2.4"}, "glibc 2.4, older"),  # compared as numbers, not text
    ({"io.s2i.stack.python": "3.13"}, "CPython 3.13"),
])
def test_another_family_or_an_older_abi_is_refused(change, said):
    with pytest.raises(UsageError) as refused:
        check_compatible(APP, {**APP, **change}, "new")
    assert said in refused.value.one_line()


def test_the_apps_history_is_what_follows_the_bases_layers():
    history = [{"created_by": "a"}, {"created_by": "env", "empty_layer": True}, {"created_by": "b"}, {"created_by": "app"}]
    assert _own_history(history, 2) == [{"created_by": "app"}]
    assert _own_history(history, 3) == []


def test_rebased_image_keeps_app_layers_and_config_on_the_new_base(tmp_path):
    store = Store(tmp_path / "store")
    old_base = stored_image(store, [tar_of([("etc/release", "file", b"1")])], config_extra={"config": {"Labels": {**APP, "io.s2i.stack.lock": "old"}}})
    new_base = stored_image(store, [tar_of([("etc/release", "file", b"2")]), tar_of([("etc/extra", "file", b"x")])],
                            config_extra={"config": {"Labels": {**APP, "io.s2i.stack.lock": "new"}}})
    app_layer = stored_image(store, [tar_of([("app/main.py", "file", b"print(1)")])]).layers[0]
    app = append_layers(old_base, [app_layer], ConfigChanges(entrypoint=("/app/main.py",), labels=(("org.example.team", "x"),)))
    assert base_layer_count(app) == 1
    image = rebased(app, 1, new_base, "reg/base:new")
    assert [l.diff_id for l in image.layers] == [*(l.diff_id for l in new_base.layers), app_layer.diff_id]
    assert image.config["rootfs"]["diff_ids"] == [l.diff_id for l in image.layers]
    runtime = image.config["config"]
    assert runtime["Entrypoint"] == ["/app/main.py"] and runtime["Labels"]["org.example.team"] == "x"
    assert runtime["Labels"]["io.s2i.stack.lock"] == "new"
    assert image.manifest["annotations"][ANNOTATION_BASE_DIGEST] == new_base.digest
    assert image.manifest["annotations"][ANNOTATION_BASE_LAYERS] == "2"
    assert image.manifest["layers"][-1] == app.manifest["layers"][-1]


def test_an_image_that_does_not_record_its_base_is_not_guessed_at(tmp_path):
    plain = stored_image(Store(tmp_path / "store"), [tar_of([("a", "file", b"1")])])
    with pytest.raises(UsageError) as refused:
        base_layer_count(plain)
    assert "rebuild older ones once" in refused.value.one_line()


def test_a_stack_named_by_an_image_label_is_a_known_name_never_a_path():
    from s2i.stack.files import known_stack

    assert known_stack("debian-bookworm") == "debian-bookworm"
    for hostile in ("../../etc/passwd", "/tmp/x.toml", "debian-bookworm.toml", "no-such-stack", 7, None, "x" * 100):
        assert known_stack(hostile) is None


def test_debug_arguments_reach_the_shell_as_a_list_not_as_text():
    from s2i.commands.debug import TOOLS_MOUNT, debug_command

    assert debug_command(()) == [f"{TOOLS_MOUNT}/busybox", "sh"]
    assert debug_command(("ls", "/app; rm -rf /")) == [f"{TOOLS_MOUNT}/busybox", "sh", "-c", '"$@"', "s2i-debug", "ls", "/app; rm -rf /"]
