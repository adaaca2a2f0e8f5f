"""What each buildpack decides from a source tree, tested without a sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from s2i.buildpacks import check_settings, get_buildpack
from s2i.buildpacks import go as go_buildpack
from s2i.buildpacks import python as python_buildpack
from s2i.buildpacks.steps import common
from s2i.errors import UsageError

GO, PYTHON, C = get_buildpack("go"), get_buildpack("python"), get_buildpack("c")


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_go_main_at_the_root_named_after_the_module(tmp_path):
    app = tree(tmp_path, {"go.mod": "module example.com/team/httpd // the server\n\ngo 1.19\n", "main.go": "package main\n"})
    decision = GO.decide(app, {})
    assert decision["package"] == "." and decision["binary"] == "/app/httpd"
    assert decision["flags"] == ["-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="]
    assert decision["launch"] == {"entrypoint": ["/app/httpd"], "workdir": "/app"}


def test_go_single_cmd_vendor_and_the_main_setting(tmp_path):
    app = tree(tmp_path, {"go.mod": "module x\n", "lib.go": "package x\n", "cmd/server/main.go": "package main\n", "vendor/modules.txt": ""})
    decision = GO.decide(app, {})
    # vendor/ is Go's own call (go >= 1.14 and a consistent vendor/modules.txt), never forced
    assert decision["package"] == "./cmd/server" and decision["binary"] == "/app/server" and decision["flags"][0] == "-trimpath"
    tree(tmp_path, {"cmd/worker/main.go": "package main\n"})
    with pytest.raises(UsageError) as caught:
        GO.decide(app, {})
    assert "2 under cmd/ (./cmd/server, ./cmd/worker)" in caught.value.message and "[build] main" in caught.value.hint
    assert GO.decide(app, {"main": "cmd/worker"})["package"] == "./cmd/worker"
    with pytest.raises(UsageError):
        GO.decide(app, {"main": "-toolexec=/bin/sh"})


def test_go_build_tags_setting(tmp_path):
    app = tree(tmp_path, {"main.go": "package main\n"})
    assert GO.decide(app, check_settings(GO, {"tags": ["netgo", "osusergo"]}))["flags"][0] == "-tags=netgo,osusergo"
    with pytest.raises(UsageError):
        check_settings(GO, {"tags": "netgo"})


def test_a_procfile_names_the_command_for_every_buildpack(tmp_path):
    app = tree(tmp_path, {"go.mod": "module x/httpd\n", "main.go": "package main\n",
                          "Procfile": "worker: httpd --queue\nweb: httpd -addr :$PORT -workers ${WEB_CONCURRENCY:-2}\n"})
    assert GO.decide(app, {})["launch"]["entrypoint"] == ["/app/httpd", "-addr", ":$PORT", "-workers", "${WEB_CONCURRENCY:-2}"]
    assert C.decide(app, {})["procfile"][0] == "httpd"
    assert common.program_command(["./bin/../httpd", "-v"], "httpd", "/app") == ["/app/httpd", "-v"]
    assert common.program_command(["env"], "httpd", "/app") == ["env"]  # found on PATH by the launcher
    assert common.program_command(["bin/httpd"], "httpd", "/app") == ["/app/httpd"]  # Heroku's layout
    assert common.program_command(["scripts/start.sh"], "httpd", "/app") == ["/app/scripts/start.sh"]
    assert C.decide(tree(tmp_path / "src-layout", {"src/server.c": "int main(){}", "src/util.c": ""}), {})["sources"] == ["src/server.c", "src/util.c"]


def test_go_without_go_mod_gets_a_module_for_its_build(tmp_path):
    app = tree(tmp_path, {"main.go": "package main\n"})
    assert go_buildpack.binary_name(app, ".") == "app" and GO.decide(app, {})["init_module"] == "app"
    assert GO.decide(tree(tmp_path, {"go.mod": "module x\n"}), {})["init_module"] == ""


def test_go_keeps_the_files_a_web_app_reads_at_run_time(tmp_path):
    app = tree(tmp_path, {"go.mod": "module x\n", "main.go": "package main\n", "templates/index.html": "", "templates/a/b.tmpl": "",
                          "static/site.css": "", "pages/about.html": "", "vendor/x/y.html": "", "README.md": "", "config.yaml": ""})
    assert GO.decide(app, {})["assets"] == ["pages/about.html", "static/site.css", "templates/a/b.tmpl", "templates/index.html"]
    assert GO.decide(app, {"assets": ["config.yaml", "templates/*.html"]})["assets"] == ["config.yaml", "templates/index.html"]
    with pytest.raises(UsageError):
        GO.decide(app, {"assets": ["../*"]})


@pytest.mark.parametrize("files, source, requirements", [
    ({"requirements.txt": "flask==3.0.0\n", "poetry.lock": '[[package]]\nname = "flask"\nversion = "3.1.0"\n'
      '[[package]]\nname = "pytest"\nversion = "8.0.0"\ngroups = ["dev"]\n'}, "poetry.lock", ["flask==3.1.0"]),
    ({"Pipfile.lock": '{"default": {"flask": {"version": "==3.0.0"}, "odd": {}}}'}, "Pipfile.lock", ["flask==3.0.0"]),
    ({"requirements.txt": "# web\nflask==3.0.0\n"}, "requirements.txt (fully pinned)", []),
    ({"requirements.txt": "flask>=3\n"}, "requirements.txt", []),
    ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask>=3"]\n'}, "pyproject.toml [project] dependencies", ["flask>=3"]),
    ({"setup.py": "from setuptools import setup\nsetup()\n"}, "setup.py", ["."]),
    ({"uv.lock": "version = 1\n", "requirements.txt": "flask\n"}, "uv.lock", []),
    ({"app.py": "print(1)\n"}, "no dependency file", []),
])
def test_python_the_most_exact_dependency_file_wins(tmp_path, files, source, requirements):
    deps = python_buildpack.dependencies(tree(tmp_path, files))
    assert deps["source"] == source and deps["requirements"] == requirements
    assert deps.get("requirements_file") == ("requirements.txt" if source.startswith("requirements.txt") else None)


def test_python_decision_carries_the_run_env_and_names_bad_files(tmp_path):
    app = tree(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n[build-system]\nrequires = ["setuptools"]\n'})
    decision = PYTHON.decide(app, {})
    assert decision["install_project"] and decision["launch"]["env"]["PYTHONPATH"] == "/app/.s2i-lib:/app"
    assert "entrypoint" not in decision["launch"]
    tree(tmp_path, {"pyproject.toml": "[project\n"})
    with pytest.raises(UsageError) as caught:
        PYTHON.decide(app, {})
    assert caught.value.message.startswith("pyproject.toml: ")


def test_c_keeps_the_files_a_server_reads_at_run_time(tmp_path):
    app = tree(tmp_path, {"Makefile": "", "httpd.c": "", "htdocs/index.html": "", "htdocs/cgi/color.cgi": "", "notes.txt": ""})
    assert C.decide(app, {})["assets"] == ["htdocs/cgi/color.cgi", "htdocs/index.html"]
    assert C.decide(app, {"assets": ["notes.txt"]})["assets"] == ["notes.txt"]


def test_settings_are_checked_against_the_buildpack():
    assert check_settings(GO, {"main": "./cmd/x"}) == {"main": "./cmd/x"}
    with pytest.raises(UsageError) as caught:
        check_settings(GO, {"mian": "./cmd/x"})
    assert "build.mian" in caught.value.message and "did you mean 'main'?" in caught.value.hint
    with pytest.raises(UsageError) as caught:
        check_settings(C, {"program": ["a", "b"]})
    assert "non-empty string" in caught.value.message
    with pytest.raises(UsageError) as caught:
        check_settings(PYTHON, {"main": "x"})
    assert "reads: python-version" in caught.value.hint
