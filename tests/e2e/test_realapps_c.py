"""C apps shaped like public ones, built with defaults: memcached's autogen.sh that writes what configure.ac includes,
a Meson project (dav1d's build), a Makefile whose install ignores DESTDIR and builds vendored tools (valkey's), a git
submodule a clone without --recursive left empty (jq's), a CMake error whose reason is on its next line (lighttpd's), a
Makefile whose default goal runs the server (mongoose's tutorials), assets named as directories (lighttpd's htdocs),
two installed programs, one named like the project (lighttpd and lighttpd-angel)."""

from __future__ import annotations

import pytest

from s2i.errors import EXIT_BUILD
from tests.e2e.helpers import run_image, skopeo_inspect
from tests.e2e.test_build import APPS, app_copy, built
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


def test_several_programs_summary_names_them_and_the_setting_picks_one(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "c-vendored")
    result = builder("build", app, f"{registry.host}/kv:1")
    assert result.returncode == EXIT_BUILD
    summary = result.stderr.strip().splitlines()[-1]  # the step's reason, not the make error of the DESTDIR-less install
    assert summary.startswith("s2i: error: build c failed (exit 1): s2i: expected one new program, found 2: src/kv-cli src/kv-server; "
                              'name it in s2i.toml ([build] program = "NAME")')  # deps/calc/calc, a vendored tool, is no candidate
    assert registry.manifest_tags("kv") == set()
    (app / "s2i.toml").write_text('[build]\nprogram = "kv-server"\n')
    reference = built(builder("build", app, f"{registry.host}/kv:1"))
    assert run_image(f"docker://{reference}").stdout == "kv-server: ready on port 8080\n"


def test_empty_git_submodule_is_named_in_the_failure_and_filled_it_builds(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "c-submodule")
    result = builder("build", app, f"{registry.host}/greet:1")
    assert result.returncode == EXIT_BUILD
    assert "warning: git submodules with no files (a clone without --recursive?): vendor/libgreet" in result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("s2i: error: build c failed (exit 1): s2i: the build failed (exit 2); git submodules with no files: "
                              "vendor/libgreet: run git submodule update --init --recursive in the app, then build again")
    assert registry.manifest_tags("greet") == set()
    (app / "vendor" / "libgreet").mkdir(parents=True)  # what `git submodule update --init` brings
    (app / "vendor" / "libgreet" / "greet.h").write_text("const char *greeting(void);\n")
    (app / "vendor" / "libgreet" / "greet.c").write_text('const char *greeting(void) { return "hello from a submodule"; }\n')
    reference = built(builder("build", app, f"{registry.host}/greet:1"))
    assert run_image(f"docker://{reference}").stdout == "hello from a submodule\n"


def test_meson_cross_compiles_for_arm64_and_stops_when_the_target_finds_less(builder, registry, tmp_path, arm64_emulation):
    app = app_copy(tmp_path, APPS / "c-meson")
    result = builder("build", app, f"{registry.host}/adder:1", "--platform", "linux/arm64", timeout=900)
    assert result.returncode == EXIT_BUILD  # zlib is the builder's for amd64 only: said, not dropped
    assert ("s2i: error: the linux/arm64 build would lose what the host's finds (dependency zlib, header zlib.h)"
            in result.stderr.strip().splitlines()[-1])
    meson_build = app / "meson.build"
    meson_build.write_text(meson_build.read_text().replace("dependency('zlib', required: false)", "dependency('', required: false)"))
    result = builder("build", app, f"{registry.host}/adder:1", "--platform", "linux/arm64", timeout=900)
    assert "--cross-file /tmp/cross/meson-cross.ini" in result.stderr
    reference = built(result)
    assert skopeo_inspect(f"docker://{reference}", config=True)["architecture"] == "arm64"
    assert run_image(f"docker://{reference}", timeout=120).stdout == "adder 0.3.0: 6 (no zlib)\n"  # under qemu


def test_a_cmake_error_is_the_summary_and_the_package_it_names_fixes_it(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "c-cmake-pcre")
    result = builder("build", app, f"{registry.host}/matcher:1")
    assert result.returncode == EXIT_BUILD
    summary = result.stderr.strip().splitlines()[-1]  # lighttpd's way: the reason is on the line after "CMake Error at"
    assert summary.rsplit(" failed (exit 1): ", 1)[1].startswith("CMake Error at CMakeLists.txt:7 (message): pcre2.h couldn't be found")
    reference = built(builder("build", app, f"{registry.host}/matcher:1", "--build-package", "libpcre2-dev"))
    assert run_image(f"docker://{reference}").stdout == "matched 's2iii'\n"  # libpcre2-8 came in the program's closure


def test_a_makefile_that_runs_its_server_shows_it_and_targets_builds_only_the_program(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "c-make-runs")
    result = builder("build", app, f"{registry.host}/hello-server:1", "--build-timeout", "25")
    assert result.returncode == EXIT_BUILD
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "s2i: error: the build ran longer than 25 s (raise --build-timeout)"
    assert "[build c] hello-server listening on port 8000" in lines  # what make was doing, shown as it happened
    (app / "s2i.toml").write_text('[build]\ntargets = ["hello-server"]\n')
    reference = built(builder("build", app, f"{registry.host}/hello-server:1"))
    assert run_image(f"docker://{reference}", args=["/s2i/launch", "/app/hello-server", "--once"]).stdout == \
        "hello-server listening on port 8080\n"


def test_assets_naming_directories_keep_their_files_beside_the_program(builder, registry, tmp_path):
    log, out, _ = build_and_run(builder, registry, tmp_path, "c-assets-dirs")
    assert out == "conf/show.conf: root = site\nsite/index.html: <h1>hello</h1>\n"
    assert "kept 2 files the program may read beside it: conf/show.conf site/index.html" in log


def test_of_two_installed_programs_the_one_named_like_the_project_is_taken(builder, registry, tmp_path):
    log, out, config = build_and_run(builder, registry, tmp_path, "c-cmake-two")
    assert "programs the build made: usr/local/sbin/beacon usr/local/sbin/beacon-watch" in log
    assert 'taking beacon, named like the project ([build] program = "NAME" picks another)' in log
    assert out == "beacon: on\n" and config["Entrypoint"] == ["/s2i/launch", "/app/beacon"]
