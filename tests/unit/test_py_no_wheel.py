"""A dependency with no wheel for the builder's CPython is one line naming it and the fixes (the python step's words)."""

import sys

from s2i.buildpacks.steps.python import NO_WHEEL, no_wheel

CP = "{}{}".format(*sys.version_info[:2])
VERSION = "{}.{}".format(*sys.version_info[:2])


def test_uvs_two_ways_of_saying_it_are_found():
    built = NO_WHEEL.search("error: Failed to build `psycopg2-binary==2.9.9`")
    assert built.group(1) == "psycopg2-binary==2.9.9"
    binary = NO_WHEEL.search("  cause: Because psycopg-binary==3.2.1 has no wheels with a matching Python ABI tag (e.g., `cp313`) and ...")
    assert binary.group(2) == "psycopg-binary==3.2.1"


def test_the_message_names_the_source_build_or_its_absence_and_the_older_python():
    message = str(no_wheel(("oldext", True), [["3.11", "debian-bookworm"]]))
    assert message == (f"error: oldext has no wheel for CPython {VERSION} and building it from source failed (its output is above): "
                       f"require a version with a cp{CP} wheel, add the Debian packages its build needs with [build] packages, "
                       'or set build.python-version = "3.11" in s2i.toml (stack debian-bookworm) if it has a cp311 wheel')
    assert str(no_wheel(("psycopg-binary==3.2.1", False), [])) == (
        f"error: psycopg-binary==3.2.1 has no wheel for CPython {VERSION} and no source to build: "
        f"require a version with a cp{CP} wheel, or ask for a Python it has wheels for")
