"""Credential lookup from a temporary Docker config.json and fake credential helpers."""

import base64
import json
import stat

import pytest

from s2i.errors import S2IError
from s2i.transports.registry.credentials import Credentials, lookup


def write_config(tmp_path, config):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def basic(user, password):
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def helper(tmp_path, monkeypatch):
    """Installs `docker-credential-NAME` on PATH running `script`; it logs its stdin to a file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    stdin_log = tmp_path / "helper-stdin"

    def install(script, name="fake"):
        program = bin_dir / f"docker-credential-{name}"
        program.write_text(f'#!/bin/sh\n[ "$1" = get ] || exit 3\ncat > "{stdin_log}"\n{script}\n')
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
        return stdin_log

    return install


def test_auth_entry_base64(tmp_path):
    path = write_config(tmp_path, {"auths": {"registry.example": {"auth": basic("alice", "pa:ss")}}})
    assert lookup("registry.example", path) == Credentials("alice", "pa:ss")


def test_auth_entry_username_password_and_identity_token(tmp_path):
    entry = {"username": "bob", "password": "hunter2", "identitytoken": "refresh-1"}
    path = write_config(tmp_path, {"auths": {"registry.example": entry}})
    assert lookup("registry.example", path) == Credentials("bob", "hunter2", "refresh-1")


def test_unknown_host_and_empty_entry_give_none(tmp_path):
    path = write_config(tmp_path, {"auths": {"registry.example": {}}})
    assert lookup("other.example", path) is None
    assert lookup("registry.example", path) is None


def test_missing_config_gives_none(tmp_path):
    assert lookup("registry.example", tmp_path / "nope.json") is None


def test_invalid_json_names_the_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"auths": {"r": {"auth": "c2VjcmV0"}')
    with pytest.raises(S2IError) as caught:
        lookup("r", path)
    assert str(path) in caught.value.one_line()
    assert "c2VjcmV0" not in caught.value.one_line()


def test_bad_base64_does_not_echo_it(tmp_path):
    path = write_config(tmp_path, {"auths": {"registry.example": {"auth": "!!not-base64"}}})
    with pytest.raises(S2IError) as caught:
        lookup("registry.example", path)
    assert "not-base64" not in caught.value.one_line()


def test_docker_config_env_and_home_default(tmp_path, monkeypatch):
    (tmp_path / "custom").mkdir()
    write_config(tmp_path / "custom", {"auths": {"r.example": {"auth": basic("env", "x")}}})
    (tmp_path / "home" / ".docker").mkdir(parents=True)
    write_config(tmp_path / "home" / ".docker", {"auths": {"r.example": {"auth": basic("home", "x")}}})
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    assert lookup("r.example").username == "home"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "custom"))
    assert lookup("r.example").username == "env"


@pytest.mark.parametrize("host", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_aliases_use_the_v1_key(tmp_path, host):
    path = write_config(tmp_path, {"auths": {"https://index.docker.io/v1/": {"auth": basic("hub", "pw")}}})
    assert lookup(host, path) == Credentials("hub", "pw")


@pytest.mark.parametrize(("key", "host"), [
    ("https://127.0.0.1:5000", "127.0.0.1:5000"),
    ("http://registry.example/v1/", "registry.example"),
    ("Registry.Example", "registry.example"),
])
def test_keys_with_scheme_or_path_match_the_host(tmp_path, key, host):
    path = write_config(tmp_path, {"auths": {key: {"auth": basic("u", "p")}}})
    assert lookup(host, path) == Credentials("u", "p")


def test_port_must_match(tmp_path):
    path = write_config(tmp_path, {"auths": {"registry.example:5000": {"auth": basic("u", "p")}}})
    assert lookup("registry.example", path) is None


def test_cred_helper_wins_over_auths(tmp_path, helper):
    stdin_log = helper('echo \'{"ServerURL":"registry.example","Username":"helper-user","Secret":"s3"}\'')
    path = write_config(tmp_path, {
        "credHelpers": {"registry.example": "fake"},
        "auths": {"registry.example": {"auth": basic("file-user", "pw")}},
    })
    assert lookup("registry.example", path) == Credentials("helper-user", "s3")
    assert stdin_log.read_text() == "registry.example"


def test_creds_store_gets_the_hub_url(tmp_path, helper):
    stdin_log = helper('echo \'{"Username":"hub-user","Secret":"s3"}\'')
    path = write_config(tmp_path, {"credsStore": "fake", "auths": {"https://index.docker.io/v1/": {}}})
    assert lookup("docker.io", path) == Credentials("hub-user", "s3")
    assert stdin_log.read_text() == "https://index.docker.io/v1/"


def test_creds_store_is_asked_with_the_key_docker_login_used(tmp_path, helper):
    stdin_log = helper('echo \'{"Username":"u","Secret":"s3"}\'')
    path = write_config(tmp_path, {"credsStore": "fake", "auths": {"https://registry.example": {}}})
    assert lookup("registry.example", path) == Credentials("u", "s3")
    assert stdin_log.read_text() == "https://registry.example"


def test_helper_token_username_means_identity_token(tmp_path, helper):
    helper('echo \'{"Username":"<token>","Secret":"refresh-9"}\'')
    path = write_config(tmp_path, {"credsStore": "fake"})
    assert lookup("registry.example", path) == Credentials("", identity_token="refresh-9")


def test_helper_credentials_not_found_gives_none(tmp_path, helper):
    helper("echo 'credentials not found in native keychain'\nexit 1")
    path = write_config(tmp_path, {"credHelpers": {"registry.example": "fake"}})
    assert lookup("registry.example", path) is None


@pytest.mark.parametrize(("script", "shown", "hidden"), [
    ("echo 'keychain locked' >&2\nexit 1", "keychain locked", "no-secret-here"),
    ("echo 'the-raw-secret'", "unreadable answer", "the-raw-secret"),
])
def test_helper_failure_names_the_helper_but_not_its_output(tmp_path, helper, script, shown, hidden):
    helper(script)
    path = write_config(tmp_path, {"credsStore": "fake"})
    with pytest.raises(S2IError) as caught:
        lookup("registry.example", path)
    assert "docker-credential-fake" in caught.value.one_line()
    assert shown in caught.value.one_line()
    assert hidden not in caught.value.one_line()


def test_missing_helper_says_how_to_fix(tmp_path, helper):
    path = write_config(tmp_path, {"credHelpers": {"registry.example": "absent"}})
    with pytest.raises(S2IError) as caught:
        lookup("registry.example", path)
    assert caught.value.hint == "install docker-credential-absent or remove it from config.json"


def test_repr_hides_secrets():
    credentials = Credentials("alice", "hunter2", "refresh-1")
    for text in (repr(credentials), str(credentials)):
        assert "alice" in text
        assert "hunter2" not in text and "refresh-1" not in text
