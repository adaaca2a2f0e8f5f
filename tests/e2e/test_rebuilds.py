"""Rebuilds after a commit: a layer's key holds what its content depends on, never the commit time."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.test_build import EXAMPLES, app_copy, built
from tests.e2e.helpers import referrer_blobs, registry_uploads, skopeo_inspect

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


def test_a_one_line_edit_neither_reads_the_reused_deps_layer_nor_pushes_more_than_the_app_layer(builder, registry, tmp_path):
    app = app_copy(tmp_path, EXAMPLES / "flask-hello")
    target = f"{registry.host}/edit/flask:1"
    first = skopeo_inspect(f"docker://{built(builder('build', app, target))}", raw=True)
    # the deps layer's stored bytes made unreadable as gzip (same size: the store still lists it): a build that
    # unpacks or scans it again fails, one that takes the kept closure scan never opens it
    deps = first["layers"][-2]["digest"].partition(":")[2]
    blob = builder.cache / "s2i" / "blobs" / "sha256" / deps
    blob.write_bytes(bytes(blob.stat().st_size))
    (app / "app.py").write_text((app / "app.py").read_text().replace("Hello, World", "Hello again"))
    before = len(registry.requests())
    result = builder("build", app, target)
    second = skopeo_inspect(f"docker://{built(result)}", raw=True)
    assert "reusing the deps layer" in result.stderr and "scanning the reused" not in result.stderr
    assert first["layers"][:-1] == second["layers"][:-1] and first["layers"][-1] != second["layers"][-1]
    requests = registry.requests()[before:]
    data, _ = registry_uploads(requests)
    digest = skopeo_inspect(f"docker://{target}")["Digest"]
    sbom = referrer_blobs(registry.host, "edit/flask", digest)  # the new image's SBOM, pushed beside it
    assert sbom and {u.digest for u in data} - sbom == {second["layers"][-1]["digest"], second["config"]["digest"]}
    referrers = skopeo_inspect(f"docker://{registry.host}/edit/flask:{digest.replace(':', '-')}", raw=True)["manifests"]
    manifests = {r.path.rsplit("/", 1)[1] for r in requests if r.method == "PUT" and "/manifests/" in r.path}
    assert manifests == {"1", digest.replace(":", "-"), *(entry["digest"] for entry in referrers)}  # the image, its SBOM, the index of referrers
