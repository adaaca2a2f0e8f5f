"""s2i.toml and the flags that override it: each wrong type, unknown key or odd file is one line naming the fix."""

import os

import pytest

from s2i.build.config import AppConfig, load_app_config, parse_port, parse_user
from s2i.errors import UsageError


def config_of(tmp_path, text: str) -> AppConfig:
    (tmp_path / "s2i.toml").write_text(text)
    return load_app_config(tmp_path)


def test_good_values_come_out_typed(tmp_path):
    config = config_of(tmp_path, 'ports = [8080, "53/UDP"]\nuser = 1000\nentrypoint = "/app/server --name \'a b\'"\n'
                                 'exclude = ["secret.txt"]\ncmd = ["--flag", ""]\nenv = { "spring.profile" = "prod" }\n')
    assert config.ports == ("8080", "53/udp") and config.user == "1000" and config.exclude == ("secret.txt",)
    assert config.entrypoint == ("/app/server", "--name", "a b") and config.cmd == ("--flag", "")
    assert config.env == (("spring.profile", "prod"),)


@pytest.mark.parametrize("text, message", [
    ('exclude = "secret.txt"', "exclude must be a list of strings (write it as exclude = ["),
    ('include = ["src", 1]', "include must be a list of strings"),
    ('ports = "8080"', "ports must be a list (write it as ports = [8080])"),
    ("ports = [99999]", "ports: 99999 is not a port"),
    ("ports = [0]", "ports: 0 is not a port"),
    ('ports = ["http"]', "ports: 'http' is not a port"),
    ("ports = [true]", "ports: True is not a port"),
    ("env = { PORT = 8080 }", 'env.PORT must be a string (quote it: PORT = "8080")'),
    ('env = { "A B" = "1" }', "env: 'A B' is not an environment variable name"),
    ('env = "A=1"', "env must be a table"),
    ('user = "root; rm -rf /"', "user: 'root; rm -rf /' is not a user"),
    ("user = -1", "user: -1 is not a user"),
    ('user = ""', "user: '' is not a user"),
    ("run-image = 3", "run-image must be a non-empty string"),
    ('stack = ""', "stack must be a non-empty string"),
    ("entrypoint = [1]", "entrypoint must be a list of strings"),
    ("entrypoint = \"/app/x 'unclosed\"", "entrypoint: cannot split"),
    ('runimage = "scratch"', "unknown setting 'runimage' (did you mean 'run-image'?)"),
    ('port = [80]', "unknown setting 'port' (did you mean 'ports'?)"),
    ('zzz = 1', "unknown setting 'zzz' (known: run-image, stack,"),
    ("build = 1", "build must be a table"),
    ("[build]\nenv = { X = 1 }", "build.env.X must be a string"),
    ("ports = [", "fix the TOML syntax"),
])
def test_bad_settings_are_one_line(tmp_path, text, message):
    with pytest.raises(UsageError) as caught:
        config_of(tmp_path, text)
    line = caught.value.one_line()
    assert message in line and "\n" not in line and str(tmp_path / "s2i.toml") in line


def test_an_odd_settings_file_is_one_line(tmp_path):
    os.symlink("../../../../../../../../etc/passwd", tmp_path / "s2i.toml")
    with pytest.raises(UsageError, match="s2i.toml is a symlink that leads out of the app"):
        load_app_config(tmp_path)
    os.unlink(tmp_path / "s2i.toml")
    os.mkfifo(tmp_path / "s2i.toml")
    with pytest.raises(UsageError, match="s2i.toml is not a regular file"):
        load_app_config(tmp_path)
    os.unlink(tmp_path / "s2i.toml")
    (tmp_path / "s2i.toml").write_bytes(b'run-image = "\xff"\n')
    with pytest.raises(UsageError, match="s2i.toml is not UTF-8 text"):
        load_app_config(tmp_path)
    (tmp_path / "s2i.toml").write_text("# " + "x" * (1 << 20))
    with pytest.raises(UsageError, match="s2i.toml is larger than 1 MiB"):
        load_app_config(tmp_path)
    (tmp_path / "s2i.toml").unlink()
    (tmp_path / "settings").mkdir()
    (tmp_path / "settings" / "s2i.toml").write_text('run-image = "scratch"\n')
    os.symlink("settings/s2i.toml", tmp_path / "s2i.toml")
    assert load_app_config(tmp_path).run_image == "scratch"


@pytest.mark.parametrize("value, port", [(8080, "8080"), ("8080", "8080"), ("53/udp", "53/udp"), ("443/TCP", "443/tcp")])
def test_ports(value, port):
    assert parse_port(value, "--port") == port


@pytest.mark.parametrize("value", ["abc", "", "80/http", "65536", "-1", "8080/", " 80"])
def test_bad_ports(value):
    with pytest.raises(UsageError, match="--port: .* is not a port"):
        parse_port(value, "--port")


@pytest.mark.parametrize("value, ok", [("65532", True), ("app", True), ("1000:1000", True), ("www-data:www-data", True),
                                       ("a b", False), ("1000:", False), (":1000", False), ("x" * 40, False), ("../x", False)])
def test_users(value, ok):
    if ok:
        assert parse_user(value, "--user") == value
    else:
        with pytest.raises(UsageError, match="is not a user"):
            parse_user(value, "--user")
