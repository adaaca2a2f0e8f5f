"""Fixtures for end-to-end tests: registries, an isolated s2i runner and a static hello binary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from s2i.stack.files import DEFAULT_STACK
from tests.e2e.emulation import arm64_emulation  # noqa: F401 (a fixture: arm64 binaries run here through qemu-user)
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


class BuiltStack:
    """The default stack built once per test session from the committed lock, shared by every build test."""

    def __init__(self, root: Path):
        self.stacks = root / "stacks"
        self.stacks.mkdir(parents=True)
        for path in (REPO_ROOT / "stacks").iterdir():  # every stack is known (runtime choice); only the default is built here
            shutil.copy(path, self.stacks)
        self.env = {"S2I_STACKS_DIR": str(self.stacks)}
        self.runner = S2I(root / "builder-session")
        # CI exercises the committed lock: when Debian has moved past it, this fails and names the fix
        result = self.runner("stack", "build", DEFAULT_STACK, "--json", env=self.env, timeout=1800)
        assert result.returncode == 0, result.stderr
        self.results = json.loads(result.stdout)["images"]

    @property
    def cache(self) -> Path:
        return self.runner.cache


_BUILT: list[BuiltStack] = []  # tests/adversarial re-exports this fixture: pytest keeps a session value per directory


@pytest.fixture(scope="session")
def built_stack(tmp_path_factory):
    if not _BUILT:
        _BUILT.append(BuiltStack(tmp_path_factory.mktemp("built-stack")))
    return _BUILT[0]


class StackS2I(S2I):
    """An s2i runner whose store already holds the session's stack; HOME stays private to the test."""

    def __init__(self, root: Path, stack: BuiltStack):
        self.home = root / "home"
        self.home.mkdir(parents=True)
        self.cache = stack.cache
        self.stack = stack

    def __call__(self, *args, env=None, **kwargs):
        return super().__call__(*args, env={**self.stack.env, **(env or {})}, **kwargs)

    def forget_app_caches(self) -> None:
        """Empty every cache a build may reuse (build caches, layer index); the stack stays."""
        for name in ("builds", "layers", "keyed"):
            shutil.rmtree(self.cache / "s2i" / name, ignore_errors=True)


@pytest.fixture
def builder(tmp_path, built_stack):
    return StackS2I(tmp_path / "s2i", built_stack)
