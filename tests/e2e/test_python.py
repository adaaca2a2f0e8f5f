"""Acceptance for the python buildpack: flask-hello small, fast to rebuild, reproducible; bad input."""

from __future__ import annotations

import os
import shutil

import pytest

from s2i.errors import EXIT_BUILD, EXIT_USAGE
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import referrer_blobs, registry_uploads, run_image, skopeo_inspect, start_image
from tests.e2e.test_build import app_copy, built, digest_of, http_get, uncompressed_size

pytestmark = pytest.mark.e2e
FLASK = REPO_ROOT / "examples" / "flask-hello"
PY_CLI = REPO_ROOT / "tests" / "apps" / "py-cli"


def test_flask_hello_serves_and_is_small(builder, registry, tmp_path):
    reference = f"{registry.host}/flask:1"
    result = builder("build", FLASK, reference)
    built(result)
    assert "detected python: found requirements.txt" in result.stderr
    with start_image(f"docker://{reference}", wait_for_port=9080, timeout=30):
        assert http_get("http://127.0.0.1:9080/") == "Hello, World"
    size = uncompressed_size(registry, reference, tmp_path)
    print(f"\nflask-hello: {size / 1e6:.1f} MB uncompressed")
    assert size <= 60_000_000
    config = skopeo_inspect(f"docker://{reference}", config=True)["config"]
    assert "Flask==" in config["Labels"]["io.s2i.python.requirements"] and config["User"] == "65532"
    frozen = run_image(f"docker://{reference}", args=["/usr/bin/python3", "-c", "print(open('/opt/venv/s2i-requirements.txt').read())"])
    assert "Flask==" in frozen.stdout


def test_app_edit_reuses_deps_and_requirements_edit_rebuilds_them(builder, registry, tmp_path):
    app = app_copy(tmp_path, FLASK)
    target = f"{registry.host}/edit/flask:1"
    first = skopeo_inspect(f"docker://{built(builder('build', app, target))}", raw=True)
    (app / "app.py").write_text((app / "app.py").read_text().replace('"Hello, World"', '"Hello, edited World"'))
    before = len(registry.requests())
    result = builder("build", app, target)
    second = skopeo_inspect(f"docker://{built(result)}", raw=True)
    assert "pip does not run" in result.stderr and "Collecting" not in result.stderr
    assert first["layers"][:-1] == second["layers"][:-1] and first["layers"][-1] != second["layers"][-1]
    data, _ = registry_uploads(registry.requests()[before:])
    digest = skopeo_inspect(f"docker://{target}")["Digest"]
    sbom = referrer_blobs(registry.host, "edit/flask", digest)  # the new image's SBOM, pushed beside it
    assert sbom and {u.digest for u in data} - sbom == {second["layers"][-1]["digest"], second["config"]["digest"]}
    with start_image(f"docker://{target}", wait_for_port=9080, timeout=30):
        assert http_get("http://127.0.0.1:9080/") == "Hello, edited World"
    (app / "requirements.txt").write_text("flask\nsix\n")
    result = builder("build", app, target)
    third = skopeo_inspect(f"docker://{built(result)}", raw=True)
    assert "six" in result.stderr and "pip does not run" not in result.stderr
    assert third["layers"][-2] != second["layers"][-2]  # the deps layer


def test_built_twice_with_empty_caches_gives_one_digest(builder, registry, tmp_path):
    digests = []
    for n in range(2):
        app = app_copy(tmp_path / str(n), FLASK)
        for path in app.rglob("*"):
            os.utime(path, (1_000_000 * (n + 1),) * 2)
        builder.forget_app_caches()
        digests.append(digest_of(built(builder("build", app, f"{registry.host}/repro/flask:{n}"))))
    assert digests[0] == digests[1]


def test_pyproject_app_with_console_script_and_c_extension(builder, registry):
    reference = f"{registry.host}/py-cli:1"
    result = builder("build", PY_CLI, reference)
    built(result)
    assert "entry point from [project.scripts] hello-cli" in result.stderr
    assert run_image(f"docker://{reference}").stdout == "&lt;s2i&gt; via C speedups\n"


@pytest.mark.parametrize("case, code, message", [
    ("missing-package", EXIT_BUILD, "No matching distribution found for s2i-no-such-package-zz"),
    ("syntax-error", EXIT_BUILD, "app.py, line 2: SyntaxError"),
    ("scratch", EXIT_USAGE, "cannot run on 'scratch': it has no Python interpreter"),
])
def test_bad_input_fails_cleanly_and_the_next_build_passes(builder, registry, tmp_path, case, code, message):
    app = app_copy(tmp_path, FLASK)
    args = []
    if case == "missing-package":
        (app / "requirements.txt").write_text("flask\ns2i-no-such-package-zz==1.0\n")
    elif case == "syntax-error":
        (app / "app.py").write_text("from flask import Flask\ndef broken(:\n    pass\n")
    else:
        args = ["--run-image", "scratch"]
    result = builder("build", app, f"{registry.host}/bad/{case}:1", *args)
    assert result.returncode == code, result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("s2i: error:") and message in summary, summary
    assert registry.manifest_tags(f"bad/{case}") == set()
    shutil.rmtree(app)
    built(builder("build", app_copy(tmp_path, FLASK), f"{registry.host}/after/{case}:1"))


def test_uv_lock_wins_and_is_installed_with_uv(builder, registry):
    reference = f"{registry.host}/py-uv:1"
    result = builder("build", REPO_ROOT / "tests" / "apps" / "py-uv", reference)
    built(result)
    assert "installing dependencies from uv.lock" in result.stderr
    assert run_image(f"docker://{reference}").stdout == "six 1.16.0 from the uv.lock\n"
    labels = skopeo_inspect(f"docker://{reference}", config=True)["config"]["Labels"]
    assert labels["io.s2i.python.requirements"] == "six==1.16.0"
