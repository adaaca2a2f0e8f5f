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
    # the deps layer's stored bytes made unreadable as gzip (same size: the store still lists it): a rebuild that unpacks
    # or scans it again fails; one that takes the native closure's kept scan never opens it
    blob = builder.cache / "s2i" / "blobs" / "sha256" / first["layers"][-2]["digest"].partition(":")[2]
    kept = blob.read_bytes()
    blob.write_bytes(bytes(len(kept)))
    (app / "app.py").write_text((app / "app.py").read_text().replace('"Hello, World"', '"Hello, edited World"'))
    before = len(registry.requests())
    try:
        result = builder("build", app, target)
    finally:
        blob.write_bytes(kept)  # the session's store is shared: other tests' builds make this same blob
    second = skopeo_inspect(f"docker://{built(result)}", raw=True)
    assert "pip does not run" in result.stderr and "with uv" not in result.stderr and "scanning the reused" not in result.stderr
    assert first["layers"][:-1] == second["layers"][:-1] and first["layers"][-1] != second["layers"][-1]
    requests = registry.requests()[before:]
    data, _ = registry_uploads(requests)
    digest = skopeo_inspect(f"docker://{target}")["Digest"]
    sbom = referrer_blobs(registry.host, "edit/flask", digest)  # the new image's SBOM, pushed beside it
    assert sbom and {u.digest for u in data} - sbom == {second["layers"][-1]["digest"], second["config"]["digest"]}
    referrers = skopeo_inspect(f"docker://{registry.host}/edit/flask:{digest.replace(':', '-')}", raw=True)["manifests"]
    manifests = {r.path.rsplit("/", 1)[1] for r in requests if r.method == "PUT" and "/manifests/" in r.path}
    assert manifests == {"1", digest.replace(":", "-"), *(entry["digest"] for entry in referrers)}  # the image, its SBOM, the index of referrers
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


SIX_WHEEL_SHA256 = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"  # six-1.16.0-py2.py3-none-any.whl
VENV_FACTS = ("import glob, os, pip\n"
              "print(open('/opt/venv/bin/flask').readline().strip())\n"
              "print(os.path.exists('/opt/venv/.lock'), pip.__version__ != '')\n"
              "print(open(glob.glob('/opt/venv/lib/python3*/site-packages/flask-*.dist-info/INSTALLER')[0]).read().strip())\n")


def test_flask_installs_with_the_stacks_pinned_uv_into_the_venv_python_m_venv_made(builder, registry, tmp_path):
    app = app_copy(tmp_path, FLASK)
    (app / "requirements.txt").write_text("flask  # a deps key of its own: the session's other flask builds reuse theirs\n")
    reference = f"{registry.host}/uv/flask:1"
    result = builder("build", app, reference)
    built(result)
    assert "installing dependencies from requirements.txt with uv" in result.stderr
    assert "$ /s2i/tools/uv/uv pip install --python /opt/venv/bin/python -r requirements.txt\n" in result.stderr
    # the seed: ensurepip's own wheel, installed by uv (seconds faster than ensurepip)
    assert "$ /s2i/tools/uv/uv pip install --python /opt/venv/bin/python --no-index --no-deps --find-links /usr/share/python-wheels pip==" in result.stderr
    assert "venv seeded as python -m venv does: pip==" in result.stderr and "uv failed" not in result.stderr
    uv_cache = next((builder.cache / "s2i" / "builds").glob("*/python/uv"))  # UV_CACHE_DIR: kept with the app, and in --cache
    assert any(uv_cache.glob("wheels-v*")), sorted(p.name for p in uv_cache.iterdir())
    facts = run_image(f"docker://{reference}", args=["/opt/venv/bin/python", "-c", VENV_FACTS])
    assert facts.stdout == "#!/opt/venv/bin/python\nFalse True\nuv\n", facts.stderr  # console script, no uv lock file, pip seeded
    version = run_image(f"docker://{reference}", args=["/opt/venv/bin/flask", "--version"])
    assert version.returncode == 0 and "Flask 3." in version.stdout, version.stderr


def test_a_requirement_line_uv_cannot_read_falls_back_to_pip(builder, registry, tmp_path):
    app = app_copy(tmp_path, FLASK)
    (app / "requirements.txt").write_text("flask\nsix==1.16.0 --config-settings=editable_mode=compat\n")  # pip's per-requirement option
    reference = f"{registry.host}/uv/fallback:1"
    result = builder("build", app, reference)
    built(result)
    assert "uv failed (exit 2): installing with pip instead" in result.stderr and "Successfully installed" in result.stderr
    labels = skopeo_inspect(f"docker://{reference}", config=True)["config"]["Labels"]
    assert "six==1.16.0" in labels["io.s2i.python.requirements"].split()
    installer = run_image(f"docker://{reference}", args=["/opt/venv/bin/python", "-c", VENV_FACTS])
    assert installer.stdout.splitlines()[1:] == ["False True", "pip"], installer.stderr  # uv's half-work cleared


@pytest.mark.parametrize("requirements, passes", [
    (f"six==1.16.0 --hash=sha256:{SIX_WHEEL_SHA256}\n", True),
    (f"six==1.16.0 --hash=sha256:{SIX_WHEEL_SHA256}\nflask\n", False),  # pip: every requirement needs a hash then
    ("six==1.16.0 --hash=sha256:" + "0" * 64 + "\n", False),
])
def test_hash_checking_mode_holds_with_uv_as_with_pip(builder, registry, tmp_path, requirements, passes):
    app = tmp_path / "hashed"
    app.mkdir()
    (app / "requirements.txt").write_text(requirements)
    (app / "app.py").write_text('import six\n\nif __name__ == "__main__":\n    print("six", six.__version__)\n')
    result = builder("build", app, f"{registry.host}/uv/hashed:1")
    assert "-r requirements.txt --require-hashes\n" in result.stderr
    if passes:
        assert run_image(f"docker://{built(result)}").stdout == "six 1.16.0\n"
    else:
        assert result.returncode == EXIT_BUILD, result.stderr
        assert "uv failed" in result.stderr and "hash" in result.stderr.strip().splitlines()[-1].lower()
        assert registry.manifest_tags("uv/hashed") == set()


def test_pips_private_index_reaches_uv_and_its_credentials_no_log(builder, registry, tmp_path):
    app = app_copy(tmp_path, FLASK)
    result = builder("build", app, f"{registry.host}/uv/index:1",
                     env={"PIP_INDEX_URL": "https://ci-user:pw-secret-zz@no-such-index.invalid/simple"})
    assert result.returncode == EXIT_BUILD, result.stderr
    uv_part = result.stderr.split("uv failed", 1)[0].split("with uv\n", 1)[1]
    assert "no-such-index.invalid" in uv_part  # uv asked the index pip was given
    assert "pw-secret-zz" not in result.stderr
