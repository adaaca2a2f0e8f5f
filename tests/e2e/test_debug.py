"""`s2i run --debug`: a busybox shell over a shell-less image's files and env; the image is not changed."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import skopeo_inspect
from tests.e2e.test_build import built

pytestmark = pytest.mark.e2e
GO_HTTPD = REPO_ROOT / "examples" / "go-httpd"


def test_debug_shell_lists_the_app_of_a_shell_less_image(builder, registry):
    reference = f"{registry.host}/debug/go-httpd:1"
    built(builder("build", GO_HTTPD, reference, "--run-image", "scratch"))
    digest = skopeo_inspect(f"docker://{reference}")["Digest"]
    files = json.loads(builder("inspect", reference, "--files", "--json").stdout)["files"]
    in_app = sorted(f["path"].removeprefix("/app/") for f in files if f["path"].startswith("/app/") and f["kind"] == "file")
    assert in_app, files

    listed = builder("run", "--debug", reference, "--", "ls", "/app")
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.split()) == in_app
    assert "debug shell: busybox" in listed.stderr

    session = builder("run", "--debug", reference, input='echo "port=$PORT"; ls /bin 2>&1; pwd; exit 3\n')
    assert session.returncode == 3
    lines = session.stdout.splitlines()
    assert lines[0] == "port=8080"  # the image's env
    assert "No such file or directory" in lines[1]  # the image has no /bin: the shell is not part of it
    assert lines[2] == "/app"  # the image's working directory
    assert skopeo_inspect(f"docker://{reference}")["Digest"] == digest
