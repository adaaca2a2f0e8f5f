"""Build secrets: --secret parsing, a read-only mount at /run/secrets/NAME, and never in the source copy."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from s2i.build import runner
from s2i.build.pipeline import secret_excludes
from s2i.build.sandbox import Bind, bwrap_argv
from s2i.build.source import copy_source
from s2i.cli.options import parse_secrets
from s2i.errors import UsageError
from tests.e2e.conftest import REPO_ROOT


@pytest.fixture
def token(tmp_path):
    path = tmp_path / "token.txt"
    path.write_text("tok-123\n")
    return path


def test_secrets_parse_into_ids_and_resolved_files(tmp_path, token, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_secrets(("id=token,src=token.txt", f"source={token},id=pip.conf")) == (("token", token), ("pip.conf", token))


@pytest.mark.parametrize("value, message", [
    ("id=token", "is not id=NAME,src=FILE"),
    ("src={token}", "--secret id '' is not a plain name"),
    ("id=token,src={token},mode=0400", "is not id=NAME,src=FILE"),
    ("id=../etc/passwd,src={token}", "is not a plain name"),
    ("id=token,src={token}.missing", "is not a readable file"),
    ("id=token,src={dir}", "is not a readable file"),
])
def test_bad_secrets_are_usage_errors(tmp_path, token, value, message):
    with pytest.raises(UsageError) as caught:
        parse_secrets((value.format(token=token, dir=tmp_path),))
    assert message in caught.value.one_line()


def test_the_same_id_twice_is_refused(token):
    with pytest.raises(UsageError, match="given twice"):
        parse_secrets((f"id=a,src={token}", f"id=a,src={token}"))


def test_a_secret_inside_the_app_is_left_out_of_the_source_copy(tmp_path):
    app, outside = tmp_path / "app", tmp_path / "outside"
    (app / "conf").mkdir(parents=True)
    outside.write_text("x")
    for name in ("main.c", "conf/tok[1].txt", "conf/tok1.txt"):
        (app / name).write_text(name)
    secrets = (("a", (app / "conf/tok[1].txt").resolve()), ("b", outside.resolve()))
    assert secret_excludes(app, secrets) == ("conf/tok[[]1].txt",)
    copy_source(app, tmp_path / "copy", (), secret_excludes(app, secrets))
    copied = sorted(p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*") if p.is_file())
    assert copied == ["conf/tok1.txt", "main.c"]  # the pattern is literal: its [1] matches no other file


def test_secrets_are_bound_read_only_at_run_secrets(tmp_path, token, monkeypatch):
    seen = {}

    def fake_run(sandbox, command, prefix, log, limits=None, requested="auto"):
        seen["sandbox"] = sandbox
        (tmp_path / "out" / "layers" / "app").mkdir(parents=True)
        (tmp_path / "out" / "launch.json").write_text(json.dumps({"entrypoint": ["/app"]}))

    monkeypatch.setattr(runner, "run_logged", fake_run)
    plan = SimpleNamespace(step_input={}, layers=(SimpleNamespace(name="app", mount=None),), build_env=(),
                           buildpack=SimpleNamespace(name="c"))
    for name in ("rootfs", "workspace", "cache"):
        (tmp_path / name).mkdir()
    runner.run_build(plan, tmp_path / "rootfs", tmp_path / "workspace", tmp_path / "out", tmp_path / "cache", None,
                     secrets=(("token", token),))
    sandbox = seen["sandbox"]
    assert Bind(token, "/run/secrets/token", writable=False) in sandbox.binds
    argv = bwrap_argv(sandbox, ["true"])
    assert ["--ro-bind", str(token), "/run/secrets/token"] == argv[argv.index("/run/secrets/token") - 2:argv.index("/run/secrets/token") + 1]
    assert "tok-123" not in " ".join(argv)


def test_a_bad_secret_fails_before_any_work(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-P", "-m", "s2i", "build", str(tmp_path), "--secret", "id=token,src=/nonexistent"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "s2i: error: --secret token: /nonexistent is not a readable file (check the path after src=)"
    assert not (tmp_path / "cache").exists()
