"""The Python cross build's pure parts: uv's target flags, its failure as one line, native files of the wrong machine."""

from __future__ import annotations

import os

import pytest

from s2i.buildpacks.steps import python_cross

ARM64 = {"architecture": "arm64", "triplet": "aarch64-linux-gnu", "processor": "aarch64"}
NATIVE = ("error: nativepkg has no wheel for linux/arm64 and its source builds native code, which s2i does not cross-compile: "
          "require a version that publishes a manylinux aarch64 wheel, or build for the host's platform only")


@pytest.mark.parametrize("libc, minor", [("glibc 2.41", 40), ("glibc 2.36", 36), ("glibc 2.28\n", 28), ("musl", 17), ("", 17)])
def test_the_manylinux_tag_follows_the_builders_glibc_up_to_uvs_newest(libc, minor):
    assert python_cross.manylinux(libc) == minor


def test_target_flags_name_the_platform_and_the_python():
    assert python_cross.target_flags(ARM64, "glibc 2.36", (3, 13)) == [
        "--python-platform", "aarch64-manylinux_2_36", "--python-version", "3.13"]


@pytest.mark.parametrize("output", [
    # uv built the source and the wheel that came out is the builder's (uv 0.13's words)
    "   Building nativepkg @ file:///workspace/nativepkg\nerror: Failed to build `nativepkg @ file:///workspace/nativepkg`\n"
    "  cause: The built wheel `nativepkg-0.1-cp313-cp313-linux_x86_64.whl` is not compatible with the target Python 3.13 "
    "on Linux aarch64. Consider using `--no-build` to disable building wheels.\n",
    # the resolver found no wheel it may use
    "error: No solution found when resolving dependencies\n  cause: Because nativepkg==0.1 has no usable wheels and you "
    "require nativepkg==0.1, we can conclude that your requirements are unsatisfiable.\n",
])
def test_a_source_only_native_package_is_named_with_the_fix(output):
    assert python_cross.failure(output, 1, ARM64) == NATIVE


def test_another_failure_keeps_uvs_last_cause():
    output = "error: No solution found when resolving dependencies\n  cause: Because flask==99 was not found in the package registry\n"
    assert python_cross.failure(output, 1, ARM64) == (
        "error: installing the Python dependencies for linux/arm64 failed (uv exit 1): "
        "cause: Because flask==99 was not found in the package registry")
    assert python_cross.failure("", 2, ARM64).endswith("(uv exit 2): exit 2")


def elf(machine: int) -> bytes:
    return b"\x7fELF\x02\x01\x01" + bytes(11) + machine.to_bytes(2, "little") + bytes(44)


def test_a_native_file_of_the_builders_machine_is_found_and_links_are_not_followed(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "ok.so").write_bytes(elf(183))
    (tmp_path / "lib" / "text.py").write_text("print()\n")
    assert python_cross.foreign_elf(str(tmp_path), 183) is None
    outside = tmp_path.parent / f"{tmp_path.name}-outside.so"
    outside.write_bytes(elf(62))
    os.symlink(outside, tmp_path / "lib" / "link.so")
    assert python_cross.foreign_elf(str(tmp_path), 183) is None
    (tmp_path / "lib" / "x.so").write_bytes(elf(62))
    assert python_cross.foreign_elf(str(tmp_path), 183) == ("lib/x.so", 62)
    with pytest.raises(python_cross.common.StepError) as caught:
        python_cross.check_tree(str(tmp_path), "/app/.s2i-lib", ARM64)
    assert str(caught.value) == (
        "error: /app/.s2i-lib/lib/x.so was built for x86-64, not linux/arm64: s2i does not cross-compile Python's native code; "
        "use a wheel for the target, or build for the host's platform only")
