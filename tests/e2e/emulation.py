"""qemu-user for the tests: arm64 ELF binaries run on this amd64 host, inside runc too, through binfmt_misc."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import pytest

BINFMT = Path("/proc/sys/fs/binfmt_misc")
# Debian's qemu-user-static ships the registration line; ./dev installs the package
QEMU_AARCH64 = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")


def with_fix_binary(line: str) -> str:
    """The registration with the F flag: the kernel opens qemu now, so it runs in containers that lack it."""
    fields = line.strip().split(":")
    if len(fields) != 8 or fields[0] != "":
        raise ValueError(f"not a binfmt_misc registration: {line.strip()[:60]!r}")
    if "F" not in fields[7]:
        fields[7] += "F"
    return ":".join(fields)


def registered_with_fix_binary(entry: Path) -> bool:
    """`enabled`, and `flags: ...F...`, as the kernel reports an entry."""
    lines = entry.read_text().splitlines()
    flags = next((line.split(":", 1)[1] for line in lines if line.startswith("flags:")), "")
    return "enabled" in lines and "F" in flags


def problem() -> str | None:
    """Why arm64 binaries cannot be made to run here, or None once they can (registering qemu-aarch64 if needed)."""
    if platform.machine() == "aarch64":
        return None
    if not QEMU_AARCH64.is_file():
        return f"{QEMU_AARCH64} is missing: install qemu-user-static (./dev does)"
    if not (BINFMT / "register").exists():
        mounted = subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], capture_output=True, text=True, timeout=30)
        if mounted.returncode != 0:
            return f"cannot mount binfmt_misc at {BINFMT} (needs root): {mounted.stderr.strip()}"
    entry = BINFMT / "qemu-aarch64"
    if entry.exists() and registered_with_fix_binary(entry):
        return None
    try:
        if entry.exists():  # registered without F (or disabled): runc's containers would not find qemu
            entry.write_text("-1")
        line = next(line for line in QEMU_AARCH64.read_text().splitlines() if line.startswith(":"))
        (BINFMT / "register").write_text(with_fix_binary(line))
    except (OSError, StopIteration, ValueError) as exc:
        return f"cannot register qemu-aarch64 with binfmt_misc: {exc}"
    return None if registered_with_fix_binary(entry) else f"{entry} came out without the F flag"


@pytest.fixture(scope="session")
def arm64_emulation():
    """arm64 ELF binaries runnable here; a test that needs them fails (never skips) when they cannot be."""
    reason = problem()
    if reason:
        pytest.fail(f"arm64 emulation: {reason}", pytrace=False)
