"""Where a Python app starts, decided from its tree: the order and each kind of app."""

from __future__ import annotations

from pathlib import Path

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
    assert entry(app, deps={"flask"})[0] == ["/opt/venv/bin/flask", "--app", "app:app", "run", "--host", "0.0.0.0", "--port", "$PORT"]
    with pytest.raises(UsageError) as caught:
        entry(app, deps={"bottle"})
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


def test_a_flask_factory_in_a_package_and_server_extras(tmp_path):
    flaskr = tree(tmp_path / "flaskr", {"flaskr/__init__.py": "def create_app(test_config=None):\n    pass\n", "tests/__init__.py": ""})
    assert entry(flaskr, deps={"flask"})[:2] == (
        ["/opt/venv/bin/flask", "--app", "flaskr:create_app()", "run", "--host", "0.0.0.0", "--port", "$PORT"], "create_app() in flaskr/__init__.py")
    assert "uvicorn" in requirement_names(["fastapi[standard]>=0.110"]) and "uvicorn" not in requirement_names(["fastapi"])


def test_django_behind_a_procfile_still_collects_static(tmp_path):
    app = tree(tmp_path, {"manage.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site1.settings')\n",
                          "site1/settings.py": "STATIC_ROOT = 'staticfiles'\n", "Procfile": "web: gunicorn site1.wsgi\n"})
    assert entry(app, deps={"django", "gunicorn"}) == (["/opt/venv/bin/gunicorn", "site1.wsgi"], "Procfile web:", True)
    decision = PYTHON.decide(app, {})
    assert decision["collectstatic"] and decision["needs_dependencies"]  # a reused venv is unpacked for it


def test_no_entry_point_fails_before_the_build_unless_s2i_toml_names_one(tmp_path):
    from s2i.build.config import AppConfig
    from s2i.build.plan import make_plan
    from tests.unit.test_build_plan import STACK

    decision = PYTHON.decide(tree(tmp_path, {"main.py": "from fastapi import FastAPI\napp = FastAPI()\n", "requirements.txt": "fastapi\n"}), {})
    with pytest.raises(UsageError) as caught:
        make_plan(PYTHON, (), AppConfig(), STACK, {}, 0, {}, decision)
    assert "main:app is an ASGI app" in caught.value.message
    plan = make_plan(PYTHON, (), AppConfig(entrypoint=("/opt/venv/bin/uvicorn", "main:app")), STACK, {}, 0, {}, decision)
    assert plan.entrypoint == ("/opt/venv/bin/uvicorn", "main:app")


def test_requirement_names():
    lines = ["Flask==3.0", "gunicorn[gevent]>=21", "-r base.txt", "./local", "Zope.Interface ; python_version>'3'", "# c"]
    assert requirement_names(lines) == {"flask", "gunicorn", "zope-interface"}


def test_a_settings_module_from_manage_py_never_names_a_file_outside_the_app(tmp_path):
    import os
    import shutil

    outside = Path(f"/tmp/s2i_outside_{os.getpid()}")  # "/" + "tmp/s2i_outside_N/settings.py" from ".tmp.s2i_outside_N.settings"
    outside.mkdir(exist_ok=True)
    try:
        (outside / "settings.py").write_text("STATIC_ROOT = 'x'\n")
        module = f".tmp.{outside.name}.settings"
        app = tree(tmp_path, {"manage.py": f"os.environ.setdefault('DJANGO_SETTINGS_MODULE', '{module}')\n", "Procfile": "web: gunicorn x\n"})
        assert PYTHON.decide(app, {})["collectstatic"] is False
    finally:
        shutil.rmtree(outside)
