"""In the sandbox: build C/C++ static against musl when that keeps every feature, else glibc; take the one new program."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading

from . import c_cross, c_output, c_program, common
from .c_output import PREFIX, in_bin, scan

MUSL_BIN = "/tmp/musl/bin"
MUSL_TREE = "/tmp/musl-tree"
HOST_TREE = "/tmp/host-tree"  # a cross build's host configure, only to compare what each found
INSTALL_ROOT = "/tmp/s2i-install"
CMAKE_DIR = ".s2i-cmake"
MESON_DIR = ".s2i-meson"
JOBS = str(min(os.cpu_count() or 1, 4))


class Failed(Exception):
    """A command failed; `error` is the first compiler error line it printed, if any."""

    def __init__(self, argv: list[str], code: int, error: str | None):
        super().__init__(f"{shlex.join(argv)} failed (exit {code})")
        self.argv, self.code, self.error = argv, code, error


def tee(argv: list[str], cwd: str, env: dict) -> None:
    """Echo and run, streaming the output; raise Failed with the first error line on a non-zero exit."""
    print("$ " + shlex.join(argv), flush=True)
    errors: list[str] = []
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")

    def pump() -> None:
        cmake_error = ""  # CMake's error header, waiting for its reason on the next line
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()  # a build that never ends (a Makefile that runs the server) still shows what it did
            if cmake_error and line.strip():
                line, cmake_error = f"{cmake_error} {line.strip()}", ""
            elif c_program.CMAKE_ERROR.match(line):
                cmake_error = line.strip()
                continue
            if len(errors) < 50 and c_program.first_error([line]):
                errors.append(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    code = process.wait()
    # a process the build left in the background may hold the pipe open for ever: its output is not waited for
    reader.join(timeout=2)
    sys.stdout.flush()
    if code != 0:
        raise Failed(argv, code, c_program.first_error(errors))


def toolchain(libc: str) -> dict:
    if libc == "musl":  # a musl gcc/cc first on PATH, so a Makefile that names gcc gets it too
        return dict(os.environ, PATH=f"{MUSL_BIN}:{os.environ['PATH']}", CC=f"{MUSL_BIN}/gcc")
    return dict(os.environ, CC="gcc", CXX="g++")


def configure_commands(step: dict, tree: str, env: dict) -> list[list[str]]:
    if step["system"] == "autotools":
        script = ["./configure"] if os.access(os.path.join(tree, "configure"), os.X_OK) else ["sh", "./configure"]
        return [[*script, f"--prefix={PREFIX}", *(["--disable-shared"] if offers_static(tree) else []), *c_cross.configure_flags(step)]]
    if step["system"] == "cmake":
        compilers = [f"-DCMAKE_C_COMPILER={env['CC']}"] + ([f"-DCMAKE_CXX_COMPILER={env['CXX']}"] if "CXX" in env else [])
        # BUILD_TESTING=OFF: CTest's switch; test programs (and the test frameworks some fetch) are not the app.
        # BUILD_SHARED_LIBS=OFF: the project's own libraries linked in, so musl can link it statically
        return [["cmake", "-S", ".", "-B", CMAKE_DIR, "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_INSTALL_PREFIX={PREFIX}",
                 "-DBUILD_TESTING=OFF", "-DBUILD_SHARED_LIBS=OFF", *compilers, *c_cross.configure_flags(step)]]
    if step["system"] == "meson":  # meson reads CC and CXX from the environment; static: as BUILD_SHARED_LIBS=OFF
        return [["meson", "setup", MESON_DIR, f"--prefix={PREFIX}", "--buildtype=release", "-Ddefault_library=static",
                 *c_cross.configure_flags(step)]]
    return []


def offers_static(tree: str) -> bool:
    """A configure that knows --disable-shared (libtool's): the project's libraries are then linked into the program."""
    try:
        with open(os.path.join(tree, "configure"), "rb") as handle:
            return b"--enable-shared" in handle.read(4 << 20)
    except OSError:
        return False


def compile_commands(step: dict, env: dict) -> list[list[str]]:
    targets = step.get("targets", [])  # [build] targets: else the build file's default
    if step["system"] == "make":
        return [["make", *targets]]  # a hand-written Makefile may not be safe in parallel
    if step["system"] == "autotools":
        return [["make", f"-j{JOBS}", *targets]]
    if step["system"] == "cmake":
        return [["cmake", "--build", CMAKE_DIR, "--parallel", JOBS, *(["--target", *targets] if targets else [])]]
    if step["system"] == "meson":
        return [["meson", "compile", "-C", MESON_DIR, "-j", JOBS, *targets]]
    output = ["-O2", "-o", step["program"] or "app"]
    if not step["cxx_sources"]:
        return [[env["CC"], *output, *step["sources"]]]
    compiler = env.get("CXX", "g++")
    return [[compiler, *output, *(["-x", "c", *step["sources"], "-x", "none"] if step["sources"] else []), *step["cxx_sources"]]]


def install_command(step: dict, tree: str, dest: str, env: dict) -> list[str] | None:
    """`make install DESTDIR=` when the build has an install target (CMake's is run with DESTDIR in the environment)."""
    if step["system"] == "cmake":
        return ["cmake", "--install", CMAKE_DIR]
    if step["system"] == "meson":
        return ["meson", "install", "-C", MESON_DIR, "--destdir", dest]
    if step["system"] == "cc":
        return None
    probe = subprocess.run(["make", "-n", "install", f"DESTDIR={dest}"], cwd=tree, env=env, capture_output=True, timeout=120)
    return ["make", "install", f"DESTDIR={dest}"] if probe.returncode == 0 else None


FEATURE_FILES = {"cmake": (f"{CMAKE_DIR}/CMakeCache.txt", c_program.cmake_features),
                 "meson": (f"{MESON_DIR}/meson-logs/meson-log.txt", c_program.meson_features)}


def features(step: dict, tree: str) -> set[str]:
    name, parse = FEATURE_FILES.get(step["system"], ("config.status", c_program.autoconf_features))
    try:
        with open(os.path.join(tree, name), errors="replace") as handle:
            text = handle.read()
    except OSError:
        return set()
    return parse(text)


def musl_wrappers() -> None:
    os.makedirs(MUSL_BIN, exist_ok=True)
    for tool in ("gcc", "cc", "musl-gcc-static"):
        path = os.path.join(MUSL_BIN, tool)
        with open(path, "w") as handle:
            handle.write('#!/bin/sh\nexec musl-gcc -static "$@"\n')
        os.chmod(path, 0o755)


def run_all(commands: list[list[str]], tree: str, env: dict) -> None:
    for argv in commands:
        tee(argv, tree, env)


def try_musl(step: dict, glibc_env: dict) -> str:
    """Configure and build against musl: "musl" when that worked, else "glibc" or "glibc-configured" (see lost_features)."""
    musl_wrappers()
    shutil.copytree("/workspace", MUSL_TREE, symlinks=True)
    env = toolchain("musl")
    state = "glibc"
    try:
        run_all(configure_commands(step, MUSL_TREE, env), MUSL_TREE, env)
        if step["libc"] != "musl" and configure_commands(step, "/workspace", glibc_env):
            run_all(configure_commands(step, "/workspace", glibc_env), "/workspace", glibc_env)
            state = "glibc-configured"
            if lost_features(step):
                return state
        run_all(compile_commands(step, env), MUSL_TREE, env)
    except Failed as exc:
        if step["libc"] == "musl":
            raise common.StepError(f"{exc} against musl ([build] libc = \"musl\"): {exc.error or 'see the output above'}") from None
        print("musl did not build it; building against glibc", flush=True)
        return state
    print("built static against musl", flush=True)
    return "musl"


def lost_features(step: dict) -> bool:
    """The cheap check: compare what the two configure runs found (config.status, CMakeCache.txt); no second compile."""
    glibc, musl = features(step, "/workspace"), features(step, MUSL_TREE)
    lost = c_program.dropped(glibc, musl)
    if lost:
        print(f"musl's configure found less than glibc's (missing under musl: {', '.join(lost[:15])}); "
              'building against glibc with its shared libraries ([build] libc = "musl" keeps the static build)', flush=True)
    elif musl:
        print(f"musl's configure found all that glibc's did ({len(musl)} features)", flush=True)
    else:  # a hand-written configure: no config.status
        print("the configure runs left no features to compare; keeping musl", flush=True)
    return bool(lost)


def build_tree(step: dict) -> tuple[str, dict]:
    """Build; (tree, env) of the build that worked. A failure ends the step with its first error line."""
    if step["regenerate"]:
        run_or_stop(step["regenerate"], "/workspace", dict(os.environ, NOCONFIGURE="1"))
    if step.get("cross"):  # static against the target's glibc (c_cross): Debian has no musl cross toolchain
        env = cross_configured(step)
        run_or_stop(compile_commands(step, env), "/workspace", env)
        return "/workspace", env
    env = toolchain("glibc")
    state = "glibc"
    if step["libc"] == "glibc" or (step["cxx"] and step["libc"] != "musl"):
        print("building against glibc" + (": musl has no C++ library here" if step["libc"] != "glibc" else " ([build] libc)"), flush=True)
    else:
        state = try_musl(step, env)
        if state == "musl":
            return MUSL_TREE, toolchain("musl")
    if state != "glibc-configured":
        for directory in (CMAKE_DIR, MESON_DIR):  # a half-done configure starts over
            shutil.rmtree(os.path.join("/workspace", directory), ignore_errors=True)
        run_or_stop(configure_commands(step, "/workspace", env), "/workspace", env)
    run_or_stop(compile_commands(step, env), "/workspace", env)
    return "/workspace", env


def cross_configured(step: dict) -> dict:
    """Configure for the target, and for the host in a copy: what only the builder's own libraries gave (zlib, ...)
    stops the build before compiling, rather than an arm64 program that quietly lacks it."""
    host_env = toolchain("glibc")
    # meson's cross file names the target's compilers outright: the host's configure runs without it
    host_step = dict(step, cross=None) if step["system"] == "meson" else step
    commands = configure_commands(host_step, "/workspace", host_env)
    if commands:
        shutil.copytree("/workspace", HOST_TREE, symlinks=True)
        try:
            run_all(configure_commands(host_step, HOST_TREE, host_env), HOST_TREE, host_env)
        except Failed:
            commands = []  # nothing to compare with: the target's own configure says what it says
    env = c_cross.setup(step["cross"])
    run_or_stop(configure_commands(step, "/workspace", env), "/workspace", env)
    lost = c_program.dropped(features(step, HOST_TREE), features(step, "/workspace")) if commands else []
    if lost:
        raise common.StepError(f"error: the linux/{step['cross']['architecture']} build would lose what the host's finds "
                               f"({', '.join(lost[:10])}): s2i has only the builder's own libraries; build for the host's platform only")
    return env


def run_or_stop(commands: list[list[str]], tree: str, env: dict) -> None:
    try:
        run_all(commands, tree, env)
    except Failed as exc:
        if exc.error:
            raise common.StepError(f"{exc}: {exc.error}") from None
        sys.exit(exc.code)  # make's own last line (a missing rule, ...) is the summary


def installed(step: dict, tree: str, env: dict) -> str | None:
    """Run the install target into a DESTDIR; the install root when it put programs in a bin/ or sbin/."""
    dest = INSTALL_ROOT
    argv = install_command(step, tree, dest, env)
    if not argv:
        return None
    try:
        tee(argv, tree, dict(env, DESTDIR=dest))
    except Failed:
        print("the install target failed; taking the program from the build tree", flush=True)
        return None
    return dest if any(in_bin(c.path) for c in scan(dest)) else None


def built_tree(step: dict) -> tuple[str, dict]:
    """build_tree; a failure with git submodules that have no files is summed up as those, the likely cause."""
    empty = step.get("empty_submodules")
    if empty:
        print(f"warning: git submodules with no files (a clone without --recursive?): {' '.join(empty)}", flush=True)
    try:
        return build_tree(step)
    except (common.StepError, SystemExit) as exc:
        if not empty or isinstance(exc, SystemExit) and not exc.code:
            raise
        reason = str(exc) if isinstance(exc, common.StepError) else f"the build failed (exit {exc.code})"
        raise common.StepError(f"{reason}; git submodules with no files: {' '.join(empty)}: "
                               "run git submodule update --init --recursive in the app, then build again") from None


def build(step: dict) -> None:
    common.run_commands(step, "/workspace")
    before = {(c.path, c.digest) for c in scan("/workspace")}
    tree, env = built_tree(step)
    dest = installed(step, tree, env)
    program = c_output.find_program(step, tree, before, dest)
    if step.get("cross"):
        c_cross.check_machine(program, step["cross"])
    name = os.path.basename(program)
    target = common.layer_path("app", f"{step['workdir']}/{name}")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(program, target)
    common.run(["strip", "--strip-all", target])
    # glibc's, and a musl attempt's too when a Makefile called g++ by name (the musl wrapper is gcc/cc only)
    c_output.bundle_libraries(program, c_output.library_dirs(*(d for d in (dest, tree) if d)))
    if dest:
        c_output.keep_install_data(dest)
    common.keep_files(step["assets"], step["workdir"])
    words = step.get("procfile") or [name]
    entrypoint = common.program_command(words, name, step["workdir"])
    common.write_json(f"{common.OUT}/launch.json", {"entrypoint": entrypoint, "workdir": step["workdir"]})


if __name__ == "__main__":
    common.main(build)
