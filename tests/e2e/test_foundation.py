"""Acceptance for the foundation: append, copy and inspect against a real registry, run with runc."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from s2i.errors import EXIT_AUTH, EXIT_REGISTRY
from tests.e2e.helpers import registry_uploads, run_image, skopeo_inspect

pytestmark = pytest.mark.e2e
ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def digest_of(stdout: str) -> str:
    return stdout.strip().rsplit("@", 1)[1]


def test_append_static_hello_on_scratch_runs(s2i, registry, static_hello):
    target = f"{registry.host}/t/hello:1"
    result = s2i("append", "scratch", target, "--layer", static_hello, "--entrypoint", "/hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{registry.host}/t/hello@sha256:")
    info = skopeo_inspect(f"docker://{target}")
    assert info["Digest"] == digest_of(result.stdout) and len(info["Layers"]) == 1
    assert run_image(f"docker://{target}").stdout == "hello from s2i\n"


@pytest.mark.parametrize("compression, media_type", [("gzip", GZIP), ("zstd", ZSTD)])
def test_same_inputs_give_the_same_digest_and_run(tmp_path, s2i, registry, static_hello, compression, media_type):
    copies = []
    for n, mtime in enumerate([1_000_000_000, 1_700_000_000]):
        copy = shutil.copytree(static_hello, tmp_path / f"copy{n}")
        for path in [copy / "hello", copy]:
            os.utime(path, (mtime, mtime))
        copies.append(copy)
    digests = []
    for n, layer in enumerate(copies):
        shutil.rmtree(s2i.cache)  # empty caches each time
        target = f"{registry.host}/t/repro{n}:1"
        result = s2i("append", "scratch", target, "--layer", layer, "--entrypoint", "/hello", "--compression", compression)
        assert result.returncode == 0, result.stderr
        digests.append(digest_of(result.stdout))
    assert digests[0] == digests[1]
    manifest = skopeo_inspect(f"docker://{registry.host}/t/repro0:1", raw=True)
    assert [layer["mediaType"] for layer in manifest["layers"]] == [media_type]
    assert run_image(f"docker://{registry.host}/t/repro1:1").stdout == "hello from s2i\n"


def test_base_layers_are_mounted_not_uploaded(tmp_path, s2i, registry, static_hello):
    base = f"{registry.host}/t/base:1"
    assert s2i("append", "scratch", base, "--layer", static_hello, "--entrypoint", "/hello").returncode == 0
    base_manifest = skopeo_inspect(f"docker://{base}", raw=True)
    extra = tmp_path / "extra"
    (extra / "etc").mkdir(parents=True)
    (extra / "etc" / "motd").write_text("appended\n")
    before = len(registry.requests())
    result = s2i("append", base, f"{registry.host}/t/app:1", "--layer", extra, "--env", "GREETING=hi")
    assert result.returncode == 0, result.stderr
    data, mounts = registry_uploads(registry.requests()[before:])
    base_layer = base_manifest["layers"][0]["digest"]
    assert (base_layer, "t/base") in {(m.digest, m.mounted_from) for m in mounts}
    assert base_layer not in {u.digest for u in data}
    manifest = skopeo_inspect(f"docker://{registry.host}/t/app:1", raw=True)
    assert manifest["annotations"]["org.opencontainers.image.base.name"] == base
    assert manifest["annotations"]["org.opencontainers.image.base.digest"] == skopeo_inspect(f"docker://{base}")["Digest"]
    assert run_image(f"docker://{registry.host}/t/app:1").stdout == "hello from s2i\n"


def test_interrupted_push_resumes_with_only_missing_blobs(tmp_path, s2i, registry, static_hello):
    layers = []
    for n in range(4):
        layer = tmp_path / f"big{n}"
        layer.mkdir()
        (layer / f"data{n}").write_bytes(os.urandom(24 << 20))
        layers += ["--layer", layer]
    target = f"{registry.host}/t/big:1"
    args = ["append", "scratch", target, "--layer", static_hello, *layers, "--entrypoint", "/hello", "--jobs", "1", "--compression", "zstd"]
    # compress everything first, into a layout, so the push itself is what gets interrupted
    assert s2i(*args[:2], f"oci:{tmp_path / 'warm'}", *args[3:]).returncode == 0
    push = subprocess.Popen([sys.executable, "-P", "-m", "s2i", *map(str, args)], env=_s2i_env(s2i), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while len(registry.linked_blobs("t/big")) < 1 and time.time() < deadline and push.poll() is None:
        time.sleep(0.01)
    registry.stop(kill=True)
    present = registry.linked_blobs("t/big")
    out, err = push.communicate(timeout=120)
    assert push.returncode == EXIT_REGISTRY, err
    assert len(err.strip().splitlines()[-1]) < 300 and "s2i: error:" in err
    assert registry.manifest_tags("t/big") == set()
    registry.start()
    before = len(registry.requests())
    result = s2i(*args)
    assert result.returncode == 0, result.stderr
    data, _ = registry_uploads(registry.requests()[before:])
    manifest = skopeo_inspect(f"docker://{target}", raw=True)
    blobs = {layer["digest"] for layer in manifest["layers"]} | {manifest["config"]["digest"]}
    assert {u.digest for u in data} == blobs - present
    assert 0 < len(present & blobs) < len(blobs)
    assert run_image(f"docker://{target}").stdout == "hello from s2i\n"


def _s2i_env(s2i) -> dict:
    from tests.e2e.conftest import REPO_ROOT

    return dict(os.environ, HOME=str(s2i.home), XDG_CACHE_HOME=str(s2i.cache), PYTHONPATH=str(REPO_ROOT))


def _docker_config(s2i, host: str, user: str, password: str) -> None:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (s2i.home / ".docker").mkdir(exist_ok=True)
    (s2i.home / ".docker" / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def test_tls_registry_with_basic_auth(s2i, tls_registry, static_hello):
    target = f"{tls_registry.host}/t/secure:1"
    args = ["append", "scratch", target, "--layer", static_hello, "--entrypoint", "/hello", "--ca-file", tls_registry.ca_file]
    _docker_config(s2i, tls_registry.host, tls_registry.username, "wrong-pass-xyz")
    denied = s2i(*args)
    assert denied.returncode == EXIT_AUTH
    errors = [line for line in denied.stderr.splitlines() if line.startswith("s2i: error:")]
    assert len(errors) == 1 and "rejected the credentials of user 'e2e'" in errors[0]
    for secret in ["wrong-pass-xyz", base64.b64encode(f"{tls_registry.username}:wrong-pass-xyz".encode()).decode()]:
        assert secret not in denied.stderr + denied.stdout
    assert tls_registry.manifest_tags("t/secure") == set()

    _docker_config(s2i, tls_registry.host, tls_registry.username, tls_registry.password)
    result = s2i(*args)
    assert result.returncode == 0, result.stderr
    assert tls_registry.password not in result.stderr + result.stdout
    creds = f"{tls_registry.username}:{tls_registry.password}"
    assert run_image(f"docker://{target}", tls_verify=True, creds=creds, cert_dir=tls_registry.cert_dir).stdout == "hello from s2i\n"

    (s2i.home / ".docker" / "config.json").unlink()
    piped = s2i(*args[:2], f"{tls_registry.host}/t/piped:1", *args[3:], "--username", tls_registry.username, "--password-stdin",
                input=tls_registry.password + "\n")
    assert piped.returncode == 0, piped.stderr
    anonymous = s2i("inspect", target, "--ca-file", tls_registry.ca_file)
    assert anonymous.returncode == EXIT_AUTH and "authentication required" in anonymous.stderr


def test_copy_between_repos_uploads_nothing_and_writes_layouts(tmp_path, s2i, registry, static_hello):
    source = f"{registry.host}/t/hello:1"
    pushed = s2i("append", "scratch", source, "--layer", static_hello, "--entrypoint", "/hello")
    before = len(registry.requests())
    copied = s2i("copy", source, f"{registry.host}/other/hello:2", "--json")
    assert copied.returncode == 0, copied.stderr
    assert json.loads(copied.stdout)["digest"] == digest_of(pushed.stdout)
    data, mounts = registry_uploads(registry.requests()[before:])
    assert data == [] and len(mounts) == 2  # layer and config
    layout = tmp_path / "layout"
    assert s2i("copy", source, f"oci:{layout}:v1").returncode == 0
    assert skopeo_inspect(f"oci:{layout}:v1")["Digest"] == digest_of(pushed.stdout)
    archive = tmp_path / "hello.tar"
    assert s2i("copy", f"oci:{layout}:v1", f"docker-archive:{archive}:t/hello:1").returncode == 0
    assert skopeo_inspect(f"docker-archive:{archive}")["Layers"]
    assert run_image(f"docker-archive:{archive}").stdout == "hello from s2i\n"
    back = s2i("copy", f"oci:{layout}:v1", f"{registry.host}/t/from-layout:1")
    assert back.returncode == 0 and digest_of(back.stdout) == digest_of(pushed.stdout)


def test_inspect_reports_digest_config_and_layers(s2i, registry, static_hello):
    target = f"{registry.host}/t/hello:1"
    pushed = s2i("append", "scratch", target, "--layer", static_hello, "--entrypoint", "/hello", "--port", "8080", "--label", "a=b")
    summary = json.loads(s2i("inspect", target, "--json").stdout)
    assert summary["digest"] == digest_of(pushed.stdout)
    assert summary["config"]["Entrypoint"] == ["/hello"] and summary["config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert summary["layers"][0]["size"] > 1000
    text = s2i("inspect", target).stdout
    assert digest_of(pushed.stdout) in text and "Entrypoint" in text


@pytest.mark.parametrize("args, message", [
    (["append", "scratch", "Bad/Ref:1", "--layer", "."], "invalid repository name"),
    (["append", "scratch", "127.0.0.1:1/t/x:1", "--layer", "/nonexistent"], "not a directory"),
    (["append", "scratch", "127.0.0.1:1/t/x:1", "--layer", ".", "--env", "NOEQUALS"], "KEY=VALUE"),
    (["copy", "127.0.0.1:1/t/x:1", "scratch"], "cannot write to scratch"),
])
def test_bad_input_fails_before_any_work(s2i, args, message):
    result = s2i(*args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (s2i.cache / "s2i" / "blobs").exists()


def test_unreachable_registry_is_one_line(s2i, static_hello):
    result = s2i("append", "scratch", "127.0.0.1:1/t/x:1", "--layer", static_hello, env={"S2I_RETRIES": "2"})
    assert result.returncode == EXIT_REGISTRY
    assert "cannot reach 127.0.0.1:1" in result.stderr.strip().splitlines()[-1]
