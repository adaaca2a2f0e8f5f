"""A build sees the secrets it is given (read-only, at /run/secrets) and never the registry's credentials."""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from s2i.errors import EXIT_BUILD
from tests.adversarial.scan import assert_nowhere, blob_texts, secret_forms
from tests.e2e.helpers import run_image

pytestmark = pytest.mark.e2e
MAIN_C = '#include <stdio.h>\nint main(void) { puts("built with a secret"); return 0; }\n'


def c_app(root, recipe: list[str]):
    """A C app whose Makefile runs `recipe` before compiling."""
    root.mkdir()
    (root / "main.c").write_text(MAIN_C)
    lines = ["app: main.c", *recipe, "cc -O2 -o app main.c"]
    (root / "Makefile").write_text(lines[0] + "\n" + "".join(f"\t{line}\n" for line in lines[1:]))
    return root


def test_a_build_secret_is_read_in_the_build_and_lands_nowhere_else(tmp_path, builder, registry):
    token = f"tok-{secrets.token_hex(16)}"
    app = c_app(tmp_path / "app", [
        '@test -r /run/secrets/token || { echo "error: no secret at /run/secrets/token"; exit 1; }',
        "@grep -q '^tok-' /run/secrets/token || { echo 'error: not the secret'; exit 1; }",
        '@if [ -w /run/secrets/token ]; then echo "error: the secret is writable"; exit 1; fi',
        '@if [ -e token.txt ]; then echo "error: the secret file was copied with the source"; exit 1; fi',
    ])
    (app / "token.txt").write_text(token + "\n")  # kept in the app dir, as people do
    target = f"{registry.host}/t/secret:1"

    missing = builder("build", app, target)
    assert missing.returncode == EXIT_BUILD and "[build c] error: no secret at /run/secrets/token" in missing.stderr
    assert missing.stderr.strip().splitlines()[-1].startswith("s2i: error: build c failed")

    log = tmp_path / "build.log"
    result = builder("build", app, target, "--secret", f"id=token,src={app / 'token.txt'}", "--log", log, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reference"].startswith(f"{registry.host}/t/secret@sha256:")
    assert run_image(f"docker://{target}").stdout == "built with a secret\n"
    assert len(blob_texts(registry)) >= 3
    assert_nowhere([token], result.stdout, result.stderr, log.read_text(), *blob_texts(registry))


def test_a_build_cannot_see_registry_credentials(tmp_path, builder, tls_registry):
    user, password = tls_registry.username, tls_registry.password
    auth = {"auths": {tls_registry.host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir()
    (docker_config / "config.json").write_text(json.dumps(auth))
    (builder.home / ".docker").mkdir()
    (builder.home / ".docker" / "config.json").write_text(json.dumps(auth))
    readable = [docker_config / "config.json", builder.home / ".docker" / "config.json", "/root/.docker/config.json"]
    app = c_app(tmp_path / "app", [
        "@echo ENV-BEGIN; env; echo ENV-END",
        f'@for f in {" ".join(map(str, readable))}; do if cat "$$f" >/dev/null 2>&1; then echo "LEAK: $$f"; fi; done',
        '@if [ -n "$$DOCKER_CONFIG$$REGISTRY_PASSWORD" ]; then echo "LEAK: environment"; fi',
    ])
    log = tmp_path / "build.log"
    result = builder("build", app, f"{tls_registry.host}/t/creds:1", "--ca-file", tls_registry.ca_file, "--log", log, "--json",
                     env={"DOCKER_CONFIG": str(docker_config), "REGISTRY_PASSWORD": password})
    assert result.returncode == 0, result.stderr
    assert "ENV-BEGIN" in result.stderr and "ENV-END" in result.stderr  # the probes ran
    assert "LEAK" not in result.stderr and "DOCKER_CONFIG" not in log.read_text()
    texts = blob_texts(tls_registry)
    assert len(texts) >= 3
    assert_nowhere(secret_forms(user, password), result.stdout, result.stderr, log.read_text(), *texts)
