"""C apps shaped like public ones, built with defaults: memcached's autogen.sh that writes what configure.ac includes,
a Meson project (dav1d's build), a Makefile whose install ignores DESTDIR and builds vendored tools (valkey's)."""

from __future__ import annotations

import pytest

from tests.e2e.test_cpp import build_and_run

pytestmark = pytest.mark.e2e


def test_autogen_sh_runs_before_configure_ac_when_both_are_there(builder, registry, tmp_path):
    log, out, config = build_and_run(builder, registry, tmp_path, "c-autogen")
    assert "$ sh ./autogen.sh" in log and "autoreconf: error" not in log
    assert out == "stamper 2.4.1\n"  # the version autogen.sh wrote into version.m4
    assert config["Entrypoint"] == ["/s2i/launch", "/app/stamper"]


def test_meson_project_with_its_own_library_and_optional_zlib(builder, registry, tmp_path):
    log, out, config = build_and_run(builder, registry, tmp_path, "c-meson", args=["4"])
    assert "$ meson setup .s2i-meson --prefix=/usr/local --buildtype=release -Ddefault_library=static" in log
    assert "missing under musl: header zlib.h" in log and "meson install -C .s2i-meson" in log
    assert out.startswith("adder 0.3.0: 10 (zlib 1.")  # its static libsum linked in; zlib kept by choosing glibc
    assert config["Entrypoint"] == ["/s2i/launch", "/app/adder"]  # sum_check, the test program, is not installed
    assert "meson=" in config["Labels"]["io.s2i.build.packages"]  # meson came as a build package, recorded
