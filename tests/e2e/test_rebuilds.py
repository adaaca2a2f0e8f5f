"""Rebuilds after a commit: a layer's key holds what its content depends on, never the commit time."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.test_build import EXAMPLES, app_copy, built
from tests.e2e.helpers import skopeo_inspect

pytestmark = pytest.mark.e2e


def commit(app, message: str, when: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    for args in (["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", message]):
        subprocess.run(["git", "-C", str(app), *args], env=env, check=True, timeout=30, capture_output=True)


def test_two_commits_changing_only_app_code_share_the_deps_layer(builder, registry, tmp_path):
    app = app_copy(tmp_path, EXAMPLES / "flask-hello")
    subprocess.run(["git", "init", "-q", str(app)], check=True, timeout=30)
    commit(app, "first", "2024-01-01T00:00:00Z")
    reference = f"{registry.host}/flask-commits:1"
    first = skopeo_inspect(f"docker://{built(builder('build', app, reference))}", raw=True)
    (app / "app.py").write_text((app / "app.py").read_text().replace("Hello, World", "Hello again"))
    commit(app, "second", "2024-06-01T00:00:00Z")
    result = builder("build", app, reference)
    second = skopeo_inspect(f"docker://{built(result)}", raw=True)
    assert "reusing the deps layer" in result.stderr  # pip did not run
    assert first["layers"][:-1] == second["layers"][:-1]  # base, launcher and deps layers: same digests
    assert first["layers"][-1] != second["layers"][-1]
    assert first["annotations"]["org.opencontainers.image.created"] != second["annotations"]["org.opencontainers.image.created"]
