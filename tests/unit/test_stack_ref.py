"""Stacks by reference: the stack file `--write-stack` writes, and a stack file an app names in s2i.toml."""

from __future__ import annotations

import os

import pytest

from s2i.build.config import load_app_config
from s2i.build.plan import choose_run_image
from s2i.build.tools import tool_pin
from s2i.buildpacks import get_buildpack
from s2i.errors import UsageError
from s2i.stack.files import find_stack, load_stack
from s2i.stack.handout import format_stack

PUSHED = {name: f"registry.example:5000/stacks/{name}@sha256:{n:064x}"
          for n, name in enumerate(("builder", "run-static", "run-base", "run-python"), 1)}


def test_the_written_stack_names_the_pushed_images_and_keeps_the_rest(tmp_path):
    stack = load_stack(find_stack("debian-bookworm"))
    path = tmp_path / "golden.toml"
    path.write_text(format_stack(stack, PUSHED))
    golden = load_stack(path)
    assert golden.builder.image == PUSHED["builder"] and golden.builder.packages == ()
    assert {name: (base.kind, base.image, base.has_nonroot) for name, base in golden.bases.items()} == {
        "scratch": ("scratch", None, False), "static": ("image", PUSHED["run-static"], True), "base": ("image", PUSHED["run-base"], True),
        "python": ("image", PUSHED["run-python"], True), "alpine": ("image", "docker.io/library/alpine:3.20", False)}
    assert (golden.suite, golden.architecture, golden.toolchains, golden.extra_suites) == (
        stack.suite, stack.architecture, stack.toolchains, stack.extra_suites)
    # the python buildpack runs on the pushed python base as it would on the built one: as nonroot
    assert choose_run_image(get_buildpack("python"), golden, None) == choose_run_image(get_buildpack("python"), stack, None)
    assert tool_pin(golden, "uv") == tool_pin(stack, "uv") is not None  # the pinned uv comes along


def test_nonroot_on_an_image_base_must_be_a_boolean(tmp_path):
    path = tmp_path / "odd.toml"
    path.write_text('[builder]\nimage = "r.example/b@sha256:' + "1" * 64 + '"\n[run.x]\nimage = "r.example/x:1"\nnonroot = "yes"\n')
    with pytest.raises(UsageError, match="nonroot must be true or false"):
        load_stack(path)


def test_a_stack_file_named_in_s2i_toml_is_read_from_the_app(tmp_path):
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "golden.toml").write_text("")
    (tmp_path / "s2i.toml").write_text('stack = "./ci/golden.toml"\n')
    assert load_app_config(tmp_path).stack == str(tmp_path.resolve() / "ci" / "golden.toml")
    (tmp_path / "s2i.toml").write_text('stack = "debian-trixie"\n')
    assert load_app_config(tmp_path).stack == "debian-trixie"  # a name, from the stacks directory


@pytest.mark.parametrize("value, message", [
    ("../golden.toml", "is outside the app"),
    ("/etc/golden.toml", "is outside the app"),
    ("link.toml", "is outside the app"),
    ("missing.toml", "there is no such file in the app"),
    ("fifo.toml", "is not a regular file"),
])
def test_a_stack_file_outside_the_app_or_odd_is_refused(tmp_path, value, message):
    os.symlink("/etc/hostname", tmp_path / "link.toml")
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "s2i.toml").write_text(f'stack = "{value}"\n')
    with pytest.raises(UsageError, match=message):
        load_app_config(tmp_path)
