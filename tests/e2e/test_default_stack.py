"""The default stack is debian-trixie (Debian stable); bookworm serves what only it has, and stays available by name."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import run_image, skopeo_inspect, start_image
from tests.e2e.test_build import APPS, app_copy, built, http_get

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def bookworm(built_stack):
    """debian-bookworm, built once per session from its committed lock, only for the tests that use it."""
    result = built_stack.runner("stack", "build", "debian-bookworm", env=built_stack.env, timeout=1800)
    assert result.returncode == 0, result.stderr
    return built_stack


def test_a_new_app_gets_trixie(builder, registry):
    reference = built(builder("build", REPO_ROOT / "examples" / "c-hello", f"{registry.host}/default-stack/c:1"))
    assert skopeo_inspect(f"docker://{reference}", config=True)["config"]["Labels"]["io.s2i.stack"] == "debian-trixie"
    assert run_image(f"docker://{reference}").stdout == "hello world\n"


def test_bookworm_serves_python_3_11_and_stays_available_by_name(builder, bookworm, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "py-venv-seed")
    (app / "s2i.toml").write_text('[build]\npython-version = "3.11"\n')
    result = builder("build", app, f"{registry.host}/default-stack/py311:1")
    reference = built(result)
    assert ("runtime: python 3.11 on stack debian-bookworm: s2i.toml build.python-version asks python 3.11; "
            "the newest that meets it (debian-trixie has 3.13)") in result.stderr
    # the venv made by bookworm's CPython runs on bookworm's python run base, seeded as 3.11's venv is
    first, second = run_image(f"docker://{reference}").stdout.splitlines()
    assert first == "python 3.11 in /opt/venv: pip setuptools" and re.fullmatch(r"pip 23\.\d+(\.\d+)?", second)
    go = app_copy(tmp_path, REPO_ROOT / "examples" / "go-httpd")
    (go / "s2i.toml").write_text('stack = "debian-bookworm"\n')
    result = builder("build", go, f"{registry.host}/default-stack/go-bookworm:1")
    reference = built(result)
    assert "runtime: go 1.19 on stack debian-bookworm: go.mod (go 1.19) asks go >=1.19; the newest that meets it" in result.stderr
    assert skopeo_inspect(f"docker://{reference}", config=True)["config"]["Labels"]["io.s2i.stack"] == "debian-bookworm"
    with start_image(f"docker://{reference}", wait_for_port=8080, timeout=30):
        assert http_get("http://127.0.0.1:8080/") == "hello from go-httpd\n"


def test_a_cold_go_build_does_not_compile_the_standard_library(builder, registry, tmp_path):
    """The std seed is compiled once per builder, Go and build env, with no app code, then copied into a cold app cache."""
    app = app_copy(tmp_path, REPO_ROOT / "examples" / "go-httpd")
    (app / "s2i.toml").write_text('[build]\nenv = { GOFLAGS = "-v" }\n')  # go build -v names each package it compiles
    result = builder("build", app, f"{registry.host}/cold-go:1")
    reference = built(result)
    seeded = [line.split("] ", 1)[1] for line in result.stderr.splitlines() if line.startswith("[seed go] ")]
    compiled = [line.split("] ", 1)[1] for line in result.stderr.splitlines() if line.startswith("[build go] ")]
    assert "net/http" in seeded and "runtime" in seeded  # the seed compiled the standard library once
    assert "go build cache seeded with the precompiled standard library" in compiled
    assert "net/http" not in compiled and "runtime" not in compiled and "example.com/go-httpd" in compiled
    with start_image(f"docker://{reference}", wait_for_port=8080, timeout=30):
        assert http_get("http://127.0.0.1:8080/") == "hello from go-httpd\n"
    again = builder("build", app_copy(tmp_path / "other", app), f"{registry.host}/cold-go:2")  # another app: its own cold cache
    built(again)
    assert "[seed go]" not in again.stderr and "go build cache seeded" in again.stderr
