"""The Procfile process to run (--process / process) and the read-only app setting, decided without a sandbox."""

from __future__ import annotations

import pytest

from s2i.build.config import AppConfig, override
from s2i.build.detect import detect
from s2i.build.pipeline import decide_settings, detect_app
from s2i.build.plan import make_plan
from s2i.buildpacks import get_buildpack
from s2i.errors import UsageError
from tests.unit.test_buildpacks import tree
from tests.unit.test_build_plan import STACK
from tests.unit.test_config import config_of

GO, C, PYTHON = (get_buildpack(name) for name in ("go", "c", "python"))
PROCFILE = "# comment: not a process\nweb: httpd -addr :$PORT\nworker: httpd --queue ${QUEUE:-jobs}\nrelease: httpd --migrate\n"


def test_process_picks_that_procfile_line_for_every_buildpack(tmp_path):
    app = tree(tmp_path, {"go.mod": "module x/httpd\n", "main.go": "package main\n", "Procfile": PROCFILE})
    settings = decide_settings(AppConfig(process="worker"), {})
    assert GO.decide(app, settings)["launch"]["entrypoint"] == ["/app/httpd", "--queue", "${QUEUE:-jobs}"]
    assert GO.decide(app, {})["launch"]["entrypoint"] == ["/app/httpd", "-addr", ":$PORT"]  # web: by default
    assert C.decide(app, settings)["procfile"] == ["httpd", "--queue", "${QUEUE:-jobs}"]
    py = tree(tmp_path / "py", {"requirements.txt": "", "Procfile": "web: gunicorn app:app\nworker: python worker.py\n"})
    decision = PYTHON.decide(py, settings)
    assert decision["launch"]["entrypoint"] == ["/opt/venv/bin/python", "worker.py"]
    assert decision["entry_reason"] == "Procfile worker:"


def test_an_unknown_process_is_one_line_listing_the_processes_there_are(tmp_path):
    app = tree(tmp_path, {"go.mod": "module x/httpd\n", "main.go": "package main\n", "Procfile": PROCFILE})
    with pytest.raises(UsageError) as caught:
        GO.decide(app, {"process": "wrker"})
    assert caught.value.one_line() == ("Procfile has no 'wrker' process (it has: web, worker, release) "
                                       '(pick one of those with --process or process = "NAME" in s2i.toml)')
    (app / "Procfile").unlink()
    with pytest.raises(UsageError, match="there is no Procfile to take the 'worker' process from"):
        C.decide(app, {"process": "worker"})
    # python: the error stops the build unless an entrypoint is set (the plan raises it)
    py = tree(tmp_path / "py", {"app.py": "print(1)\n", "Procfile": "web: python app.py\n"})
    decision = PYTHON.decide(py, {"process": "worker"})
    assert decision["entry_error"]["message"] == "Procfile has no 'worker' process (it has: web)"
    with pytest.raises(UsageError, match="no 'worker' process"):
        make_plan(PYTHON, (), AppConfig(), STACK, {}, 0, {}, decision)


def test_process_and_read_only_app_in_s2i_toml_and_flags(tmp_path):
    config = config_of(tmp_path, 'process = "worker"\nread-only-app = true\n')
    assert config.process == "worker" and config.read_only_app is True
    assert override(config, AppConfig(process="web", read_only_app=False)) == AppConfig(process="web", read_only_app=False)
    assert override(config, AppConfig()).read_only_app is True  # a flag not given leaves the file's value
    for text, message in (('process = "a b"', "process: 'a b' is not a Procfile process name"),
                          ("process = 1", "process: 1 is not a Procfile process name"),
                          ('read-only-app = "yes"', "read-only-app must be true or false (write it as read-only-app = true)"),
                          ("readonly-app = true", "unknown setting 'readonly-app' (did you mean 'read-only-app'?)")):
        with pytest.raises(UsageError) as caught:
            config_of(tmp_path, text)
        assert message in caught.value.one_line()


def test_read_only_app_leaves_the_app_layer_to_root(tmp_path):
    assert make_plan(GO, (), AppConfig(), STACK, {}, 0, {}, {}).app_owner == (65532, 65532)
    plan = make_plan(GO, (), AppConfig(read_only_app=True), STACK, {}, 0, {}, {})
    assert plan.app_owner is None and plan.user == "65532"


DOCKER_CONTEXT = "# written for a Dockerfile's context: everything out, then what the image needs\n*\n!hello.c\n!include/**\n"


def test_detection_sees_the_tree_the_build_gets(tmp_path):
    """The unfiltered tree is a Go module (a code generator); .dockerignore keeps only the C program."""
    app = tree(tmp_path, {"go.mod": "module x/gen\n", "gen.go": "package main\n\nfunc main() {}\n", ".dockerignore": DOCKER_CONTEXT,
                          "hello.c": "int main(void) { return 0; }\n", "include/hello.h": "", "notes/a.c": "int main;"})
    assert detect(app).buildpack.name == "go"  # what detection said before it got the filtered tree
    detection, runtime = detect_app(app, None)
    assert detection.buildpack.name == "c" and detection.reasons == ("hello.c defines main()",) and runtime is None
    (app / "s2i.toml").write_text('exclude = ["hello.c"]\n')  # exclude counts too, and the message names the source
    with pytest.raises(UsageError) as caught:
        detect_app(app, None)
    assert caught.value.exit_code == 3 and caught.value.one_line().startswith(f"no buildpack recognises {app} (looked for")
    (app / ".dockerignore").write_text("*\n")
    with pytest.raises(UsageError) as caught:
        detect_app(app, None)
    assert caught.value.one_line() == (f"nothing of {app} is left for the build once .s2iignore/.dockerignore and exclude are applied "
                                       "(a * line needs ! exceptions for what the build needs (e.g. !go.mod), or use include)")
