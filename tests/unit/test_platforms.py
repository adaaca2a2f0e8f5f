"""`s2i build --platform`: parsing, refusals, and what a cross build changes in the plan (and its layer keys)."""

from __future__ import annotations

import pytest

from s2i.build.config import AppConfig
from s2i.build.layers import layer_keys
from s2i.build.plan import make_plan
from s2i.build.platforms import TARGETS, arch_suffix, check_cross, check_targets, cross_packages, parse_platforms, target_plan
from s2i.buildpacks import get_buildpack
from s2i.buildpacks.steps import c_cross
from s2i.errors import UsageError
from s2i.stack.files import find_stack, load_stack

STACK = load_stack(find_stack("debian-trixie"))
AMD64, ARM64 = TARGETS["amd64"], TARGETS["arm64"]


def test_platforms_from_comma_lists_and_repeats_each_once():
    assert parse_platforms(()) == ({"os": "linux", "architecture": "amd64"},)
    assert parse_platforms(("linux/amd64,linux/arm64", "linux/arm64")) == (
        {"os": "linux", "architecture": "amd64"}, {"os": "linux", "architecture": "arm64"})


@pytest.mark.parametrize("platform, buildpack, message", [
    ("linux/riscv64", "go", "cannot build for linux/riscv64: stack debian-trixie has linux/amd64, linux/arm64"),
    ("darwin/arm64", "go", "cannot build for darwin/arm64: stack debian-trixie has linux/amd64, linux/arm64"),
    ("linux/arm/v7", "c", "cannot build for linux/arm/v7: stack debian-trixie has linux/amd64, linux/arm64"),
    ("linux/arm64", "node", "the node buildpack cannot build for linux/arm64 yet (only go, c and python cross-build)"),
])
def test_unsupported_targets_are_refused(platform, buildpack, message):
    with pytest.raises(UsageError) as caught:
        check_targets(parse_platforms((f"linux/amd64,{platform}",)), STACK, buildpack)
    assert caught.value.message == message


def test_python_for_the_host_alone_is_fine():
    assert check_targets(parse_platforms(("linux/amd64",)), STACK, "python") == (AMD64,)


def test_python_cross_builds_for_arm64():
    assert check_targets(parse_platforms(("linux/amd64,linux/arm64",)), STACK, "python") == (AMD64, TARGETS["arm64"])


@pytest.mark.parametrize("decision, build_packages, run_packages, message", [
    ({"libc": "musl"}, (), (), "cannot build against musl for linux/arm64"),
    ({"libc": ""}, ("libssl-dev",), (), "cannot cross-compile for linux/arm64 with build.packages (libssl-dev)"),
    ({"libc": ""}, (), ("curl",), "[run] packages for linux/arm64 are not supported"),
])
def test_what_cannot_be_crossed_is_refused(decision, build_packages, run_packages, message):
    with pytest.raises(UsageError) as caught:
        check_cross(ARM64, STACK, "c", decision, build_packages, run_packages)
    assert caught.value.message.startswith(message)
    check_cross(AMD64, STACK, "c", decision, build_packages, run_packages)  # the host's own build may


def test_cross_packages_only_for_another_architecture():
    assert cross_packages(AMD64, STACK, {}) == ()
    assert cross_packages(ARM64, STACK, {"cxx": True}) == ("gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross", "g++-aarch64-linux-gnu")


def _plan(tmp_path, buildpack: str):
    pack = get_buildpack(buildpack)
    (tmp_path / "main.go").write_text("package main\nfunc main() {}\n")
    return make_plan(pack, (), AppConfig(), STACK, {}, 0, {}, {"launch": {}})


def test_a_host_build_keeps_its_plan_and_a_cross_build_tells_go_and_the_step(tmp_path):
    plan = _plan(tmp_path, "go")
    assert target_plan(plan, AMD64, STACK) is plan
    cross = target_plan(plan, ARM64, STACK)
    assert ("GOARCH", "arm64") in cross.build_env and ("CGO_ENABLED", "0") in cross.build_env
    assert cross.step_input["cross"] == {"architecture": "arm64", "triplet": "aarch64-linux-gnu", "processor": "aarch64"}


def test_python_layer_keys_differ_by_architecture(tmp_path):
    """The keyed layers of the two platforms never share a key: an amd64 layer is never reused in an arm64 image."""
    plan = make_plan(get_buildpack("python"), (), AppConfig(), STACK, {}, 0, {}, {"launch": {}})
    (tmp_path / "requirements.txt").write_text("flask\n")
    host = layer_keys(plan, tmp_path, "sha256:builder" + arch_suffix(AMD64, STACK))
    arm = layer_keys(plan, tmp_path, "sha256:builder" + arch_suffix(ARM64, STACK))
    assert host and host.keys() == arm.keys() and not set(host.values()) & set(arm.values())


@pytest.mark.parametrize("step, flags", [
    ({"system": "autotools", "cross": {"triplet": "aarch64-linux-gnu"}}, ["--host=aarch64-linux-gnu"]),
    ({"system": "make", "cross": {"triplet": "aarch64-linux-gnu"}}, []),
    ({"system": "autotools"}, []),
])
def test_configure_flags_for_the_target(step, flags):
    assert c_cross.configure_flags(step) == flags


def test_cmake_is_told_the_target_system():
    flags = c_cross.configure_flags({"system": "cmake", "cross": {"triplet": "aarch64-linux-gnu", "processor": "aarch64"}})
    assert "-DCMAKE_SYSTEM_NAME=Linux" in flags and "-DCMAKE_SYSTEM_PROCESSOR=aarch64" in flags


def test_a_program_for_the_wrong_machine_is_not_shipped(tmp_path):
    program = tmp_path / "hello"
    program.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 11 + (62).to_bytes(2, "little") + b"\0" * 40)
    with pytest.raises(c_cross.common.StepError, match="hello was built for x86-64, not linux/arm64"):
        c_cross.check_machine(str(program), {"architecture": "arm64", "triplet": "aarch64-linux-gnu"})
    program.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 11 + (183).to_bytes(2, "little") + b"\0" * 40)
    c_cross.check_machine(str(program), {"architecture": "arm64", "triplet": "aarch64-linux-gnu"})


def test_only_build_takes_several_platforms():
    from s2i.cli.options import one_platform

    assert one_platform(("linux/arm64",), "copy") == {"os": "linux", "architecture": "arm64"}
    assert one_platform((), "copy") == {"os": "linux", "architecture": "amd64"}
    with pytest.raises(UsageError, match="s2i copy takes one --platform"):
        one_platform(("linux/amd64,linux/arm64",), "copy")
    assert one_platform(("linux/amd64,linux/arm64",), "build") == {"os": "linux", "architecture": "amd64"}
    assert one_platform(("linux/amd64", "linux/arm64"), "stack_build") == {"os": "linux", "architecture": "amd64"}


def test_s2i_toml_lists_platforms_under_build(tmp_path):
    from s2i.build.config import load_app_config

    (tmp_path / "s2i.toml").write_text('[build]\nplatforms = ["linux/amd64", "linux/arm64"]\nmain = "./cmd/x"\n')
    config = load_app_config(tmp_path)
    assert config.platforms == ("linux/amd64", "linux/arm64") and config.settings == {"main": "./cmd/x"}
    (tmp_path / "s2i.toml").write_text('[build]\nplatforms = "linux/arm64"\n')
    with pytest.raises(UsageError, match="build.platforms must be a list of strings"):
        load_app_config(tmp_path)
