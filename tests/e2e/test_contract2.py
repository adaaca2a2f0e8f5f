"""More of the run-time contract: the Procfile process to run, a read-only app dir, ignore files before detection, the venv's seed."""

from __future__ import annotations

import re

import pytest

from tests.e2e.helpers import run_image, skopeo_inspect
from tests.e2e.test_build import APPS, app_copy, built

pytestmark = pytest.mark.e2e


def test_process_flag_and_setting_pick_a_procfile_line(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "c-processes")
    web = built(builder("build", app, f"{registry.host}/processes:web"))
    assert run_image(f"docker://{web}").stdout == "process web 8080\n"
    worker = built(builder("build", app, f"{registry.host}/processes:worker", "--process", "worker"))
    assert run_image(f"docker://{worker}").stdout == "process worker jobs\n"
    assert run_image(f"docker://{worker}", env={"QUEUE": "mail"}).stdout == "process worker mail\n"
    (app / "s2i.toml").write_text('process = "worker"\n')
    assert run_image(f"docker://{built(builder('build', app, f'{registry.host}/processes:toml'))}").stdout == "process worker jobs\n"
    wrong = builder("build", app, f"{registry.host}/processes:wrong", "--process", "wrker")
    assert wrong.returncode == 2 and wrong.stderr.splitlines()[-1] == (
        "s2i: error: Procfile has no 'wrker' process (it has: web, worker) "
        '(pick one of those with --process or process = "NAME" in s2i.toml)')
    assert registry.manifest_tags("processes") == {"web", "worker", "toml"}


def test_the_app_dir_is_writable_by_default_and_read_only_when_set(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "c-writes-beside")
    writable = built(builder("build", app, f"{registry.host}/writes:default"))
    assert run_image(f"docker://{writable}").stdout == "wrote beside the code: saved\n"
    (app / "s2i.toml").write_text("read-only-app = true\n")
    read_only = built(builder("build", app, f"{registry.host}/writes:read-only"))
    assert run_image(f"docker://{read_only}").stdout == "cannot write beside the code: Permission denied\n"
    assert skopeo_inspect(f"docker://{read_only}", config=True)["config"]["User"] == "65532"  # the same user, not root
    flag = built(builder("build", app, f"{registry.host}/writes:flag", "--writable-app"))  # the flag wins over the file
    assert run_image(f"docker://{flag}").stdout == "wrote beside the code: saved\n"


def test_a_dockerignore_written_for_a_docker_context_is_applied_before_detection(builder, registry, tmp_path):
    """Unfiltered, the app is a Go module (a code generator); its .dockerignore (`*` then `!` lines) keeps only the C program."""
    app = app_copy(tmp_path, APPS / "c-docker-context")
    assert builder("detect", app).stdout == "c: hello.c defines main()\n"
    result = builder("build", app, f"{registry.host}/docker-context:1")
    reference = built(result)
    assert "detected c: hello.c defines main()" in result.stderr
    assert run_image(f"docker://{reference}").stdout == "hello from the docker context\n"


def test_the_venv_holds_what_python_m_venv_seeds(builder, registry):
    reference = built(builder("build", APPS / "py-venv-seed", f"{registry.host}/venv-seed:1"))
    first, second = run_image(f"docker://{reference}").stdout.splitlines()
    minor = int(re.fullmatch(r"python 3\.(\d+) in /opt/venv: .*", first).group(1))
    # ensurepip seeds pip, and setuptools too up to Python 3.11 (3.12 dropped it)
    assert first.endswith(": pip setuptools" if minor <= 11 else ": pip")
    assert re.fullmatch(r"pip \d+\.\d+(\.\d+)?", second)  # pip runs as the run user from the read-only venv
    labels = skopeo_inspect(f"docker://{reference}", config=True)["config"]["Labels"]
    assert labels["io.s2i.python.requirements"] == ""  # the seed is not a resolved dependency
