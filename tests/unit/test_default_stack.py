"""The committed stacks: trixie (Debian stable) is the default, and each python run base has its builder's CPython."""

from __future__ import annotations

import pytest

from s2i.stack.files import DEFAULT_STACK, STACKS_DIR, load_stack
from s2i.stack.lock import read_lock

STACKS = sorted(STACKS_DIR.glob("*.toml"))


def test_the_default_is_debian_stable_and_bookworm_stays_available():
    assert DEFAULT_STACK == "debian-trixie" and load_stack(STACKS_DIR / f"{DEFAULT_STACK}.toml").suite == "trixie"
    assert {path.stem for path in STACKS} >= {"debian-trixie", "debian-bookworm"}


@pytest.mark.parametrize("path", STACKS, ids=lambda path: path.stem)
def test_the_python_run_base_has_the_builders_cpython(path):
    """A venv made by the builder's CPython runs on the run base's: the same X.Y, and the same Debian build of it."""
    stack = load_stack(path)
    lock = read_lock(stack.lock_path)
    for version in stack.offers("python"):
        for package in (f"python{version}-minimal", f"libpython{version}-minimal", f"libpython{version}-stdlib"):
            assert package in stack.bases["python"].packages
            assert lock.run[package] == lock.builder[package], f"{stack.name}: {package}"
    assert len(stack.offers("python")) == 1  # one python run base: one CPython in the builder
