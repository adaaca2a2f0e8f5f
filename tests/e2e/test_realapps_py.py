"""Behaviours public Python apps showed (microblog, uv-fastapi-example, streamlit-example), on small apps of our own."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.e2e.helpers import skopeo_inspect, start_image
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
        started = time.monotonic()
        subprocess.run(["runc", "kill", container.id, "TERM"], check=True, timeout=10)
        container.proc.wait(timeout=5)
        assert time.monotonic() - started < 2

