"""Registry credentials from config.json, a credential helper or flags never reach output, errors or the image."""

from __future__ import annotations

import base64
import json
import os

import pytest

from s2i.errors import EXIT_REGISTRY
from tests.adversarial.faultproxy import Fault, FaultProxy
from tests.adversarial.scan import assert_nowhere, blob_texts, secret_forms

pytestmark = pytest.mark.e2e


def write_config(s2i, config: dict) -> None:
    (s2i.home / ".docker").mkdir(exist_ok=True)
    (s2i.home / ".docker" / "config.json").write_text(json.dumps(config))


def helper_env(tmp_path, user: str, password: str) -> dict:
    """A docker-credential-e2e on PATH that answers with the given credentials."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-e2e"
    reply = json.dumps({"Username": user, "Secret": password})
    helper.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{reply}'\n")
    helper.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


@pytest.mark.parametrize("source", ["config.json", "helper", "flags"])
def test_credentials_never_reach_output_or_the_pushed_image(tmp_path, s2i, tls_registry, static_hello, source):
    user, password = tls_registry.username, tls_registry.password
    host = tls_registry.host
    env, stdin, flags = {}, None, []
    if source == "config.json":
        write_config(s2i, {"auths": {host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}})
    elif source == "helper":
        write_config(s2i, {"credHelpers": {host: "e2e"}})
        env = helper_env(tmp_path, user, password)
    else:
        stdin, flags = password + "\n", ["--username", user, "--password-stdin"]
    target = f"{host}/t/secret-{source.replace('.', '-')}:1"
    result = s2i("append", "scratch", target, "--layer", static_hello, "--entrypoint", "/hello", "--env", "A=b",
                 "--ca-file", tls_registry.ca_file, "--json", *flags, input=stdin, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reference"].startswith(f"{host}/t/secret-")
    texts = blob_texts(tls_registry)
    assert len(texts) == 3  # the layer, the manifest and the config (env, history, labels)
    assert_nowhere(secret_forms(user, password), result.stdout, result.stderr, *texts)


def test_a_registry_echoing_the_credentials_does_not_get_them_printed(s2i, registry):
    """A hostile registry (a proxy here) puts the Authorization header it was sent into its error text."""
    user, password = "e2e", "echo-me-s3cret"
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    echo = json.dumps({"errors": [{"code": "DENIED", "message": f"bad Authorization: Basic {auth} ({password})"}]})
    with FaultProxy(registry.port) as proxy:
        proxy.add(Fault("answer", "GET", "/manifests/", status=401, headers={"WWW-Authenticate": 'Basic realm="x"'}),
                  Fault("answer", "GET", "/manifests/", nth=2, times=100, status=400, body=echo.encode()))
        result = s2i("inspect", f"{proxy.host}/t/x:1", "--json", "--username", user, "--password-stdin",
                     input=password + "\n", env={"S2I_RETRIES": "1"})
    assert result.returncode == EXIT_REGISTRY
    assert "HTTP 400 DENIED: bad Authorization: Basic *** (***)" in result.stderr
    assert_nowhere(secret_forms(user, password), result.stdout, result.stderr)
