"""In the sandbox: the venv at /opt/venv (skipped when the deps layer is reused), the app byte-compiled."""

from __future__ import annotations

import compileall
import os
import py_compile
import shutil
import subprocess

from . import common

PY = "/usr/bin/python3"
UV_TOOL = "/s2i/cache/uv-tool"


def pip(venv: str) -> list[str]:
    return [PY, "-m", "pip", "--python", f"{venv}/bin/python"]


def install_dependencies(deps: dict, venv: str) -> None:
    print(f"installing dependencies from {deps['source']}", flush=True)
    if deps["source"] == "uv.lock":
        uv_env = dict(os.environ, PYTHONPATH=UV_TOOL)
        common.run([PY, "-m", "pip", "install", "--quiet", "--target", UV_TOOL, "uv"])
        common.run([f"{UV_TOOL}/bin/uv", "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project",
                    "--format", "requirements-txt", "-o", "/tmp/requirements.txt"], cwd="/workspace", env=uv_env)
        common.run([f"{UV_TOOL}/bin/uv", "pip", "install", "--python", f"{venv}/bin/python", "-r", "/tmp/requirements.txt"],
                   cwd="/workspace", env=uv_env)
        return
    requirements = deps.get("requirements_file")
    if not requirements and deps["requirements"]:
        requirements = "/tmp/requirements.txt"
        with open(requirements, "w") as handle:
            handle.write("".join(f"{line}\n" for line in deps["requirements"]))
    if requirements:
        common.run([*pip(venv), "install", "--no-compile", "--no-warn-script-location", "-r", requirements], cwd="/workspace")


def record_versions(venv: str) -> None:
    """Resolved versions land in the venv and in a label; .pyc with unchecked hashes embed no mtimes."""
    frozen = subprocess.run([*pip(venv), "freeze", "--all", "--exclude-editable"], capture_output=True, text=True)
    if frozen.returncode != 0:
        frozen = subprocess.run([*pip(venv), "freeze"], capture_output=True, text=True, check=True)
    pins = [line.strip() for line in frozen.stdout.splitlines() if line.strip()]
    with open(f"{venv}/s2i-requirements.txt", "w") as handle:
        handle.write("".join(f"{pin}\n" for pin in pins))
    compileall.compile_dir(venv, quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
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
    # also when reused: the project wheel below installs with the venv's interpreter
    common.run([PY, "-m", "venv", "--without-pip", venv])
    if "deps" in step["reuse"]:
        print("dependencies unchanged: reusing the deps layer, pip does not run", flush=True)
    else:
        install_dependencies(step["deps"], venv)
        record_versions(venv)
    shutil.copytree("/workspace", app, symlinks=True, dirs_exist_ok=True)
    if step["install_project"]:
        lib = common.layer_path("app", step["project_lib"])
        print(f"installing the project as a wheel into {step['project_lib']}", flush=True)
        common.run([*pip(venv), "install", "--no-deps", "--no-compile", "--no-warn-script-location", "--target", lib, "."], cwd="/workspace")
        shutil.rmtree(os.path.join(app, "build"), ignore_errors=True)
        for name in os.listdir(app):
            if name.endswith(".egg-info"):
                shutil.rmtree(os.path.join(app, name), ignore_errors=True)
    if step.get("commands"):  # the venv first on PATH, the app importable, as collectstatic runs
        venv_env = dict(os.environ, PATH=f"{venv}/bin:{os.environ['PATH']}", VIRTUAL_ENV=venv, PYTHONPATH=app)
        common.run_commands(step, app, venv_env)
    if step.get("collectstatic"):
        print("collecting Django's static files (STATIC_ROOT is set)", flush=True)
        common.run([f"{venv}/bin/python", "manage.py", "collectstatic", "--noinput"], cwd=app,
                   env=dict(os.environ, PYTHONPATH=app))
    compile_app(app, step["app"])
    launch = step["launch"]
    if "entrypoint" in launch:
        print(f"entry point from {step['entry_reason']}: {' '.join(launch['entrypoint'])}", flush=True)
    common.write_json(f"{common.OUT}/launch.json", launch)


if __name__ == "__main__":
    common.main(build)
