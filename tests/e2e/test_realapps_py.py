"""Behaviours public Python apps showed (microblog, uv-fastapi-example, streamlit-example), on small apps of our own."""

from __future__ import annotations

import pytest

from s2i.errors import EXIT_BUILD
from tests.e2e.helpers import run_image, seconds_to_stop, skopeo_inspect, start_image
from tests.e2e.test_build import APPS, app_copy, built, http_get

pytestmark = pytest.mark.e2e


def test_procfile_steps_before_the_server_run_in_order_without_a_shell(builder, registry, tmp_path):
    # microblog's `web: flask db upgrade; flask translate compile; gunicorn microblog:app`
    reference = built(builder("build", app_copy(tmp_path, APPS / "py-procfile-steps"), f"{registry.host}/steps:1"))
    entrypoint = skopeo_inspect(f"docker://{reference}", config=True)["config"]["Entrypoint"]
    assert entrypoint == ["/s2i/launch", "--s2i-then=3", "/opt/venv/bin/python", "prepare.py", "migrated",
                          "--s2i-and=3", "/opt/venv/bin/python", "prepare.py", "compiled", "/opt/venv/bin/python", "serve.py"]
    with start_image(f"docker://{reference}", env={"PORT": "9393"}, wait_for_port=9393, timeout=30) as container:
        assert http_get("http://127.0.0.1:9393/") == "steps: migrated compiled\n"
        assert seconds_to_stop(container) < 2


def test_a_dependency_whose_source_build_fails_is_named_with_the_fix_and_pip_does_not_retry(builder, registry, tmp_path):
    # microblog's psycopg2-binary 2.9.9 and greenlet 3.0.1, uv-fastapi-example's locked httptools 0.6.1: no cp313 wheel
    result = builder("build", app_copy(tmp_path, APPS / "py-no-wheel"), f"{registry.host}/nowheel:1", timeout=600)
    assert result.returncode == EXIT_BUILD, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("s2i: error")] == [
        "s2i: error: build python failed (exit 1): s2i: error: oldext has no wheel for CPython 3.13 and building it from "
        "source failed (its output is above): require a version with a cp313 wheel, add the Debian packages its build "
        "needs with [build] packages, or set build.python-version = \"3.11\" in s2i.toml (stack debian-bookworm) if it has a "
        "cp311 wheel (see the build output above)"]
    assert "installing with pip instead" not in result.stderr  # pip would build the same source and bury uv's cause
    assert registry.manifest_tags("nowheel") == set()
    # the fix it names: the -dev package at build time; the run-time library comes with no setting
    fixed = builder("build", app_copy(tmp_path / "fixed", APPS / "py-no-wheel"), f"{registry.host}/nowheel:2",
                    "--build-package", "libyaml-dev", timeout=600)
    assert "adding libyaml-0-2" in fixed.stderr
    assert run_image(f"docker://{built(fixed)}").stdout == "0.2.5\n"


def test_a_streamlit_app_is_served_by_streamlit_run_on_port(builder, registry, tmp_path):
    reference = built(builder("build", app_copy(tmp_path, APPS / "py-streamlit"), f"{registry.host}/streamlit:1", timeout=600))
    for port in (8080, 9494):
        with start_image(f"docker://{reference}", env={"PORT": str(port)} if port != 8080 else None, wait_for_port=port, timeout=30):
            assert http_get(f"http://127.0.0.1:{port}/") == "run /app/streamlit_app.py headless=true: hello from a Streamlit script\n"


def test_django_settings_that_set_static_root_only_in_production_still_build(builder, registry, tmp_path):
    # render-examples/django: `if not DEBUG: STATIC_ROOT = ...`, DEBUG unless RENDER is set
    result = builder("build", app_copy(tmp_path, APPS / "py-django-debug"), f"{registry.host}/djdebug:1", timeout=600)
    assert "collectstatic: STATIC_ROOT is not set with the build's environment (the settings set it conditionally): " \
           "static files not collected" in result.stderr
    with start_image(f"docker://{built(result)}", wait_for_port=8080, timeout=60):
        assert http_get("http://127.0.0.1:8080/") == "hello from django, debug=True\n"


def test_a_poetry_lock_without_groups_ships_the_main_dependencies_only(builder, registry, tmp_path):
    # full-stack-fastapi-template's backend: lock-version 2.0, so pytest, mypy, ruff and pre-commit were installed too
    reference = built(builder("build", app_copy(tmp_path, APPS / "py-poetry-dev"), f"{registry.host}/poetrydev:1", timeout=600))
    labels = skopeo_inspect(f"docker://{reference}", config=True)["config"]["Labels"]
    assert "click==8.1.7" in labels["io.s2i.python.requirements"] and "iniconfig" not in labels["io.s2i.python.requirements"]
    assert run_image(f"docker://{reference}").stdout == "shipped: click\n"  # colorama is for Windows only
