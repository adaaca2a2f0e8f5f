"""Python: which dependency file wins, what to install, the entry point and the run env, decided here."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from s2i.buildpacks.base import Buildpack, LayerSpec, Setting, SourceRule, read_text
from s2i.buildpacks.python_entry import (
    APP, PROJECT_LIB, SCRIPT_FILES, VENV, entry_point, normalise, requirement_names,
)
from s2i.buildpacks.python_lock import main_lines
from s2i.buildpacks.versions import Wanted
from s2i.errors import UsageError

DEPENDENCY_FILES = ("uv.lock", "poetry.lock", "Pipfile.lock", "requirements.txt", "pyproject.toml", "setup.py", "setup.cfg")
ENTRY_HINT = "name one: a Procfile web: line, [project.scripts], an app.py or main.py, or entrypoint = [...] in s2i.toml"
PINNED = re.compile(r"^[A-Za-z0-9._-]+(\[.*\])?==[^*]+$")


def _toml(tree: Path, name: str) -> dict:
    text = read_text(tree, name)
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{name}: {exc}", f"fix the TOML syntax of {name}") from None


def _pipfile_lock(tree: Path) -> dict:
    try:
        data = json.loads(read_text(tree, "Pipfile.lock") or "{}")
    except ValueError as exc:
        raise UsageError(f"Pipfile.lock: {exc}", "regenerate it: pipenv lock") from None
    default = data.get("default") if isinstance(data, dict) else None
    return default if isinstance(default, dict) else {}


def dependencies(tree: Path) -> dict:
    """The source of truth, most exact first, and what pip installs: requirement lines, or the app's own file."""
    if (tree / "uv.lock").is_file():
        return {"source": "uv.lock", "requirements": []}
    if (tree / "poetry.lock").is_file():
        lock = _toml(tree, "poetry.lock")
        packages = lock.get("package", [])
        roots = _dig(_toml(tree, "pyproject.toml"), "tool", "poetry", "dependencies") if (tree / "pyproject.toml").is_file() else None
        if isinstance(roots, dict) and not any("category" in p or "groups" in p for p in packages):
            # lock-version 2.0 says no package's group: the main dependencies are walked from pyproject.toml
            return {"source": "poetry.lock", "requirements": main_lines(lock, roots)}
        lines = [f"{p['name']}=={p['version']}" for p in packages
                 if p.get("category", "main") == "main" and "main" in p.get("groups", ["main"])]
        return {"source": "poetry.lock", "requirements": lines}
    if (tree / "Pipfile.lock").is_file():
        default = _pipfile_lock(tree)
        lines = [name + spec["version"] for name, spec in sorted(default.items()) if isinstance(spec, dict) and "version" in spec]
        return {"source": "Pipfile.lock", "requirements": lines}
    if (tree / "requirements.txt").is_file():
        lines = [line.strip() for line in (read_text(tree, "requirements.txt") or "").splitlines()]
        lines = [line for line in lines if line and not line.startswith("#")]
        pinned = all(PINNED.match(line) for line in lines if not line.startswith("-"))
        return {"source": "requirements.txt (fully pinned)" if pinned else "requirements.txt", "requirements": [], "requirements_file": "requirements.txt"}
    if (tree / "pyproject.toml").is_file():
        project = _toml(tree, "pyproject.toml").get("project", {})
        return {"source": "pyproject.toml [project] dependencies", "requirements": list(project.get("dependencies", []))}
    if (tree / "setup.py").is_file() or (tree / "setup.cfg").is_file():
        return {"source": "setup.py", "requirements": ["."]}
    return {"source": "no dependency file", "requirements": []}


def installs_project(pyproject: dict) -> bool:
    """A project with a build backend (PEP 621 or poetry) is built as a wheel into /app/.s2i-lib."""
    return "build-system" in pyproject and ("project" in pyproject or "poetry" in pyproject.get("tool", {}))


def dependency_names(tree: Path, deps: dict) -> set[str]:
    """Which distributions the app depends on, to pick a server for its WSGI/ASGI object."""
    if deps["source"] == "uv.lock":
        return {normalise(p["name"]) for p in _toml(tree, "uv.lock").get("package", []) if isinstance(p, dict) and "name" in p}
    lines = deps["requirements"]
    if deps.get("requirements_file"):
        lines = (read_text(tree, deps["requirements_file"]) or "").splitlines()
    return requirement_names(lines)


def _dig(table: object, *keys: str) -> object:
    """table[k1][k2]..., or None where a level is missing or not a table (the file is the app's, any shape)."""
    for key in keys:
        table = table.get(key) if isinstance(table, dict) else None
    return table


def _version_file(tree: Path, name: str) -> str | None:
    """The first line of .python-version or runtime.txt (`python-3.12.1`), when it names a CPython version."""
    line = next((ln.strip() for ln in (read_text(tree, name) or "").splitlines() if ln.strip() and not ln.startswith("#")), "")
    found = re.fullmatch(r"(?:python-|cpython-)?(\d+(?:\.\d+){0,2})", line)
    return found.group(1) if found else None


def wanted_python(tree: Path, settings: dict) -> Wanted | None:
    """`[build] python-version`, .python-version, runtime.txt, requires-python, poetry's python, Pipfile's python_version."""
    if "python-version" in settings:
        return Wanted("python", settings["python-version"], "s2i.toml build.python-version")
    for name in (".python-version", "runtime.txt"):
        if version := _version_file(tree, name):
            return Wanted("python", ".".join(version.split(".")[:2]), name)
    pyproject = _toml(tree, "pyproject.toml")
    pipfile = _toml(tree, "Pipfile") if (tree / "Pipfile").is_file() else {}
    for spec, source in ((_dig(pyproject, "project", "requires-python"), "pyproject.toml requires-python"),
                         (_dig(pyproject, "tool", "poetry", "dependencies", "python"), "pyproject.toml [tool.poetry.dependencies] python"),
                         (_dig(pipfile, "requires", "python_version") or _dig(pipfile, "requires", "python_full_version"), "Pipfile [requires]")):
        if isinstance(spec, str) and spec.strip():
            return Wanted("python", spec.strip(), source)
    return None


def decide(tree: Path, settings: dict) -> dict:
    pyproject = _toml(tree, "pyproject.toml")
    project = installs_project(pyproject)
    deps = dependencies(tree)
    try:
        command, why, collectstatic = entry_point(tree, pyproject, project, dependency_names(tree, deps), settings.get("process"))
        entry_error = None if command else {"message": "the python build found no entry point", "hint": ENTRY_HINT}
    except UsageError as exc:  # only an error when s2i.toml names no entrypoint either (the plan decides)
        command, why, collectstatic, entry_error = None, "", False, {"message": exc.message, "hint": exc.hint}
    launch = {
        "workdir": APP,
        "env": {"PATH": f"{VENV}/bin:/usr/local/bin:/usr/bin:/bin", "VIRTUAL_ENV": VENV,
                "PYTHONPATH": f"{PROJECT_LIB}:{APP}" if project else APP},
    }
    if command:
        launch["entrypoint"] = command
    return {"deps": deps, "install_project": project, "entry_reason": why, "launch": launch, "collectstatic": collectstatic,
            "needs_dependencies": collectstatic, "entry_error": entry_error,
            "venv": VENV, "app": APP, "project_lib": PROJECT_LIB}


BUILDPACK = Buildpack(
    name="python",
    version="4",  # 2: the venv holds what python -m venv seeds (pip); 3: installed by uv when the stack pins it; 4: poetry.lock with no groups: main only
    description="Python apps: dependencies in a venv layer at /opt/venv, the app byte-compiled at /app",
    default_run_image="python",
    run_images=("python",),
    layers=(LayerSpec("deps", mount=VENV, key_files=DEPENDENCY_FILES), LayerSpec("app")),
    files=("requirements.txt", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile.lock", *SCRIPT_FILES, "manage.py"),
    sources=(SourceRule("*.py", r"""^if __name__ == ['"]__main__['"]""", "runs as a script"),),
    build_env=(("PIP_CACHE_DIR", "/s2i/cache/pip"), ("PIP_DISABLE_PIP_VERSION_CHECK", "1"), ("PIP_NO_INPUT", "1"),
               ("PIP_ROOT_USER_ACTION", "ignore"), ("PYTHONDONTWRITEBYTECODE", "1"), ("UV_CACHE_DIR", "/s2i/cache/uv")),
    decide=decide,
    native_closure=True,
    tools=("uv",),
    settings=(Setting("python-version", str, 'python-version = "3.13" (or ">=3.12")'),),
    runtime="python",
    wanted_version=wanted_python,
    bindings_files=("setup.py", "setup.cfg"),  # beside a CMakeLists.txt or configure: that program's Python bindings
    refused_run_images=(
        ("alpine", "its musl libc cannot load wheels built against glibc, and it has no Python"),
        ("base", "it has no Python interpreter"),
        ("scratch", "it has no Python interpreter"),
        ("static", "it has no Python interpreter"),
    ),
)
