"""CLI for pipelines: tags, S2I_REPO names, proxies and their redaction, auth files, --json schema, exit codes, -q/-v."""

import base64
import json
import re
import sys
from pathlib import Path

import httpx
import pytest

from s2i.build.config import AppConfig
from s2i.build.plan import sandbox_env
from s2i.build.proxy import describe, proxy_env, redact, unreachable
from s2i.buildpacks import get_buildpack
from s2i.cli import main
from s2i.cli.publish import JSON_SCHEMA, repo_destination, repository_name, with_schema
from s2i.errors import (EXIT_AUTH, EXIT_BUILD, EXIT_CODES, EXIT_DETECTION, EXIT_INTERNAL, EXIT_REGISTRY, EXIT_USAGE, AuthError, BuildError,
                        DetectionError, RegistryError, S2IError, UsageError)
from s2i.oci.reference import RegistryLocation, parse_destination
from s2i.transports.registry.credentials import lookup
from s2i.transports.registry.push import push_image
from tests.unit.fake_registry import FakeRegistry
from tests.unit.test_push import HOST, connect, image_with


@pytest.mark.parametrize("directory, name", [
    ("flask-hello", "flask-hello"),
    ("My_App v2", "my-app-v2"),
    ("Ünïcödé", "unicode"),
    ("--..__", "app"),
    ("a" * 200, "a" * 64),
    ("go.httpd", "go-httpd"),
])
def test_an_app_directory_becomes_a_repository_name(directory, name):
    assert repository_name(directory) == name


def test_s2i_repo_names_the_default_destination(tmp_path):
    app = tmp_path / "My App"
    app.mkdir()
    assert repo_destination(app, {}) is None
    assert repo_destination(app, {"S2I_REPO": "reg.example.com:5000/team/"}) == "reg.example.com:5000/team/my-app"


@pytest.mark.parametrize("prefix", ["reg.example.com/Team", "reg.example.com/team:1", "reg.example.com/team@sha256:" + "a" * 64, "http://reg/x"])
def test_a_bad_s2i_repo_is_a_usage_error(tmp_path, prefix):
    with pytest.raises(UsageError, match=r"S2I_REPO=.* is not a repository prefix"):
        repo_destination(tmp_path, {"S2I_REPO": prefix})


def test_tags_join_the_destination_and_a_destination_without_a_tag_gets_no_latest():
    tagged = parse_destination("reg:5000/t/app:1", ("2", "latest", "1"))
    assert tagged == RegistryLocation(parse_destination("reg:5000/t/app:1").reference, ("2", "latest"))
    untagged = parse_destination("reg:5000/t/app", ("v1", "sha-abc"))
    assert (untagged.reference.tag, untagged.tags) == ("v1", ("sha-abc",))
    assert parse_destination("reg:5000/t/app").reference.tag == "latest"


@pytest.mark.parametrize("destination, tags, message", [
    ("reg:5000/t/app:1", ("-bad",), "--tag '-bad' is not a tag"),
    ("reg:5000/t/app:1", ("a/b",), "--tag 'a/b' is not a tag"),
    ("oci:./layout:app", ("2",), "--tag needs a registry destination"),
    ("store:builds/app", ("2",), "--tag needs a registry destination"),
])
def test_bad_tags_are_refused_before_any_work(destination, tags, message):
    with pytest.raises(UsageError, match=message):
        parse_destination(destination, tags)


def test_several_tags_name_one_manifest_put_after_every_blob_and_first_by_digest():
    fake = FakeRegistry()
    image = image_with(b"one", b"two")
    location = parse_destination(f"{HOST}/t/app:1", ("2", "latest"))
    push_image(connect(fake), location.reference, image, more_tags=location.tags)
    puts = [url.rsplit("/", 1)[1] for method, url in fake.log if method == "PUT" and "/manifests/" in url]
    assert puts == [image.digest, "1", "2", "latest"]
    assert {fake.manifests[("t/app", tag)][0] for tag in ("1", "2", "latest")} == {image.manifest_bytes}
    first_manifest = next(i for i, (method, url) in enumerate(fake.log) if "/manifests/" in url)
    assert all("/manifests/" in url for _, url in fake.log[first_manifest:])


def test_a_failed_push_sets_no_tag_and_a_failed_later_tag_says_which_moved(monkeypatch):
    fake = FakeRegistry()
    registry = connect(fake)
    fake.fail_next = [500] * 50
    with pytest.raises(RegistryError):
        push_image(registry, parse_destination(f"{HOST}/t/app:1").reference, image_with(b"one"), jobs=1, more_tags=("2",))
    assert not fake.manifests
    fake.fail_next = []
    handle = fake.handle
    fake.handle = lambda request: httpx.Response(403) if request.url.path.endswith("/manifests/2") else handle(request)
    with pytest.raises(AuthError) as caught:
        push_image(connect(fake), parse_destination(f"{HOST}/t/app:1").reference, image_with(b"one"), more_tags=("2",))
    assert "tags 1 already name sha256:" in caught.value.hint
    assert ("t/app", "2") not in fake.manifests and ("t/app", "1") in fake.manifests


def test_proxies_reach_the_build_in_both_spellings_and_no_other_host_variable_does():
    host = {"HTTPS_PROXY": "http://u:p@proxy:3128", "no_proxy": "localhost,.corp", "http_proxy": "http://proxy:3128",
            "HOME": "/root", "AWS_SECRET_ACCESS_KEY": "x"}
    env = dict(sandbox_env(get_buildpack("python"), AppConfig(), host))
    assert {k: v for k, v in env.items() if "proxy" in k.lower()} == {
        "HTTPS_PROXY": "http://u:p@proxy:3128", "https_proxy": "http://u:p@proxy:3128", "HTTP_PROXY": "http://proxy:3128",
        "http_proxy": "http://proxy:3128", "NO_PROXY": "localhost,.corp", "no_proxy": "localhost,.corp"}
    assert "AWS_SECRET_ACCESS_KEY" not in env and env["HOME"] == "/tmp"
    assert proxy_env({"HTTP_PROXY": "http://a:1", "http_proxy": "http://b:2"}) == {"HTTP_PROXY": "http://a:1", "http_proxy": "http://b:2"}


@pytest.mark.parametrize("value, shown", [
    ("http://user:pa:ss@proxy.corp:3128", "http://***@proxy.corp:3128"),
    ("https://token@proxy.corp", "https://***@proxy.corp"),
    ("http://proxy.corp:3128/path@x", "http://proxy.corp:3128/path@x"),
    ("localhost,127.0.0.1,.corp", "localhost,127.0.0.1,.corp"),
])
def test_proxy_credentials_are_never_shown(value, shown):
    assert redact(value) == shown


def test_the_log_line_and_the_loopback_warning_hide_credentials():
    env = proxy_env({"HTTP_PROXY": "http://me:secret@127.0.0.1:3128", "NO_PROXY": "127.0.0.1"})
    assert describe(env) == "HTTP_PROXY=http://***@127.0.0.1:3128, NO_PROXY=127.0.0.1"
    assert unreachable(env, "default") == ["HTTP_PROXY=http://***@127.0.0.1:3128"]
    assert unreachable(env, "host") == [] and unreachable(proxy_env({"HTTPS_PROXY": "proxy.corp:3128"}), "default") == []
    assert unreachable(proxy_env({"HTTPS_PROXY": "localhost:3128"}), "default") == ["HTTPS_PROXY=localhost:3128"]


def test_a_proxy_does_not_change_a_layer_key(tmp_path):
    from s2i.build.layers import layer_key
    from s2i.build.plan import make_plan
    from tests.unit.test_build_plan import STACK

    python = get_buildpack("python")
    plain = make_plan(python, (), AppConfig(), STACK, {}, 0, {}, {})
    proxied = make_plan(python, (), AppConfig(), STACK, {"HTTPS_PROXY": "http://u:p@proxy:3128"}, 0, {}, {})
    indexed = make_plan(python, (), AppConfig(), STACK, {"PIP_INDEX_URL": "https://mirror/simple"}, 0, {}, {})
    spec = next(spec for spec in python.layers if spec.key_files)
    assert dict(proxied.build_env)["HTTPS_PROXY"] == "http://u:p@proxy:3128"
    assert layer_key(plain, spec, tmp_path, "sha256:b") == layer_key(proxied, spec, tmp_path, "sha256:b")
    assert layer_key(plain, spec, tmp_path, "sha256:b") != layer_key(indexed, spec, tmp_path, "sha256:b")  # an index is content


def _auth_file(path: Path, host: str, user: str, password: str) -> Path:
    path.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}))
    return path


def test_registry_auth_file_comes_first_then_docker_config(tmp_path, monkeypatch):
    docker = tmp_path / "docker"
    docker.mkdir()
    _auth_file(docker / "config.json", "reg.test", "docker-user", "d")
    auth = _auth_file(tmp_path / "auth.json", "other.test", "podman-user", "p")
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    assert lookup("other.test").username == "podman-user"
    assert lookup("reg.test").username == "docker-user"  # not in the auth file: Docker's config still answers
    _auth_file(auth, "reg.test", "podman-user", "p")
    assert lookup("reg.test").username == "podman-user"


def test_a_registry_auth_file_that_is_missing_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "nope.json"))
    with pytest.raises(UsageError, match="REGISTRY_AUTH_FILE=.*nope.json is not a file"):
        lookup("reg.test")


def test_json_carries_its_schema_version():
    assert with_schema({"digest": "sha256:x"}) == {"schema": JSON_SCHEMA, "digest": "sha256:x"}
    assert with_schema([{"name": "a"}], "stacks") == {"schema": JSON_SCHEMA, "stacks": [{"name": "a"}]}


def test_each_error_family_has_its_own_documented_exit_code():
    codes = [UsageError("x").exit_code, DetectionError("x").exit_code, BuildError("x").exit_code, RegistryError("x").exit_code,
             AuthError("x").exit_code, S2IError("x").exit_code]
    assert codes == [EXIT_USAGE, EXIT_DETECTION, EXIT_BUILD, EXIT_REGISTRY, EXIT_AUTH, 1]
    assert len(set(codes)) == len(codes) and set(codes) | {0, EXIT_INTERNAL, 130} == set(EXIT_CODES)


def run_main(monkeypatch, capsys, *argv) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["s2i", *argv])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def test_a_bug_is_one_line_naming_where_and_not_what_it_carried(monkeypatch, capsys):
    import s2i.commands.stack

    def broken():
        raise KeyError("hunter2-secret")

    monkeypatch.setattr(s2i.commands.stack, "list_stacks", broken)
    code, out, err = run_main(monkeypatch, capsys, "stack", "list")
    assert code == EXIT_INTERNAL and out == ""
    assert re.fullmatch(r"s2i: internal error: KeyError at s2i/cli/__init__\.py:\d+ "
                        r"\(a bug in s2i: rerun with -v for the traceback, and report it\)\n", err), err
    code, _, err = run_main(monkeypatch, capsys, "stack", "list", "-v")
    assert code == EXIT_INTERNAL and "Traceback" in err and "hunter2-secret" in err


def test_quiet_and_verbose_do_not_go_together(monkeypatch, capsys):
    code, out, err = run_main(monkeypatch, capsys, "stack", "list", "-q", "-v")
    assert code == EXIT_USAGE and err == "s2i: error: -q and -v do not go together (give one of them)\n"


def test_quiet_hides_progress_but_not_warnings(capsys):
    from s2i.progress import NORMAL, QUIET, log, set_verbosity, warn

    set_verbosity(QUIET)
    try:
        log("progress")
        warn("careful")
    finally:
        set_verbosity(NORMAL)
    assert capsys.readouterr().err == "s2i: warning: careful\n"
