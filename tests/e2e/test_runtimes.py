"""Runtime versions: apps asking for a Go or Python version get the newest that meets it, builder and run base alike."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import run_image
from tests.e2e.test_build import app_copy, built

pytestmark = pytest.mark.e2e
APPS = REPO_ROOT / "tests" / "apps"


def test_go_module_asking_1_22_gets_the_newest_go_that_meets_it(builder, registry):
    detected = builder("detect", APPS / "go-toolchain", "--json")
    assert json.loads(detected.stdout)["runtime"] == {
        "language": "go", "version": "1.26", "stack": "debian-trixie",
        "reason": "go.mod (go 1.22, toolchain go1.22.5) asks go >=1.22; the newest that meets it"}
    reference = f"{registry.host}/runtimes/go:1"
    result = builder("build", APPS / "go-toolchain", reference)
    built(result)
    assert "runtime: go 1.26 on stack debian-trixie" in result.stderr
    assert re.fullmatch(r"go1\.26\.\d+ 3\n", run_image(f"docker://{reference}").stdout)


def test_go_version_setting_picks_another_go_of_the_same_builder(builder, registry, tmp_path):
    """Two Go toolchains in one builder: the chosen one's bin directory goes first on PATH in the sandbox."""
    app = app_copy(tmp_path, APPS / "go-toolchain")
    (app / "s2i.toml").write_text('[build]\ngo-version = "1.24"\n')
    reference = f"{registry.host}/runtimes/go:1.24"
    result = builder("build", app, reference)
    built(result)
    assert "runtime: go 1.24 on stack debian-trixie: s2i.toml build.go-version asks go 1.24" in result.stderr
    assert re.fullmatch(r"go1\.24\.\d+ 3\n", run_image(f"docker://{reference}").stdout)


@pytest.mark.parametrize("app, asked", [("py-version-pinned", ".python-version asks python 3.13"),
                                        ("py-requires-python", "pyproject.toml requires-python asks python >=3.12")])
def test_python_app_asking_a_newer_python_gets_it_in_builder_and_run_base(builder, registry, app, asked):
    reference = f"{registry.host}/runtimes/{app}:1"
    result = builder("build", APPS / app, reference)
    built(result)
    assert f"runtime: python 3.13 on stack debian-trixie: {asked}" in result.stderr
    # the venv was made by the builder's 3.13 and runs on the run base's 3.13: same CPython
    assert re.fullmatch(r"python 3\.13\.\d+\n", run_image(f"docker://{reference}").stdout)


@pytest.mark.parametrize("files, message", [
    ({"go.mod": "module x\n\ngo 1.99\n", "main.go": "package main\n\nfunc main() {}\n"},
     "s2i: error: go.mod (go 1.99) asks go >=1.99, but no stack offers it (debian-trixie go 1.24 1.26, debian-bookworm go 1.19) (change go.mod, or set build.go-version in s2i.toml to a version a stack offers)"),
    ({"pyproject.toml": '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.99"\n', "main.py": "print(1)\n"},
     "s2i: error: pyproject.toml requires-python asks python >=3.99, but no stack offers it (debian-trixie python 3.13, debian-bookworm python 3.11) "
     "(change pyproject.toml requires-python, or set build.python-version in s2i.toml to a version a stack offers)"),
])
def test_an_unsatisfiable_version_fails_in_one_line_before_any_download(s2i, tmp_path, files, message):
    app = tmp_path / "app"
    app.mkdir()
    for name, text in files.items():
        (app / name).write_text(text)
    result = s2i("build", app, env={"S2I_STACKS_DIR": str(REPO_ROOT / "stacks")}, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == message  # one line: what was asked, what the stacks offer, the setting
    store = s2i.cache / "s2i"
    assert not (store / "debian").exists() and not (store / "stacks").exists()  # no index read, no stack built
