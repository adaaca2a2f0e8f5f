"""The C/C++ buildpack's pure decisions: build file, detection against bindings, program candidates, error lines, features."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

from s2i.build.detect import detect
from s2i.buildpacks import get_buildpack
from s2i.buildpacks import c as c_buildpack
from s2i.buildpacks.steps import c as c_step
from s2i.buildpacks.steps import c_output, c_program
from s2i.buildpacks.steps.c_program import Candidate
from s2i.errors import UsageError
from tests.unit.test_buildpacks import tree

C = get_buildpack("c")


@pytest.mark.parametrize("files, system, regenerate", [
    (["a.c"], "cc", []),
    (["CMakeLists.txt", "Makefile"], "make", []),  # a Makefile the author wrote is what they run
    (["CMakeLists.txt", "configure.ac"], "cmake", []),  # CMake needs no autoreconf
    (["configure", "configure.ac", "CMakeLists.txt"], "autotools", []),  # a shipped configure is run as it is
    (["configure.ac"], "autotools", [["autoreconf", "-fi"]]),
    (["configure.ac", "autogen.sh"], "autotools", [["sh", "./autogen.sh"]]),  # it may write what configure.ac includes
    (["autogen.sh"], "autotools", [["sh", "./autogen.sh"]]),
    (["meson.build", "src/main.c"], "meson", []),
    (["meson.build", "configure.ac", "autogen.sh"], "meson", []),  # projects moving to Meson keep autotools a while
    (["meson.build", "CMakeLists.txt"], "cmake", []),
    (["meson.build", "configure"], "autotools", []),  # a release tarball's configure is run as it is
])
def test_build_file_choice(tmp_path, files, system, regenerate):
    decision = C.decide(tree(tmp_path, {name: "" for name in files}), {})
    assert (decision["system"], decision["regenerate"]) == (system, regenerate)


def test_cc_decision_splits_c_and_cxx_sources(tmp_path):
    app = tree(tmp_path, {"b.c": "", "a.c": "", "main.cpp": "", "tests/t.cc": ""})
    decision = C.decide(app, {"program": "hello", "libc": "glibc"})
    assert decision == {"system": "cc", "tool_packages": [], "regenerate": [], "program": "hello", "libc": "glibc", "cxx": True,
                        "sources": ["a.c", "b.c"], "cxx_sources": ["main.cpp"], "workdir": "/app", "procfile": None, "assets": [],
                        "empty_submodules": [], "targets": [], "project": ""}
    assert c_step.compile_commands(decision, {"CC": "gcc", "CXX": "g++"}) == [
        ["g++", "-O2", "-o", "hello", "-x", "c", "a.c", "b.c", "-x", "none", "main.cpp"]]


def test_cxx_only_in_tests_or_bindings_leaves_a_c_project(tmp_path):
    app = tree(tmp_path, {"Makefile": "", "main.c": "", "tests/t.cpp": "", "python/ext.cc": ""})
    assert C.decide(app, {})["cxx"] is False
    tree(tmp_path, {"devel/fuzz.cc": ""})  # darkhttpd's fuzzer beside its one C file
    assert C.decide(app, {})["cxx"] is False
    tree(tmp_path, {"src/lib/util.cxx": ""})
    assert C.decide(app, {})["cxx"] is True


@pytest.mark.parametrize("files, cxx", [
    ({"CMakeLists.txt": "project(brotli C)\n", "c/enc/lazy.cc": ""}, False),  # the build file says C: a stray .cc does not count
    ({"CMakeLists.txt": "project(ninja CXX)\n", "src/ninja.c": ""}, True),
    ({"CMakeLists.txt": "project(x VERSION 1.0 LANGUAGES C)\nenable_language(CXX)\n"}, True),
    ({"CMakeLists.txt": "project(x VERSION 1.0 DESCRIPTION \"y\" LANGUAGES C)\n", "a.cpp": ""}, False),
    ({"CMakeLists.txt": "project(x VERSION 1.0)\n", "src/a.cpp": ""}, True),  # CMake's default languages: look at the sources
    ({"CMakeLists.txt": "project(x)\n", "src/a.c": ""}, False),
    ({"configure.ac": "AC_INIT([x], [1])\nAC_PROG_CXX\n"}, True),
    ({"configure.ac": "AC_INIT([x], [1])\nAC_PROG_CC\n", "extra/a.cpp": ""}, False),
    ({"meson.build": "project('x', 'c', version: '1.0')\n", "a.cpp": "", "b.cpp": ""}, False),
    ({"meson.build": "project('x', ['c', 'cpp'],\n  version: '1.0')\n"}, True),
    ({"meson.build": "project('x', 'c')\nif get_option('gui')\n  add_languages('cpp')\nendif\n"}, True),
    ({"meson.build": "project('x', version: '1.0')\n", "src/a.cpp": ""}, True),  # none named: look at the sources
])
def test_cxx_is_what_the_build_file_declares(tmp_path, files, cxx):
    assert C.decide(tree(tmp_path, files), {})["cxx"] is cxx


@pytest.mark.parametrize("settings", [{"program": "../../bin/sh"}, {"libc": "uclibc"}, {"targets": ["-f/etc/passwd"]}])
def test_bad_settings_are_refused(tmp_path, settings):
    with pytest.raises(UsageError):
        C.decide(tree(tmp_path, {"a.c": ""}), settings)


def test_cxx_sources_with_main_are_detected(tmp_path):
    detection = detect(tree(tmp_path, {"src/main.cc": "int main() { return 0; }\n", "README": ""}))
    assert detection.buildpack.name == "c" and detection.reasons == ("main.cc defines main()",)


def test_a_root_program_build_beats_python_bindings_beside_it(tmp_path):
    app = tree(tmp_path, {"CMakeLists.txt": "project(x CXX)\n", "setup.py": "from setuptools import setup\n",
                          "python/setup.py": "", "main.cpp": "int main() {}\n"})
    detection = detect(app)
    assert detection.buildpack.name == "c"
    assert detection.reasons == (
        "found CMakeLists.txt", "main.cpp defines main()",
        "CMakeLists.txt at the root builds the program; setup.py beside it taken for python bindings or tools (--buildpack python to build those)",
        "python/setup.py: python bindings or tools in a subdirectory, not built")


def test_python_apps_with_their_own_markers_stay_python(tmp_path):
    app = tree(tmp_path, {"CMakeLists.txt": "", "setup.py": "", "requirements.txt": "flask\n"})
    assert detect(app).buildpack.name == "python"
    assert detect(tree(tmp_path / "lib", {"setup.py": "", "Makefile": ""})).buildpack.name == "python"  # a Makefile builds no program here


def elf_header(e_type: int, interp: bool) -> bytes:
    """A minimal 64-bit little-endian ELF header with one program header (PT_INTERP or PT_LOAD)."""
    header = bytearray(64 + 56)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<H", header, 16, e_type)
    struct.pack_into("<Q", header, 32, 64)  # e_phoff
    struct.pack_into("<HH", header, 54, 56, 1)  # e_phentsize, e_phnum
    struct.pack_into("<I", header, 64, 3 if interp else 1)
    return bytes(header)


def test_elf_programs_are_executables_and_pies_not_shared_libraries():
    assert c_program.elf_program(elf_header(2, False))  # static ET_EXEC
    assert c_program.elf_program(elf_header(3, True))  # PIE: ET_DYN with an interpreter
    assert not c_program.elf_program(elf_header(3, False))  # a shared library
    assert not c_program.elf_program(elf_header(1, False))  # an object file
    assert not c_program.elf_program(b"#!/bin/sh\n" + bytes(100))
    real = Path(shutil.which("true")).resolve().read_bytes()[:4096]
    assert c_program.elf_program(real)


def test_candidates_drop_tests_libraries_and_count_copies_once():
    found = c_program.programs([
        Candidate("src/gzip", (1, 10), "d1"), Candidate("src/gunzip", (1, 10), "d1"),  # a hardlink
        Candidate("build/gzip-1.13", (1, 11), "d1"),  # an identical copy
        Candidate("src/libz.so.1.3", (1, 12), "d2"), Candidate("tests/runner", (1, 13), "d3"),
        Candidate("src/test_inflate", (1, 14), "d4"), Candidate("src/inflate_test", (1, 15), "d5"),
        Candidate("src/testdata-gen", (1, 16), "d6"), Candidate("bench/speed", (1, 17), "d7"),
        Candidate("deps/lua/src/lua", (1, 18), "d8"), Candidate("vendor/tool/tool", (1, 19), "d9"),  # vendored tools
    ])
    assert found == {"src/gzip": ["src/gzip", "src/gunzip", "build/gzip-1.13"]}
    assert c_program.choose(found, "") == "src/gzip"
    assert c_program.choose(found, "gunzip") == "src/gunzip"  # a program that looks at argv[0] keeps its name
    two = c_program.programs([Candidate("a", (1, 1), "x"), Candidate("b", (1, 2), "y")])
    with pytest.raises(ValueError, match=r'found 2: a b; name it in s2i.toml \(\[build\] program = "NAME"\)'):
        c_program.choose(two, "")
    with pytest.raises(ValueError, match="made no program named zz"):
        c_program.choose(two, "zz")


def test_the_step_scans_programs_not_probes_scripts_links_or_libraries(tmp_path):
    elf = Path(shutil.which("true")).resolve()
    for rel in ("prog", "build/tool", "build/CMakeFiles/probe"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(elf, tmp_path / rel)
    os.link(tmp_path / "prog", tmp_path / "prog-again")
    libc = next(Path(p) for p in ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1") if Path(p).exists())
    shutil.copy(libc.resolve(), tmp_path / "build" / "libz.so.1")
    os.chmod(tmp_path / "build" / "libz.so.1", 0o755)
    (tmp_path / "script.sh").write_text("#!/bin/sh\n")
    os.chmod(tmp_path / "script.sh", 0o755)
    os.symlink("prog", tmp_path / "link")
    found = c_output.scan(str(tmp_path))
    assert sorted(c.path for c in found) == ["build/tool", "prog", "prog-again"]
    assert c_program.programs(found) == {"prog": ["prog", "prog-again", "build/tool"]}


def test_the_first_compiler_error_line_is_quoted_not_makes_last():
    output = [
        "gcc -O2 -c main.c",
        "main.c: In function 'main':",
        "main.c:3:12: warning: unused variable 'x' [-Wunused-variable]",
        "main.c:4:28: error: expected expression before ';' token",
        "main.c:5:1: error: 'y' undeclared",
        "make: *** [Makefile:2: main.o] Error 1",
    ]
    assert c_program.first_error(output) == "main.c:4:28: error: expected expression before ';' token"
    assert c_program.first_error(["In file included from a.h:1,", "src/a.h:9: fatal error: zlib.h: No such file or directory"]) \
        == "src/a.h:9: fatal error: zlib.h: No such file or directory"
    linker = ["/usr/bin/ld: main.o: in function `main':", "main.c:(.text+0x9): undefined reference to `missing'", "collect2: error: ld returned 1 exit status"]
    assert c_program.first_error(linker) == "main.c:(.text+0x9): undefined reference to `missing'"
    assert c_program.first_error(["make: *** No rule to make target 'x.c'.  Stop."]) is None


def test_musl_feature_loss_is_seen_in_config_status_and_cmake_cache():
    glibc = 'D["HAVE_STDIO_H"]=" 1"\nD["HAVE_ZLIB_H"]=" 1"\nD["HAVE_LIBZ"]=" 1"\nD["PACKAGE"]=" \\"x\\""\nS["LIBS"]="-lz -lm "\n'
    musl = 'D["HAVE_STDIO_H"]=" 1"\nS["LIBS"]="-lm "\n'
    assert c_program.dropped(c_program.autoconf_features(glibc), c_program.autoconf_features(musl)) == ["-lz", "HAVE_LIBZ", "HAVE_ZLIB_H"]
    assert c_program.dropped(c_program.autoconf_features(musl), c_program.autoconf_features(musl)) == []
    # glibc keeps libnsl apart, musl has it inside libc: not a feature musl lacks (tinyproxy's configure)
    assert c_program.autoconf_features('D["HAVE_LIBNSL"]=" 1"\nD["HAVE_LIBM"]=" 1"\nS["LIBS"]="-lnsl -lm"\n') == set()
    cache_glibc = ("HAVE_ZLIB_H:INTERNAL=1\nHAVE_UNISTD_H:INTERNAL=1\nFIND_PACKAGE_MESSAGE_DETAILS_ZLIB:INTERNAL=[/usr/lib/libz.so][v1.2]\n"
                   "OPENSSL_FOUND:INTERNAL=\nCMAKE_BUILD_TYPE:STRING=Release\n")
    cache_musl = "HAVE_ZLIB_H:INTERNAL=\nHAVE_UNISTD_H:INTERNAL=1\n"
    assert c_program.dropped(c_program.cmake_features(cache_glibc), c_program.cmake_features(cache_musl)) == ["HAVE_ZLIB_H", "package ZLIB"]


def test_ldd_output_gives_the_library_closure():
    text = ("\tlinux-vdso.so.1 (0x00007ffd)\n\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f)\n"
            "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n"
            "\tlibmissing.so => not found\n")
    assert c_program.parse_ldd(text) == ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libz.so.1", "/lib64/ld-linux-x86-64.so.2"]


def test_build_system_helper_matches_decide(tmp_path):
    assert c_buildpack.build_system(tree(tmp_path, {"CMakeLists.txt": ""})) == "cmake"


def test_configure_links_the_projects_own_libraries_in_when_it_can(tmp_path):
    step = {"system": "autotools"}
    (tmp_path / "configure").write_text("#!/bin/sh\n# --prefix only\n")
    assert c_step.configure_commands(step, str(tmp_path), {}) == [["sh", "./configure", "--prefix=/usr/local"]]
    (tmp_path / "configure").write_text("#!/bin/sh\n# Generated by GNU Autoconf\n  --enable-shared[=PKGS]  build shared libraries\n")
    os.chmod(tmp_path / "configure", 0o755)
    assert c_step.configure_commands(step, str(tmp_path), {}) == [["./configure", "--prefix=/usr/local", "--disable-shared"]]
    cmake = c_step.configure_commands({"system": "cmake"}, str(tmp_path), {"CC": "gcc"})[0]
    assert "-DBUILD_SHARED_LIBS=OFF" in cmake and "-DBUILD_TESTING=OFF" in cmake and "-DCMAKE_CXX_COMPILER" not in " ".join(cmake)


def test_meson_builds_get_meson_and_ninja_as_build_packages_and_run_setup_compile_install(tmp_path):
    decision = C.decide(tree(tmp_path, {"meson.build": "project('x', 'c')\n"}), {})
    assert decision["tool_packages"] == ["meson", "ninja-build"]
    assert c_step.configure_commands(decision, str(tmp_path), {"CC": "gcc"}) == [
        ["meson", "setup", ".s2i-meson", "--prefix=/usr/local", "--buildtype=release", "-Ddefault_library=static"]]
    assert c_step.compile_commands(decision, {})[0][:4] == ["meson", "compile", "-C", ".s2i-meson"]
    assert c_step.install_command(decision, str(tmp_path), "/tmp/d", {}) == ["meson", "install", "-C", ".s2i-meson", "--destdir", "/tmp/d"]


def test_musl_feature_loss_is_seen_in_the_meson_log():
    glibc = ("Run-time dependency zlib found: YES 1.3.1\nRun-time dependency openssl found: NO (tried pkgconfig)\n"
             'Has header "zlib.h" : YES\nHas header "sys/epoll.h" : YES\nLibrary m found: YES\nLibrary event found: YES\n'
             'Checking for function "arc4random" : YES\nDependency threads found: YES unknown (cached)\n')
    musl = 'Run-time dependency zlib found: YES 1.3.1\nHas header "zlib.h" : NO\nHas header "sys/epoll.h" : YES\nLibrary m found: YES\n'
    assert c_program.dropped(c_program.meson_features(glibc), c_program.meson_features(musl)) == [
        "function arc4random", "header zlib.h", "library event"]
    assert c_program.meson_features(musl) == {"dependency zlib", "header sys/epoll.h"}  # libm is inside musl's libc


def test_git_submodules_with_no_files_are_named(tmp_path):
    modules = ('[submodule "a"]\n\tpath = vendor/onig\n[submodule "b"]\n  path = docs/theme\n'
               '[submodule "c"]\n\tpath = lib/full\n[submodule "d"]\n\tpath = ../outside\n')
    app = tree(tmp_path, {".gitmodules": modules, "Makefile": "", "lib/full/x.c": ""})
    (app / "vendor" / "onig").mkdir(parents=True)  # what a clone without --recursive leaves
    assert C.decide(app, {})["empty_submodules"] == ["vendor/onig", "docs/theme"]


def test_a_meson_cross_build_gets_a_cross_file_naming_the_targets_tools():
    from s2i.buildpacks.steps import c_cross
    cross = {"architecture": "arm64", "triplet": "aarch64-linux-gnu", "processor": "aarch64"}
    step = {"system": "meson", "cross": cross}
    assert c_step.configure_commands(step, "/w", {})[0][-2:] == ["--cross-file", c_cross.MESON_CROSS]
    text = c_cross.meson_cross_file(cross)
    assert "c = '/tmp/cross/bin/gcc'\n" in text and "pkg_config_libdir = ['/usr/lib/aarch64-linux-gnu/pkgconfig']" in text
    assert "cpu_family = 'aarch64'\n" in text


def test_a_cmake_error_is_quoted_with_the_reason_on_its_next_line():
    script = ("echo '-- Looking for pcre2_match_8 - not found'; echo 'CMake Error at src/CMakeLists.txt:601 (message):'; "
              "echo \"  pcre2.h couldn't be found\"; echo; echo '-- Configuring incomplete, errors occurred!'; exit 1")
    with pytest.raises(c_step.Failed) as failed:
        c_step.tee(["sh", "-c", script], "/", dict(os.environ))
    assert failed.value.error == "CMake Error at src/CMakeLists.txt:601 (message): pcre2.h couldn't be found"


@pytest.mark.parametrize("system, command", [
    ("make", ["make", "server"]), ("autotools", ["make", f"-j{c_step.JOBS}", "server"]),
    ("cmake", ["cmake", "--build", ".s2i-cmake", "--parallel", c_step.JOBS, "--target", "server"]),
    ("meson", ["meson", "compile", "-C", ".s2i-meson", "-j", c_step.JOBS, "server"]),
])
def test_build_targets_replace_the_default_goal(system, command):
    assert c_step.compile_commands({"system": system, "targets": ["server"]}, {}) == [command]


def test_assets_naming_a_directory_keep_its_files_and_a_pattern_matching_nothing_is_refused(tmp_path):
    app = tree(tmp_path, {"Makefile": "", "site/index.html": "", "site/css/a.css": "", "conf/app.conf": "", "notes.txt": ""})
    expected = ["conf/app.conf", "site/css/a.css", "site/index.html"]
    assert C.decide(app, {"assets": ["site", "conf/**"]})["assets"] == expected  # `conf/**` is a directory to Python's glob
    assert C.decide(app, {"assets": ["site/", "conf/*"]})["assets"] == expected
    with pytest.raises(UsageError) as caught:
        C.decide(app, {"assets": ["site", "htdocs/**"]})
    assert caught.value.message == "s2i.toml: build.assets 'htdocs/**' matches no file"


@pytest.mark.parametrize("files, project", [
    ({"CMakeLists.txt": "cmake_minimum_required(VERSION 3.7)\nproject(lighttpd C)\n"}, "lighttpd"),
    ({"meson.build": "project('dav1d', ['c'],\n  version: '1.5.4')\n"}, "dav1d"),
    ({"configure.ac": "AC_INIT([memcached], [1.6])\n"}, "memcached"),
    ({"Makefile": "all:\n"}, ""),
])
def test_the_project_name_comes_from_the_build_file(tmp_path, files, project):
    assert C.decide(tree(tmp_path, files), {})["project"] == project


def test_of_several_programs_the_one_named_like_the_project_is_taken():
    found = {"usr/local/sbin/lighttpd": ["usr/local/sbin/lighttpd"], "usr/local/sbin/lighttpd-angel": ["usr/local/sbin/lighttpd-angel"]}
    assert c_program.choose(found, "", "lighttpd") == "usr/local/sbin/lighttpd"
    assert c_program.choose(found, "lighttpd-angel", "lighttpd") == "usr/local/sbin/lighttpd-angel"
    with pytest.raises(ValueError, match="found 2"):
        c_program.choose(found, "", "other")
