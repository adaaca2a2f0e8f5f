"""Stacks serving several architectures: the stack file's key, the lock's per-architecture pins, what is refused."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from s2i.commands.stack import architectures
from s2i.errors import UsageError
from s2i.stack import images
from s2i.stack.build import pruned
from s2i.stack.files import find_stack, load_stack
from s2i.stack.handout import format_stack
from s2i.stack.lock import Lock, format_lock, read_lock, write_lock
from s2i.transports import Context

STACK_TEXT = '[builder]\npackages = ["gcc"]\n[run.static]\npackages = ["base-files"]\n'


def stack_file(tmp_path: Path, head: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(head + "\n" + STACK_TEXT)
    return path


def test_architectures_are_read_the_builders_first_and_the_older_key_still_is(tmp_path):
    stack = load_stack(stack_file(tmp_path, 'architectures = ["amd64", "arm64"]'))
    assert (stack.architecture, stack.foreign_architectures, stack.architectures) == ("amd64", ("arm64",), ("amd64", "arm64"))
    older = load_stack(stack_file(tmp_path, 'architecture = "amd64"'))
    assert (older.architecture, older.architectures) == ("amd64", ("amd64",))
    assert load_stack(stack_file(tmp_path, "")).architectures == ("amd64",)
    assert load_stack(find_stack("debian-trixie")).architectures == ("amd64", "arm64")
    assert load_stack(find_stack("debian-bookworm")).architectures == ("amd64", "arm64")


@pytest.mark.parametrize("head, message", [
    ('architectures = ["amd64", "arm64"]\narchitecture = "amd64"', "give architectures or architecture, not both"),
    ('architectures = ["amd64", "mips"]', "architectures must be distinct names out of amd64, arm64"),
    ('architectures = ["arm64", "arm64"]', "architectures must be distinct names"),
    ("architectures = []", "distinct names out of amd64, arm64, not none"),
    ("architecture = 7", "distinct names out of amd64, arm64, not 7"),
])
def test_odd_architectures_are_refused(tmp_path, head, message):
    with pytest.raises(UsageError, match=message):
        load_stack(stack_file(tmp_path, head))


def arm64_lock() -> Lock:
    return Lock({"libc6": "2.41-12"}, {"gcc": "4:14"}, {"libc6": "ab" * 32}, {"gcc": "cd" * 32},
                {"arm64": {"libc6": "2.41-12", "tzdata": "2026f"}}, {"arm64": {"libc6": "ef" * 32, "tzdata": "01" * 32}})


def test_the_lock_keeps_arm64_pins_in_a_table_of_their_own_and_amd64_as_it_was(tmp_path):
    lock = arm64_lock()
    write_lock(tmp_path / "s.lock", lock)
    assert read_lock(tmp_path / "s.lock") == lock
    text = format_lock(lock)
    amd64_only = format_lock(lock.without_foreign())
    assert text.startswith(amd64_only)  # [run] and [builder] byte for byte as before; [run-arm64] after them
    assert text[len(amd64_only):] == (
        '\n[run-arm64]\n"libc6" = { version = "2.41-12", sha256 = "' + "ef" * 32 + '" }\n'
        '"tzdata" = { version = "2026f", sha256 = "' + "01" * 32 + '" }\n')
    # amd64 images keep their lock label: the digest is of the builder architecture's pins only
    assert lock.digest() == lock.without_foreign().digest()
    arm64 = lock.for_architecture("arm64")
    assert arm64 == Lock({"libc6": "2.41-12", "tzdata": "2026f"}, {}, {"libc6": "ef" * 32, "tzdata": "01" * 32})
    assert arm64.digest() != lock.digest() and lock.for_architecture("riscv64") is None
    assert lock.without_foreign().with_architecture("arm64", arm64) == lock


def test_the_committed_locks_pin_arm64_at_the_amd64_versions():
    for name in ("debian-trixie", "debian-bookworm"):
        stack = load_stack(find_stack(name))
        lock = read_lock(stack.lock_path)
        arm64 = lock.for_architecture("arm64")
        wanted = {p for base in stack.bases.values() for p in base.packages}
        assert set(arm64.run) == wanted == set(arm64.run_sha256)
        assert {p: lock.run[p] for p in wanted} == arm64.run
        assert format_lock(lock) == stack.lock_path.read_text()  # deterministic: written as read


def test_paths_that_name_a_triplet_follow_the_architecture():
    assert "usr/lib/x86_64-linux-gnu/gconv" in pruned("amd64")
    assert "usr/lib/aarch64-linux-gnu/gconv" in pruned("arm64") and not any("x86_64" in p for p in pruned("arm64"))


def test_platforms_name_architectures_the_stack_serves():
    stack = load_stack(find_stack("debian-trixie"))
    assert architectures(stack, None, update=False) == ["amd64"]
    assert architectures(stack, None, update=True) == ["amd64", "arm64"]
    assert architectures(stack, "linux/arm64", update=False) == ["arm64"]
    assert architectures(stack, "linux/arm64,linux/amd64", update=True) == ["amd64", "arm64"]  # the builder's pins first
    with pytest.raises(UsageError, match="stack debian-trixie serves amd64, arm64, not riscv64"):
        architectures(stack, "linux/riscv64", update=False)
    with pytest.raises(UsageError, match="stacks serve linux/ARCH only"):
        architectures(stack, "linux/arm64/v8", update=False)


def test_no_arm64_builder_and_no_architecture_a_stack_does_not_serve():
    stack = load_stack(find_stack("debian-trixie"))
    context = Context(registries=None)
    with pytest.raises(UsageError) as caught:
        images.ensure_stack_image(stack, "builder", context, None, architecture="arm64")
    assert caught.value.message == "stack debian-trixie's builder is amd64 only, not arm64"
    assert caught.value.hint == "cross builds run on the amd64 builder: ask for it without an architecture"
    with pytest.raises(UsageError, match="serves amd64, arm64, not s390x"):
        images.ensure_stack_image(stack, "base", context, None, architecture="s390x")
    with pytest.raises(UsageError, match="has no run base 'nope'"):
        images.ensure_stack_image(stack, "nope", context, None, architecture="arm64")
    scratch = images.ensure_stack_image(stack, "scratch", context, None, architecture="arm64")
    assert scratch.config["architecture"] == "arm64" and scratch.layers == ()


def test_arm64_bases_are_built_once_and_then_read_from_the_store(monkeypatch):
    stack = load_stack(find_stack("debian-trixie"))
    built = []
    monkeypatch.setattr(images, "stored_foreign", lambda stack, architecture, store: None)
    monkeypatch.setattr(images, "build_foreign", lambda stack, archive, store, update: built.append((archive.architecture, update)) or {"run-base": "b"})
    assert images.ensure_stack_image(stack, "base", Context(registries=None), SimpleNamespace(root=Path("/nonexistent")), architecture="arm64") == "b"
    assert built == [("arm64", False)]


def test_a_pushed_stack_names_each_architectures_image(tmp_path):
    stack = load_stack(find_stack("debian-trixie"))
    own = {name: f"r.example/stacks/{name}@sha256:{n:064x}" for n, name in enumerate(("builder", "run-static", "run-base", "run-python"), 1)}
    arm64 = {name: f"r.example/stacks/{name}@sha256:{n:064x}" for n, name in enumerate(("run-static", "run-base", "run-python"), 7)}
    path = tmp_path / "golden.toml"
    path.write_text(format_stack(stack, own, {"arm64": arm64}))
    golden = load_stack(path)
    assert golden.architectures == ("amd64", "arm64")
    assert (golden.bases["base"].image, golden.bases["base"].images) == (own["run-base"], (("arm64", arm64["run-base"]),))
    assert golden.bases["alpine"].images == ()  # an index already: the platform is picked from it
    path.write_text(format_stack(stack, own))
    assert load_stack(path).architectures == ("amd64",) and 'architecture = "amd64"' in path.read_text()


def test_an_image_base_must_come_out_as_the_architecture_asked_for(monkeypatch, tmp_path):
    from s2i.oci.image import empty_image

    stack = load_stack(find_stack("debian-trixie"))
    picked = []

    def read_image(location, context):
        picked.append(context.platform)
        return empty_image(architecture="amd64")  # a single-platform manifest: nothing was picked by platform

    monkeypatch.setattr(images, "read_image", read_image)
    with pytest.raises(UsageError) as caught:
        images.ensure_stack_image(stack, "alpine", Context(registries=None), None, architecture="arm64")
    assert picked == [{"os": "linux", "architecture": "arm64"}]
    assert caught.value.message == "run base alpine of stack debian-trixie (docker.io/library/alpine:3.20) is 'amd64', not arm64"


def test_a_stale_arm64_lock_is_resolved_afresh_on_first_use(monkeypatch, capsys):
    from s2i.stack.lock import StaleLock

    stack = load_stack(find_stack("debian-trixie"))
    updates = []

    def build_foreign(stack, archive, store, update):
        updates.append(update)
        if not update:
            raise StaleLock("debian-trixie.lock is stale: the Debian archive no longer has libc6=1", "refresh it")
        return {"run-python": "python"}

    monkeypatch.setattr(images, "stored_foreign", lambda stack, architecture, store: None)
    monkeypatch.setattr(images, "build_foreign", build_foreign)
    store = SimpleNamespace(root=Path("/nonexistent"))
    assert images.ensure_stack_image(stack, "python", Context(registries=None), store, architecture="arm64") == "python"
    assert updates == [False, True]
    assert "no longer has libc6=1: resolving the arm64 pins of stack debian-trixie afresh" in capsys.readouterr().err


def test_the_qemu_registration_gets_the_fix_binary_flag():
    from tests.e2e.emulation import with_fix_binary

    line = r":qemu-aarch64:M::\x7fELF\x02:\xff\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OP"
    assert with_fix_binary(line) == line + "F"
    assert with_fix_binary(line + "F\n") == line + "F"  # already there: unchanged
    with pytest.raises(ValueError, match="not a binfmt_misc registration"):
        with_fix_binary("# a comment")


def test_the_cli_passes_platform_as_typed_and_refuses_one_the_stack_lacks(monkeypatch, capsys, tmp_path):
    import sys

    import s2i.commands.stack
    from s2i.cli import main
    from tests.unit.test_pipeline_cli import run_main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    code, out, err = run_main(monkeypatch, capsys, "stack", "build", "debian-trixie", "--platform", "linux/riscv64")
    assert (code, out) == (2, "")
    assert err == ("s2i: error: stack debian-trixie serves amd64, arm64, not riscv64 "
                   '(add it to debian-trixie.toml: architectures = ["amd64", "riscv64"])\n')
    seen = []
    monkeypatch.setattr(s2i.commands.stack, "build", lambda name, push, update, context, write, platforms: seen.append(platforms) or [])
    for argv in (["--platform", "linux/arm64"], []):
        monkeypatch.setattr(sys, "argv", ["s2i", "stack", "build", "debian-trixie", *argv])
        main()
    assert seen == ["linux/arm64", None]  # left at its default: the builder's architecture (all of them with --update)
