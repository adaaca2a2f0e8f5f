"""Fixtures for end-to-end tests: registries, an isolated s2i runner and a static hello binary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import Registry, build_static

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def registry(tmp_path):
    """Plain-HTTP registry on 127.0.0.1, fresh storage, no auth."""
    reg = Registry(tmp_path / "registry")
    reg.start()
    yield reg
    reg.stop(kill=True)


@pytest.fixture
def tls_registry(tmp_path):
    """HTTPS registry (own CA, see .ca_file/.cert_dir) with htpasswd Basic auth."""
    reg = Registry(tmp_path / "tls-registry", tls=True, username="e2e", password="s3cret-e2e")
    reg.start()
    yield reg
    reg.stop(kill=True)


class S2I:
    """Runs `python -m s2i` with HOME and XDG_CACHE_HOME private to one test."""

    def __init__(self, root: Path):
        self.home = root / "home"
        self.cache = root / "cache"
        self.home.mkdir(parents=True)
        self.cache.mkdir(parents=True)

    def __call__(self, *args, input=None, env=None, check=False, cwd=None, timeout=300):
        full_env = dict(os.environ, HOME=str(self.home), XDG_CACHE_HOME=str(self.cache))
        # s2i is not pip-installed, so it comes from PYTHONPATH; -P keeps an
        # s2i/ folder in the cwd (say, an app being built) from shadowing it.
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
        )
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-P", "-m", "s2i", *map(str, args)],
            input=input, env=full_env, check=check, cwd=cwd, timeout=timeout,
            capture_output=True, text=True,
        )


@pytest.fixture
def s2i(tmp_path):
    return S2I(tmp_path / "s2i")


@pytest.fixture
def static_hello(tmp_path):
    """A layer directory holding a static /hello that prints "hello from s2i"."""
    layer = tmp_path / "hello-src" / "layer"
    build_static(layer, "hello from s2i")
    return layer
