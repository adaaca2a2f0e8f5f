"""Bad settings and flags for `s2i build`: one line each, exit 2, and nothing built, stored or pushed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e
LONG_NAME = "a" * 300


@pytest.fixture
def app(tmp_path) -> Path:
    return Path(shutil.copytree(REPO_ROOT / "examples" / "c-hello", tmp_path / "app"))


@pytest.mark.parametrize("settings, message", [
    ('exclude = "secret.txt"', "s2i.toml: exclude must be a list of strings"),
    ('ports = "8080"', "s2i.toml: ports must be a list (write it as ports = [8080])"),
    ("ports = [99999]", "s2i.toml: ports: 99999 is not a port"),
    ("env = { DEBUG = true }", 's2i.toml: env.DEBUG must be a string (quote it: DEBUG = "True")'),
    ('runimage = "scratch"', "s2i.toml: unknown setting 'runimage' (did you mean 'run-image'?)"),
    ('user = "app user"', "s2i.toml: user: 'app user' is not a user"),
])
def test_bad_settings_file(s2i, app, registry, settings, message):
    (app / "s2i.toml").write_text(settings + "\n")
    (app / "secret.txt").write_text("not for the image\n")
    result = s2i("build", app, f"{registry.host}/settings/app:1")
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"s2i: error: {app}/") and message in last
    assert registry.manifest_tags("settings/app") == set() and not (s2i.cache / "s2i" / "blobs").exists()


@pytest.mark.parametrize("args, line", [
    (["--port", "abc"], "--port: 'abc' is not a port (use a number from 1 to 65535, optionally /tcp or /udp: 8080, 53/udp)"),
    (["--port", "70000"], "--port: '70000' is not a port (use a number from 1 to 65535, optionally /tcp or /udp: 8080, 53/udp)"),
    (["--env", "MY VAR=1"], "--env: 'MY VAR' is not an environment variable name (use letters, digits and _, e.g. API_URL)"),
    (["--user", "root:"], "--user: 'root:' is not a user (write a name or uid, optionally with :group or :gid: \"65532\", \"app\", \"1000:1000\")"),
    (["--log", "/nonexistent-dir/build.log"], "--log /nonexistent-dir/build.log: there is no directory /nonexistent-dir (create it first, or write somewhere else)"),
    (["--log", ""], "--log is empty (an unset variable? give a value, or leave it out)"),
])
def test_bad_flags(s2i, app, args, line):
    result = s2i("build", app, *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [f"s2i: error: {line}"]
    assert not (s2i.cache / "s2i").exists()


def test_an_empty_destination_or_app_is_a_usage_error_not_a_default(s2i, app):
    """`s2i build app "$DEST"` with DEST unset must not quietly build into the local store."""
    result = s2i("build", app, "")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "s2i: error: DESTINATION is empty (an unset variable? give a value, or leave it out)"]
    result = s2i("build", "", "127.0.0.1:1/x:1", cwd=app)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "s2i: error: APP is empty (an unset variable? give a value, or leave it out)"]
    assert not (s2i.cache / "s2i").exists()


def test_a_path_too_long_is_one_line(s2i, tmp_path):
    result = s2i("build", tmp_path / LONG_NAME)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("s2i: error: File name too long: ") and lines[0].endswith("(use a shorter path)")


@pytest.mark.parametrize("args, line", [
    (["--port", "8080/http"], "--port: '8080/http' is not a port (use a number from 1 to 65535, optionally /tcp or /udp: 8080, 53/udp)"),
    (["--env", "A B=1"], "--env: 'A B' is not an environment variable name (use letters, digits and _, e.g. API_URL)"),
])
def test_append_checks_the_same_flags(s2i, tmp_path, args, line):
    result = s2i("append", "scratch", "127.0.0.1:1/t/x:1", "--layer", tmp_path, *args)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"s2i: error: {line}"]


def test_click_usage_errors_are_one_line_too(s2i, app, tmp_path):
    result = s2i("build", app, "--log", tmp_path)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        f"s2i: error: Invalid value for '--log': File '{tmp_path}' is a directory. (see python -m s2i build --help)"]
    result = s2i("build", app, "--prot", "80")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("s2i: error: No such option '--prot'.")
