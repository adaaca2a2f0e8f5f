"""Pinned build tools (uv): the stack's pin, the checked fetch into the store, and the Python step's use of uv."""

import hashlib
import io
import os
import zipfile
from contextlib import contextmanager

import pytest

from s2i.build.tools import TOOLS_DIR, ensure_tool, tool_binds, tool_pin, tool_pins
from s2i.buildpacks.steps import python as python_step
from s2i.errors import UsageError
from s2i.stack.files import load_stack
from s2i.store import Store
from tests.e2e.conftest import REPO_ROOT

STACK = """suite = "trixie"
architecture = "amd64"
[builder]
packages = ["python3"]
[run.scratch]
scratch = true
"""


def wheel_bytes(member: str = "uv-0.1.0.data/scripts/uv", body: bytes = b"#!/bin/sh\necho uv\n") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(member, body)
        archive.writestr("uv-0.1.0.dist-info/METADATA", "Name: uv\nVersion: 0.1.0\n")
    return out.getvalue()


def stack_with(tmp_path, data: bytes, tools_table: str | None = None):
    path = tmp_path / "s.toml"
    table = tools_table if tools_table is not None else (
        f'[tools.uv]\nversion = "0.1.0"\namd64 = {{ url = "https://example.test/uv.whl", '
        f'sha256 = "{hashlib.sha256(data).hexdigest()}", size = {len(data)} }}\n')
    path.write_text(STACK + table)
    return load_stack(path)


class Served:
    """Stands in for httpx.stream: serves `data` once per request, counting requests."""

    def __init__(self, data: bytes, status: int = 200):
        self.data, self.status, self.requests = data, status, 0

    @contextmanager
    def __call__(self, method, url, **_options):
        self.requests += 1
        response = type("Response", (), {"status_code": self.status, "iter_bytes": lambda _self, size: iter([self.data])})()
        yield response


def test_the_committed_stacks_pin_uv_for_amd64():
    for name in ("debian-trixie", "debian-bookworm"):
        pin = tool_pin(load_stack(REPO_ROOT / "stacks" / f"{name}.toml"), "uv")
        assert pin and pin.url.startswith("https://files.pythonhosted.org/") and pin.url.endswith("manylinux2014_x86_64.whl")
        assert pin.member == f"uv-{pin.version}.data/scripts/uv" and len(pin.sha256) == 64 and pin.size > 1_000_000


def test_a_pin_missing_or_for_another_architecture_is_none_and_a_malformed_one_a_usage_error(tmp_path, capsys):
    assert tool_pins(stack_with(tmp_path, b"", ""), ("uv",)) == ()
    assert "uv: stack s pins none for amd64; the build uses the builder's own tools" in capsys.readouterr().err
    assert tool_pin(stack_with(tmp_path, b"", '[tools.uv]\nversion = "1"\narm64 = { url = "https://x", sha256 = "0", size = 1 }\n'), "uv") is None
    with pytest.raises(UsageError, match="tools.uv is not a pin"):
        tool_pin(stack_with(tmp_path, b"", '[tools.uv]\nversion = "1"\namd64 = { url = "http://x", sha256 = "' + "0" * 64 + '", size = 1 }\n'), "uv")


def test_a_tool_is_fetched_once_checked_and_unpacked_executable(tmp_path, monkeypatch):
    data = wheel_bytes()
    served = Served(data)
    monkeypatch.setattr("httpx.stream", served)
    store = Store(tmp_path / "store")
    pin = tool_pin(stack_with(tmp_path, data), "uv")
    binds = tool_binds((pin,), store)
    assert [(bind.target, bind.writable) for bind in binds] == [(f"{TOOLS_DIR}/uv", False)]
    executable = binds[0].source / "uv"
    assert executable.read_bytes() == b"#!/bin/sh\necho uv\n" and os.access(executable, os.X_OK)
    assert store.has_blob("sha256:" + pin.sha256, pin.size)
    assert ensure_tool(pin, store) == binds[0].source and served.requests == 1  # once per store


@pytest.mark.parametrize("served, why", [
    (Served(wheel_bytes(body=b"evil")), "not the pinned"),  # other bytes than the pin's
    (Served(b"", status=404), "HTTP 404"),
    (Served(wheel_bytes() * 2), "larger than the pinned"),
])
def test_a_tool_that_cannot_be_had_is_a_log_line_and_leaves_nothing(tmp_path, monkeypatch, capsys, served, why):
    data = wheel_bytes()
    monkeypatch.setattr("httpx.stream", served)
    store = Store(tmp_path / "store")
    pin = tool_pin(stack_with(tmp_path, data), "uv")
    assert tool_binds((pin,), store) == ()
    err = capsys.readouterr().err
    assert "uv: unavailable (" in err and why in err and "the build uses the builder's own tools" in err
    assert not store.has_blob("sha256:" + pin.sha256) and not (store.root / "tools").exists()
    assert list((store.root / "tmp").iterdir()) == []


def test_a_wheel_without_the_executable_is_refused(tmp_path, monkeypatch, capsys):
    data = wheel_bytes(member="other/file")
    monkeypatch.setattr("httpx.stream", Served(data))
    store = Store(tmp_path / "store")
    assert ensure_tool(tool_pin(stack_with(tmp_path, data), "uv"), store) is None
    assert "the pinned wheel has no uv-0.1.0.data/scripts/uv" in capsys.readouterr().err
    assert [p.name for p in (store.root / "tools").iterdir()] == []


def test_pip_hash_checking_mode_is_seen_through_included_files(tmp_path):
    (tmp_path / "plain.txt").write_text("flask\n# --hash in a comment does not count\n")
    (tmp_path / "hashed.txt").write_text("six==1.16.0 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    (tmp_path / "top.txt").write_text("flask\n-r hashed.txt\n")
    (tmp_path / "flag.txt").write_text("--require-hashes\nflask\n")
    (tmp_path / "loop.txt").write_text("-r loop.txt\n")
    assert [python_step.hashed(str(tmp_path / name)) for name in ("plain.txt", "hashed.txt", "top.txt", "flag.txt", "loop.txt", "absent.txt")] == [
        False, True, True, True, False, False]


def test_uv_gets_pips_index_settings_and_never_downloads_a_python(monkeypatch):
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "UV_INDEX_URL", "UV_INDEX_STRATEGY"):
        monkeypatch.delenv(name, raising=False)
    env = python_step.uv_env()
    assert env["UV_PYTHON_DOWNLOADS"] == "never" and "UV_INDEX_URL" not in env and "UV_INDEX_STRATEGY" not in env
    monkeypatch.setenv("PIP_INDEX_URL", "https://user:pw@pypi.example/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://extra.example/simple")
    monkeypatch.setenv("PIP_TRUSTED_HOST", "pypi.example")
    env = python_step.uv_env()
    assert (env["UV_INDEX_URL"], env["UV_EXTRA_INDEX_URL"], env["UV_INSECURE_HOST"]) == (
        "https://user:pw@pypi.example/simple", "https://extra.example/simple", "pypi.example")
    assert env["UV_INDEX_STRATEGY"] == "unsafe-best-match"  # pip's: the best version across every index



def test_the_seed_is_ensurepips_wheels_found_where_it_looks(tmp_path, monkeypatch):
    wheels = tmp_path / "python-wheels"
    wheels.mkdir()
    for name in ("pip-24.0-py3-none-any.whl", "pip-25.1.1-py3-none-any.whl", "setuptools-78.1.1-py3-none-any.whl", "wheel-0.45-py3-none-any.whl"):
        (wheels / name).write_bytes(b"")
    monkeypatch.setattr(python_step.sysconfig, "get_config_var", lambda name: str(wheels) if name == "WHEEL_PKG_DIR" else None)
    monkeypatch.setattr(python_step.sys, "version_info", (3, 13, 5))
    assert python_step.seed_wheels() == [str(wheels / "pip-25.1.1-py3-none-any.whl")]  # 3.12 dropped setuptools
    monkeypatch.setattr(python_step.sys, "version_info", (3, 11, 2))
    assert python_step.seed_wheels() == [str(wheels / "pip-25.1.1-py3-none-any.whl"), str(wheels / "setuptools-78.1.1-py3-none-any.whl")]
    (wheels / "setuptools-78.1.1-py3-none-any.whl").unlink()
    monkeypatch.setattr(python_step.importlib.util, "find_spec", lambda name: None)  # and no bundled ones either
    assert python_step.seed_wheels() == []  # one missing: python -m venv seeds instead


def test_the_seed_is_listed_from_the_venvs_metadata_as_pip_freeze_lists_it(tmp_path):
    site = tmp_path / "venv/lib/python3.13/site-packages"
    for name, version in (("pip", "25.1.1"), ("Flask", "3.1.3"), ("flask_cors", "6.0"), ("blinker", "1.9.0")):
        (site / f"{name}-{version}.dist-info").mkdir(parents=True)
        (site / f"{name}-{version}.dist-info/METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody: x\n")
    assert python_step.distributions(str(tmp_path / "venv")) == ["blinker==1.9.0", "Flask==3.1.3", "flask_cors==6.0", "pip==25.1.1"]


def test_uv_is_used_only_where_it_runs(tmp_path):
    foreign = tmp_path / "uv"
    foreign.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(64))  # another machine's binary: exec fails
    foreign.chmod(0o755)
    works = tmp_path / "uv-here"
    works.write_text("#!/bin/sh\necho uv 0.13.8\n")
    works.chmod(0o755)
    assert [python_step.uv_runs(str(path)) for path in (tmp_path / "absent", foreign, works)] == [False, False, True]
