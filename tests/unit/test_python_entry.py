"""Where a Python app starts, decided from its tree: the order and each kind of app."""

from __future__ import annotations

import pytest

from s2i.buildpacks import get_buildpack
from s2i.buildpacks.python_entry import entry_point, requirement_names, resolve_command
from s2i.errors import UsageError
from tests.unit.test_buildpacks import tree

PYTHON = get_buildpack("python")
MAIN = 'if __name__ == "__main__":\n    app.run()\n'


def entry(app, pyproject=None, installs=False, deps=()):
    return entry_point(app, pyproject or {}, installs, set(deps))


def test_order_procfile_scripts_then_files(tmp_path):
    app = tree(tmp_path, {"app.py": "", "main.py": ""})
    assert entry(app) == (["/opt/venv/bin/python", "/app/app.py"], "app.py", False)
    project = {"project": {"name": "tool", "scripts": {"serve": "pkg:main", "admin": "pkg:admin"}}, "build-system": {}}
    assert entry(app, project, True) == (["/app/.s2i-lib/bin/admin"], "[project.scripts] admin", False)
    project["project"]["scripts"]["tool"] = "pkg:cli"
    assert entry(app, project, True)[0] == ["/app/.s2i-lib/bin/tool"]  # the one named like the project
    tree(tmp_path, {"Procfile": "release: migrate\nweb: gunicorn --bind ':8000' app:app\n"})
    assert entry(app, project, True)[:2] == (["/opt/venv/bin/gunicorn", "--bind", ":8000", "app:app"], "Procfile web:")
    assert resolve_command("bin/run", set()) == "/app/bin/run" and resolve_command("/usr/bin/env", set()) == "/usr/bin/env"


def test_poetry_scripts_are_installed_with_the_project(tmp_path):
    app = tree(tmp_path, {"pyproject.toml": '[tool.poetry]\nname = "cli"\n[tool.poetry.scripts]\ncli = "cli.main:run"\n'
                                            '[build-system]\nrequires = ["poetry-core"]\nbuild-backend = "poetry.core.masonry.api"\n'})
    decision = PYTHON.decide(app, {})
    assert decision["install_project"] and decision["launch"]["entrypoint"] == ["/app/.s2i-lib/bin/cli"]


def test_wsgi_and_asgi_objects_get_the_server_their_dependencies_bring(tmp_path):
    app = tree(tmp_path / "flask", {"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
    assert entry(app, deps={"flask", "gunicorn"})[:2] == (["/opt/venv/bin/gunicorn", "--bind", "0.0.0.0:$PORT", "app:app"], "app object in app.py")
    with pytest.raises(UsageError) as caught:
        entry(app, deps={"flask"})
    assert caught.value.message.startswith("app:app is a WSGI app but no server") and "gunicorn" in caught.value.hint
    api = tree(tmp_path / "api", {"app/__init__.py": "", "app/main.py": "from fastapi import FastAPI\n\napp: FastAPI = FastAPI()\n"})
    assert entry(api, deps={"fastapi", "uvicorn"})[0] == ["/opt/venv/bin/uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "$PORT"]
    factory = tree(tmp_path / "factory", {"app.py": "def create_app():\n    pass\n"})
    assert entry(factory, deps={"gunicorn"})[0][-1] == "app:create_app()"
    script = tree(tmp_path / "script", {"app.py": "from flask import Flask\napp = Flask(__name__)\n" + MAIN})
    assert entry(script, deps={"flask", "gunicorn"})[0] == ["/opt/venv/bin/python", "/app/app.py"]  # its own main block wins


def test_django_project_with_static_root(tmp_path):
    app = tree(tmp_path, {"manage.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site1.settings')\n",
                          "site1/settings.py": "STATIC_ROOT = BASE_DIR / 'static'\n", "site1/wsgi.py": "", "site1/asgi.py": ""})
    assert entry(app, deps={"django", "gunicorn"}) == (["/opt/venv/bin/gunicorn", "--bind", "0.0.0.0:$PORT", "site1.wsgi:application"],
                                                       "Django (site1.wsgi, gunicorn)", True)
    assert entry(app, deps={"django", "uvicorn"})[0][1] == "site1.asgi:application"
    with pytest.raises(UsageError):
        entry(app, deps={"django"})


def test_requirement_names():
    lines = ["Flask==3.0", "gunicorn[gevent]>=21", "-r base.txt", "./local", "Zope.Interface ; python_version>'3'", "# c"]
    assert requirement_names(lines) == {"flask", "gunicorn", "zope-interface"}
