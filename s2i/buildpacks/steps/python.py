"""In the sandbox: the venv at /opt/venv (skipped when the deps layer is reused), the app byte-compiled."""

from __future__ import annotations

import compileall
import email.parser
import glob
import importlib.util
import os
import py_compile
import re
import shutil
import subprocess
import sys
import sysconfig

from . import common, python_cross

PY = "/usr/bin/python3"
UV_TOOL = "/s2i/cache/uv-tool"  # uv from pip, for a uv.lock when the stack pins no uv
UV = "/s2i/tools/uv/uv"  # the stack's pinned uv (s2i.build.tools), read-only
# uv's line naming a distribution whose source build failed, or that has no wheel for this CPython and no source
NO_WHEEL = re.compile(r"Failed to build `([^`]+)`|Because (\S+) has no wheels with a matching Python ABI tag")
NO_STATIC_ROOT = re.compile(r"(ImproperlyConfigured): You're using the staticfiles app without having set the STATIC_ROOT")
PIP_TO_UV = (("PIP_INDEX_URL", "UV_INDEX_URL"), ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"), ("PIP_TRUSTED_HOST", "UV_INSECURE_HOST"))


def pip(venv: str) -> list[str]:
    return [PY, "-m", "pip", "--python", f"{venv}/bin/python"]


def uv_env() -> dict:
    """The build env for uv: pip's index settings under uv's names, never a downloaded Python, files copied out of the
    cache (another filesystem); with extra indexes, pip's choice of the best version across all of them."""
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never", UV_LINK_MODE="copy", UV_NO_PROGRESS="1")
    for pip_name, uv_name in PIP_TO_UV:
        if pip_name in os.environ:
            env.setdefault(uv_name, os.environ[pip_name])
    if "PIP_EXTRA_INDEX_URL" in os.environ:
        env.setdefault("UV_INDEX_STRATEGY", "unsafe-best-match")
    return env


def hashed(path: str, depth: int = 0) -> bool:
    """Whether pip would install `path` in hash-checking mode: a --hash or --require-hashes in it or a file it includes."""
    try:
        with open(path, errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return False
    for line in lines:
        words = line.split("#", 1)[0].split()
        if any(word.startswith(("--hash", "--require-hashes")) for word in words):
            return True
        if depth < 8 and len(words) == 2 and words[0] in ("-r", "--requirement", "-c", "--constraint"):
            if hashed(os.path.join(os.path.dirname(path), words[1]), depth + 1):
                return True
    return False


def uv_runs(uv: str = UV) -> bool:
    """Whether the stack's uv is here and runs in this builder (an amd64 binary in another architecture's does not)."""
    try:
        return os.access(uv, os.X_OK) and subprocess.run([uv, "--version"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def drop_uv_lock(venv: str) -> None:
    """uv leaves its lock file in the venv: not part of what the image ships."""
    lock = os.path.join(venv, ".lock")
    if os.path.isfile(lock) and not os.path.islink(lock):
        os.unlink(lock)


def uv_wanted(file: str | None, lines: list[str]) -> list[str]:
    return ["-r", file, *(["--require-hashes"] if hashed(file) else [])] if file else ["--", *lines]


def watched(argv: list[str], cwd: str, env: dict, pattern: re.Pattern) -> tuple[int, re.Match | None]:
    """Echo and run, the output passed through: (the status, the first match of `pattern` in a line)."""
    seen: list[re.Match] = []

    def note(line: str) -> None:
        if not seen and (found := pattern.search(line)):
            seen.append(found)
    return common.watched(argv, cwd, env, note), (seen or [None])[0]


def uv_run(argv: list[str], env: dict) -> tuple[int, tuple[str, bool] | None]:
    """uv's status, and the distribution it found no wheel for (and whether it tried its source)."""
    code, found = watched(argv, "/workspace", env, NO_WHEEL)
    return code, found and ((found.group(1) or found.group(2)).split(" @ ")[0], bool(found.group(1)))


def collect_static(venv: str, app: str) -> None:
    """`collectstatic`, chosen because the settings mention STATIC_ROOT; when they set it only for another
    environment (`if not DEBUG:`), Django says so and the build goes on without collecting."""
    print("collecting Django's static files (the settings set STATIC_ROOT)", flush=True)
    code, unset = watched([f"{venv}/bin/python", "manage.py", "collectstatic", "--noinput"], app,
                          dict(os.environ, PYTHONPATH=app), NO_STATIC_ROOT)
    if code and unset:
        print("collectstatic: STATIC_ROOT is not set with the build's environment (the settings set it conditionally): "
              "static files not collected", flush=True)
    elif code:
        sys.exit(code)


def no_wheel(failed: tuple[str, bool], others: list) -> common.StepError:
    """A source build that failed: pip would build the same source and fail the same way, so the fix is named now;
    `others` are the [version, stack] pairs the stacks offer besides this CPython, newest first."""
    (distribution, built), version = failed, "{}.{}".format(*sys.version_info[:2])
    other = others[0][0] if others else ""
    python = (f'set build.python-version = "{other}" in s2i.toml (stack {others[0][1]}) if it has a cp{other.replace(".", "")} wheel'
              if others else "ask for a Python it has wheels for")
    return common.StepError(
        f"error: {distribution} has no wheel for CPython {version}"
        + (" and building it from source failed (its output is above)" if built else " and no source to build") +
        f": require a version with a cp{version.replace('.', '')} wheel, "
        + ("add the Debian packages its build needs with [build] packages, " if built else "") + f"or {python}")


def uv_install(venv: str, file: str | None, lines: list[str], others: list) -> bool:
    """`uv pip install` of the app's requirements file (or of the lines s2i read from a lock, given as arguments: a
    path such as "." stays relative to /workspace) into the venv; False (the venv made afresh) when uv failed."""
    code, failed = uv_run([UV, "pip", "install", "--python", f"{venv}/bin/python", *uv_wanted(file, lines)], uv_env())
    drop_uv_lock(venv)
    if code == 0:
        return True
    if failed:
        raise no_wheel(failed, others)
    print(f"uv failed (exit {code}): installing with pip instead", flush=True)
    common.run([PY, "-m", "venv", "--clear", venv])  # what uv may have half-installed goes
    return False


def install_dependencies(deps: dict, venv: str, cross: dict | None = None, others: tuple = ()) -> None:
    """Into the venv: with uv, pip where the stack pins none; another architecture's wheels only with the stack's uv."""
    uv = uv_runs()
    if cross and not uv:
        raise common.StepError(f"error: installing Python packages for linux/{cross['architecture']} needs uv, and this stack "
                               "pins none: pin [tools.uv] in the stack, or build for the host's platform only")
    print(f"installing dependencies from {deps['source']} with {'uv' if uv else 'pip (no uv in this stack)'}", flush=True)
    if deps["source"] == "uv.lock":
        lock_env = dict(uv_env(), PYTHONPATH=UV_TOOL)
        tool = UV if uv else f"{UV_TOOL}/bin/uv"
        if not uv:
            common.run([PY, "-m", "pip", "install", "--quiet", "--target", UV_TOOL, "uv"])
        common.run([tool, "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project",
                    "--format", "requirements-txt", "-o", "/tmp/requirements.txt"], cwd="/workspace", env=lock_env)
        if cross:
            return python_cross.install(UV, venv, ["-r", "/tmp/requirements.txt"], cross, uv_env())
        code, failed = uv_run([tool, "pip", "install", "--python", f"{venv}/bin/python", "-r", "/tmp/requirements.txt"], lock_env)
        drop_uv_lock(venv)
        if failed:
            raise no_wheel(failed, others)
        if code:
            sys.exit(code)
        return
    requirements = deps.get("requirements_file")
    if cross and (requirements or deps["requirements"]):
        return python_cross.install(UV, venv, uv_wanted(requirements, deps["requirements"]), cross, uv_env())
    if not (requirements or deps["requirements"]) or (uv and uv_install(venv, requirements, deps["requirements"], others)):
        return
    if not requirements:
        requirements = "/tmp/requirements.txt"
        with open(requirements, "w") as handle:
            handle.write("".join(f"{line}\n" for line in deps["requirements"]))
    common.run([*pip(venv), "install", "--no-compile", "--no-warn-script-location", "-r", requirements], cwd="/workspace")


def seed_wheels() -> list[str]:
    """The wheels `python -m venv` seeds this CPython's venvs with (ensurepip's pip, and setuptools up to 3.11), found
    where ensurepip looks (the distribution's wheel directory, then its bundled ones); [] when one is not there."""
    spec = importlib.util.find_spec("ensurepip")
    places = [place for place in (sysconfig.get_config_var("WHEEL_PKG_DIR"),
                                  os.path.join(spec.submodule_search_locations[0], "_bundled") if spec and spec.submodule_search_locations else None)
              if place]
    wheels = []
    for name in ("pip", *(("setuptools",) if sys.version_info < (3, 12) else ())):
        found = next((matches for place in places if (matches := sorted(glob.glob(os.path.join(place, f"{name}-*-py3-none-any.whl"))))), [])
        if not found:
            return []
        wheels.append(found[-1])
    return wheels


def make_venv(venv: str, uv: bool) -> None:
    """A venv seeded as `python -m venv` seeds it; with uv the same wheels are installed by uv (seconds faster than ensurepip)."""
    wheels = seed_wheels() if uv else []
    if wheels:
        common.run([PY, "-m", "venv", "--without-pip", venv])
        # by name from the wheels' directories, as ensurepip installs them: no direct_url.json, so pip freeze lists name==version
        wanted = [f"{name}=={version}" for name, version, *_ in (os.path.basename(wheel).split("-") for wheel in wheels)]
        links = [arg for place in sorted({os.path.dirname(wheel) for wheel in wheels}) for arg in ("--find-links", place)]
        code = common.attempt([UV, "pip", "install", "--python", f"{venv}/bin/python", "--no-index", "--no-deps", *links, *wanted], env=uv_env())
        drop_uv_lock(venv)
        if code == 0:
            return
        print(f"uv failed (exit {code}): seeding the venv with python -m venv instead", flush=True)
    common.run([PY, "-m", "venv", "--clear", venv])


def distributions(venv: str) -> list[str]:
    """name==version of each distribution in the venv, read from its metadata: what `pip freeze --all` lists for a seed."""
    found = []
    for path in glob.glob(f"{venv}/lib/python3*/site-packages/*.dist-info/METADATA"):
        with open(path, errors="replace") as handle:
            fields = email.parser.HeaderParser().parse(handle, headersonly=True)
        found.append(f"{fields['Name']}=={fields['Version']}")
    return sorted(found, key=str.lower)


def installed(venv: str) -> list[str]:
    """`pip freeze --all` of the venv: every distribution in it, pip's own seed included."""
    frozen = subprocess.run([*pip(venv), "freeze", "--all", "--exclude-editable"], capture_output=True, text=True)
    if frozen.returncode != 0:
        frozen = subprocess.run([*pip(venv), "freeze"], capture_output=True, text=True, check=True)
    return [line.strip() for line in frozen.stdout.splitlines() if line.strip()]


def record_versions(venv: str, seeded: list[str]) -> None:
    """Resolved versions (not the venv's own seed) land in the venv and in a label; every .pyc is rewritten
    with an unchecked hash, so none embeds an mtime (ensurepip's own are timestamped)."""
    pins = [pin for pin in installed(venv) if pin not in seeded]
    with open(f"{venv}/s2i-requirements.txt", "w") as handle:
        handle.write("".join(f"{pin}\n" for pin in pins))
    compileall.compile_dir(venv, quiet=1, workers=0, force=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    common.write_json(f"{common.OUT}/meta/deps.json", {"labels": {"io.s2i.python.requirements": " ".join(pins)}})
    print("resolved: " + (" ".join(pins) or "nothing"), flush=True)


def compile_app(root: str, shown_root: str) -> None:
    """Byte-compile every .py; a syntax error stops the build here, naming the file and line."""
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            shown = shown_root + path[len(root):]
            try:
                py_compile.compile(path, dfile=shown, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            except py_compile.PyCompileError as error:
                detail = error.exc_value
                line = getattr(detail, "lineno", "?")
                message = getattr(detail, "msg", detail)
                raise common.StepError(f"{shown[len(shown_root) + 1:]}, line {line}: {type(detail).__name__}: {message}") from None


def build(step: dict) -> None:
    venv, app = step["venv"], common.layer_path("app", step["app"])
    os.makedirs(app, exist_ok=True)
    reused = "deps" in step["reuse"]
    # also when reused (a bare skeleton then: the stored layer is what ships): the project wheel below installs with
    # the venv's interpreter; a fresh venv gets what `python -m venv` seeds for this CPython (pip, and setuptools up to 3.11)
    if reused:
        common.run([PY, "-m", "venv", "--without-pip", venv])
        print("dependencies unchanged: reusing the deps layer, pip does not run", flush=True)
    else:
        make_venv(venv, uv_runs())
        seeded = distributions(venv)
        print(f"venv seeded as python -m venv does: {' '.join(seeded)}", flush=True)
        install_dependencies(step["deps"], venv, step.get("cross"), step.get("runtime", {}).get("others", ()))
        if step.get("cross"):
            python_cross.check_tree(venv, venv, step["cross"])
        record_versions(venv, seeded)
    shutil.copytree("/workspace", app, symlinks=True, dirs_exist_ok=True)
    if step["install_project"]:
        lib = common.layer_path("app", step["project_lib"])
        print(f"installing the project as a wheel into {step['project_lib']}", flush=True)
        common.run([*pip(venv), "install", "--no-deps", "--no-compile", "--no-warn-script-location", "--target", lib, "."], cwd="/workspace")
        if step.get("cross"):
            python_cross.check_tree(lib, step["project_lib"], step["cross"])
        shutil.rmtree(os.path.join(app, "build"), ignore_errors=True)
        for name in os.listdir(app):
            if name.endswith(".egg-info"):
                shutil.rmtree(os.path.join(app, name), ignore_errors=True)
    if step.get("commands"):  # the venv first on PATH, the app importable, as collectstatic runs
        venv_env = dict(os.environ, PATH=f"{venv}/bin:{os.environ['PATH']}", VIRTUAL_ENV=venv, PYTHONPATH=app)
        common.run_commands(step, app, venv_env)
    if step.get("collectstatic"):
        collect_static(venv, app)
    compile_app(app, step["app"])
    launch = step["launch"]
    if "entrypoint" in launch:
        print(f"entry point from {step['entry_reason']}: {' '.join(launch['entrypoint'])}", flush=True)
    common.write_json(f"{common.OUT}/launch.json", launch)


if __name__ == "__main__":
    common.main(build)
