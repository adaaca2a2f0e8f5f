"""Where a Python app starts: a Procfile, its scripts, Django, a WSGI/ASGI object, or a script file."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from s2i.buildpacks.base import procfile_command, read_text
from s2i.buildpacks.steps.common import each_command
from s2i.errors import UsageError

VENV = "/opt/venv"
APP = "/app"
PROJECT_LIB = "/app/.s2i-lib"
SCRIPT_FILES = ("app.py", "main.py", "wsgi.py", "__main__.py")
MODULE_FILES = ("app.py", "main.py", "wsgi.py", "asgi.py", "server.py", "app/main.py", "app/__init__.py", "src/main.py")
MAIN_BLOCK = re.compile(r"""^if __name__ == ['"]__main__['"]""", re.MULTILINE)
APP_OBJECT = re.compile(r"^(app|application)\s*(?::[^=\n]*)?=\s*(?:[\w]+\.)*(\w+)\(", re.MULTILINE)
FACTORY = re.compile(r"^def create_app\(", re.MULTILINE)
ASGI_CLASSES = {"FastAPI", "Starlette", "Quart", "Litestar", "get_asgi_application"}
DJANGO_SETTINGS = re.compile(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""")
PORT = "$PORT"  # expanded by the image's launcher at start
SERVER_HINT = "add gunicorn (WSGI) or uvicorn (ASGI) to the dependencies, or write a Procfile web: line"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


SERVER_EXTRAS = {("fastapi", "all"): "uvicorn", ("fastapi", "standard"): "uvicorn", ("quart", "all"): "hypercorn"}


def requirement_names(lines: list[str]) -> set[str]:
    """Distribution names in requirement lines (options, -r includes and paths are skipped), plus the
    servers that well-known extras bring (`fastapi[standard]` installs uvicorn)."""
    names = set()
    for line in lines:
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", line)
        if match and not line.lstrip().startswith(("-", ".", "/")):
            name = normalise(match.group(1))
            names.add(name)
            extras = {extra.strip().lower() for extra in (match.group(2) or "").split(",")}
            names.update(server for (package, extra), server in SERVER_EXTRAS.items() if package == name and extra in extras)
    return names


def resolve_command(word: str, project_scripts: set[str]) -> str:
    """Where a command's first word lives at run time: the app, the project's wheel, else the venv."""
    if word.startswith("/"):
        return word
    if "/" in word:
        return posixpath.normpath(posixpath.join(APP, word))
    if word in project_scripts:
        return f"{PROJECT_LIB}/bin/{word}"
    return f"{VENV}/bin/{word}"


def scripts_of(pyproject: dict) -> dict:
    return pyproject.get("project", {}).get("scripts") or pyproject.get("tool", {}).get("poetry", {}).get("scripts") or {}


def chosen_script(scripts: dict, pyproject: dict) -> str:
    """The only script, else the one named like the project, else the first by name."""
    project = pyproject.get("project", {}).get("name") or pyproject.get("tool", {}).get("poetry", {}).get("name") or ""
    named = [name for name in scripts if normalise(name) == normalise(project)]
    return named[0] if len(scripts) > 1 and named else sorted(scripts)[0]


def module_of(rel: str) -> str:
    parts = rel[:-3].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def serve(target: str, asgi: bool, deps: set[str]) -> list[str]:
    """A production server for `module:object` bound to 0.0.0.0:$PORT, from the app's own dependencies."""
    if asgi and "uvicorn" in deps:
        return [f"{VENV}/bin/uvicorn", target, "--host", "0.0.0.0", "--port", PORT]
    if asgi and "hypercorn" in deps:
        return [f"{VENV}/bin/hypercorn", "--bind", f"0.0.0.0:{PORT}", target]
    if not asgi and "gunicorn" in deps:
        return [f"{VENV}/bin/gunicorn", "--bind", f"0.0.0.0:{PORT}", target]
    if not asgi and "waitress" in deps:
        return [f"{VENV}/bin/waitress-serve", f"--listen=0.0.0.0:{PORT}", target]
    if not asgi and "flask" in deps:  # Flask's own server: fine to start with, gunicorn is the production one
        module, _, factory = target.partition(":")
        return [f"{VENV}/bin/flask", "--app", f"{module}:{factory}", "run", "--host", "0.0.0.0", "--port", PORT]
    raise UsageError(f"{target} is {'an ASGI' if asgi else 'a WSGI'} app but no server to run it is among its dependencies", SERVER_HINT)


def django_settings(tree: Path) -> str | None:
    match = DJANGO_SETTINGS.search(read_text(tree, "manage.py") or "")
    return match.group(1) if match else None


def collects_static(tree: Path) -> bool:
    """A Django project whose settings set STATIC_ROOT gets `collectstatic` at build time, whatever starts it."""
    settings = django_settings(tree)
    return bool(settings) and "STATIC_ROOT" in (read_text(tree, settings.replace(".", "/") + ".py") or "")


def django(tree: Path, deps: set[str]) -> tuple[list[str], str, bool] | None:
    """(command, why, collectstatic) for a Django project: its wsgi (gunicorn) or asgi (uvicorn) module."""
    settings = django_settings(tree)
    if not settings:
        return None
    package = settings.rsplit(".", 1)[0]
    collectstatic = collects_static(tree)
    if "gunicorn" in deps and (tree / package / "wsgi.py").is_file():
        return serve(f"{package}.wsgi:application", False, deps), f"Django ({package}.wsgi, gunicorn)", collectstatic
    if {"uvicorn", "hypercorn"} & deps and (tree / package / "asgi.py").is_file():
        return serve(f"{package}.asgi:application", True, deps), f"Django ({package}.asgi)", collectstatic
    raise UsageError(f"Django project {package}: no server to run it among its dependencies", SERVER_HINT)


def module_files(tree: Path) -> list[str]:
    """Well-known modules first, then each top-level package's __init__.py (the Flask tutorial's layout)."""
    packages = sorted(f"{p.parent.name}/__init__.py" for p in tree.glob("*/__init__.py")
                      if p.parent.name not in ("tests", "test", "docs", "migrations") and not p.parent.name.startswith("."))
    return list(MODULE_FILES) + [rel for rel in packages if rel not in MODULE_FILES]


def web_object(tree: Path, deps: set[str]) -> tuple[list[str], str] | None:
    """An `app`/`application` object (or a `create_app` factory) in a well-known module, with no main block."""
    for rel in module_files(tree):
        text = read_text(tree, rel)
        if text is None or MAIN_BLOCK.search(text):
            continue
        found = APP_OBJECT.search(text)
        if found:
            target = f"{module_of(rel)}:{found.group(1)}"
            return serve(target, found.group(2) in ASGI_CLASSES, deps), f"{found.group(1)} object in {rel}"
        if FACTORY.search(text):
            return serve(f"{module_of(rel)}:create_app()", False, deps), f"create_app() in {rel}"
    return None


STREAMLIT_FILES = ("streamlit_app.py", "app.py", "main.py", "Home.py")  # Streamlit Community Cloud's default first
IMPORTS_STREAMLIT = re.compile(r"^\s*(import|from)\s+streamlit\b", re.MULTILINE)


def streamlit(tree: Path, deps: set[str]) -> tuple[list[str], str] | None:
    """A Streamlit app (streamlit among the dependencies): `streamlit run` on its script, headless, on 0.0.0.0:$PORT."""
    if "streamlit" not in deps:
        return None
    others = sorted(p.name for p in tree.glob("*.py") if p.name not in STREAMLIT_FILES)
    for name in [*STREAMLIT_FILES, *others]:
        if IMPORTS_STREAMLIT.search(read_text(tree, name) or ""):
            return [f"{VENV}/bin/streamlit", "run", f"{APP}/{name}", "--server.address", "0.0.0.0", "--server.port", PORT,
                    "--server.headless", "true"], f"Streamlit app {name}"
    return None


def entry_point(tree: Path, pyproject: dict, installs_project: bool, deps: set[str],
                process: str | None = None) -> tuple[list[str] | None, str, bool]:
    """(command, why, collectstatic), in order: Procfile web: (or the `process` asked for), the project's
    scripts, a Streamlit app, Django, a script file with a main block, a WSGI/ASGI object served by the server its dependencies bring."""
    scripts = scripts_of(pyproject)
    installed = set(scripts) if installs_project else set()
    words = procfile_command(tree, process)
    if words:
        return each_command(words, lambda word: resolve_command(word, installed)), f"Procfile {process or 'web'}:", collects_static(tree)
    if scripts:
        name = chosen_script(scripts, pyproject)
        table = "[project.scripts]" if pyproject.get("project", {}).get("scripts") else "[tool.poetry.scripts]"
        return [resolve_command(name, installed)], f"{table} {name}", False
    app = streamlit(tree, deps)
    if app:
        return (*app, False)
    found = django(tree, deps)
    if found:
        return found
    for candidate in SCRIPT_FILES:
        if MAIN_BLOCK.search(read_text(tree, candidate) or ""):
            return [f"{VENV}/bin/python", f"{APP}/{candidate}"], candidate, False
    served = web_object(tree, deps)
    if served:
        return (*served, False)
    for candidate in SCRIPT_FILES:
        if (tree / candidate).is_file():
            return [f"{VENV}/bin/python", f"{APP}/{candidate}"], candidate, False
    return None, "", False
