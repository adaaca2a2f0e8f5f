"""C and C++ apps built with defaults: autotools, a C++ CMake program with its own library, bindings beside a
root build, a Makefile that also makes a .so and a test binary, musl's missing features, the first compiler error."""

from __future__ import annotations

import json

import pytest

from s2i.errors import EXIT_BUILD
from tests.e2e.helpers import run_image, skopeo_inspect
from tests.e2e.test_build import APPS, app_copy, built

pytestmark = pytest.mark.e2e


def build_and_run(builder, registry, tmp_path, app: str, args=None):
    """Build tests/apps/APP with defaults; (its build log, what the image printed, its config)."""
    log = tmp_path / f"{app}.log"
    reference = built(builder("build", app_copy(tmp_path, APPS / app), f"{registry.host}/{app}:1", "--log", log))
    config = skopeo_inspect(f"docker://{reference}", config=True)["config"]
    result = run_image(f"docker://{reference}", args=None if args is None else [*config["Entrypoint"], *args])
    assert result.returncode == 0, result.stderr
    return log.read_text(), result.stdout, config


def test_cpp_cmake_program_with_its_own_shared_library(builder, registry, tmp_path):
    log, out, config = build_and_run(builder, registry, tmp_path, "cpp-cmake-lib")
    assert out == "hello from c++ and its library\n"
    assert "musl has no C++ library here" in log and "cmake --install .s2i-cmake" in log
    assert "as /usr/lib/libgreeting.so" in log  # the project's library, not its build-dir path
    assert config["Entrypoint"] == ["/s2i/launch", "/app/greet"]


def test_autotools_with_configure_ac_only_keeps_zlib_by_choosing_glibc(builder, registry, tmp_path):
    log, out, _ = build_and_run(builder, registry, tmp_path, "c-autotools")
    assert "$ autoreconf -fi" in log and "$ ./configure --prefix=/usr/local" in log
    assert "missing under musl: -lz, HAVE_ZLIB_H" in log and "building against glibc" in log
    assert "make install DESTDIR=/tmp/s2i-install" in log
    assert out.startswith("zinfo: gzip support with zlib 1.")  # and zinfo_test (a check program) is not a candidate


def test_shipped_configure_installs_and_builds_static_against_musl(builder, registry, tmp_path):
    log, out, config = build_and_run(builder, registry, tmp_path, "c-configure", args=["a", "b", "c"])
    assert "built static against musl" in log and "bundled" not in log
    assert "kept 1 files the install put in /usr/local/etc and /usr/local/share" in log  # its data; not its manual
    assert out == "tally: counted 3 arguments, configured for /usr/local\n"
    assert config["Entrypoint"] == ["/s2i/launch", "/app/tally"]  # the installed hardlink untally counted once


def test_root_cmake_wins_over_python_bindings_beside_it(builder, registry, tmp_path):
    reasons = json.loads(builder("detect", APPS / "c-bindings", "--json").stdout)["reasons"]
    assert reasons[:2] == ["found CMakeLists.txt", "wordcount.c defines main()"]
    assert reasons[2].startswith("CMakeLists.txt at the root builds the program; setup.py beside it taken for python bindings")
    assert reasons[3] == "python/setup.py: python bindings or tools in a subdirectory, not built"
    _, out, _ = build_and_run(builder, registry, tmp_path, "c-bindings", args=["one two", "three"])
    assert out == "wordcount: 3 words\n"


def test_makefile_shared_library_test_binary_and_copies_are_not_candidates(builder, registry, tmp_path):
    log, out, config = build_and_run(builder, registry, tmp_path, "c-make-extras")
    assert out == "stamp: 45\n"
    assert config["Entrypoint"] == ["/s2i/launch", "/app/stamp"]
    assert "programs the build made" not in log  # one program: libstamp.so, test_stamp, stamp-copy and bin-stamp dropped


def test_compile_error_summary_quotes_the_first_error_line(builder, registry, tmp_path):
    result = builder("build", app_copy(tmp_path, APPS / "c-compile-error"), f"{registry.host}/broken:1")
    assert result.returncode == EXIT_BUILD
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("s2i: error: build c failed (exit 1): s2i: make failed (exit 2): broken.c:4:")
    assert summary.split("broken.c:4:35: ")[1].startswith("error: expected expression before ")  # gcc's quotes follow the locale
    assert registry.manifest_tags("broken") == set()
