"""Runtime versions: what apps ask for, the specifier matcher, the stack and toolchain chosen, derived apt sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from s2i.build.runtime import RuntimeChoice, choose, choose_runtime
from s2i.buildpacks import get_buildpack
from s2i.buildpacks.go import wanted_go
from s2i.buildpacks.python import wanted_python
from s2i.buildpacks.versions import Wanted, matches
from s2i.errors import UsageError
from s2i.stack import debian
from s2i.stack.files import Builder, Stack

REPO = Path(__file__).resolve().parents[2]


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("spec, offered, ok", [
    (">=3.12", "3.11", False), (">=3.12", "3.13", True), ("3.13", "3.13", True), ("3.13", "3.11", False),
    ("3.12.*", "3.12", True), ("==3.12.1", "3.12", True), ("!=3.11.*", "3.11", False), ("*", "3.11", True),
    ("~=3.11", "3.13", True), ("~=3.11.2", "3.13", False), ("~=3.11.2", "3.11", True),
    ("^3.11", "3.13", True), ("^3.11", "4.0", False), ("~3.11", "3.13", False), ("~3.11", "3.11", True),
    (">=3.8,<3.12", "3.11", True), (">=3.8,<3.12", "3.13", False), (">3.11", "3.11", False), (">3.11.2", "3.11", True),
    ("<=3.11", "3.11", True), ("<3.11.4", "3.11", True), ("^3.9 || ^4", "3.13", True), (">=3.8 <3.12", "3.13", False), (">= 3.8, < 4", "3.13", True), (">=1.99", "1.24", False),
])
def test_specifier_forms(spec, offered, ok):
    assert matches(spec, offered) is ok


def test_an_unreadable_specifier_names_its_file():
    with pytest.raises(UsageError) as caught:
        matches(">=three", "3.11", "pyproject.toml requires-python")
    assert caught.value.message == "pyproject.toml requires-python: cannot read the version '>=three'"


def test_go_reads_the_go_line_and_a_toolchain_line_is_only_a_suggestion(tmp_path):
    app = tree(tmp_path, {"go.mod": "module x\n\ngo 1.22 // minimum\n\ntoolchain go1.23.4\n"})
    assert wanted_go(app, {}) == Wanted("go", ">=1.22", "go.mod (go 1.22, toolchain go1.23.4)")
    # written by a developer's Go newer than any stack's: GOTOOLCHAIN=local builds it with the newest a stack has
    (tmp_path / "newer").mkdir()
    newer = tree(tmp_path / "newer", {"go.mod": "module x\n\ngo 1.25.0\n\ntoolchain go1.28.1\n"})
    assert wanted_go(newer, {}) == Wanted("go", ">=1.25", "go.mod (go 1.25.0, toolchain go1.28.1)")
    assert wanted_go(tree(tmp_path, {"go.mod": "module x\ngo 1.21.0\n"}), {}) == Wanted("go", ">=1.21", "go.mod (go 1.21.0)")
    assert wanted_go(app, {"go-version": "1.24"}) == Wanted("go", "1.24", "s2i.toml build.go-version")
    assert wanted_go(tree(tmp_path, {"go.mod": "module x\n"}), {}) is None


@pytest.mark.parametrize("files, spec, source", [
    ({".python-version": "3.13\n"}, "3.13", ".python-version"),
    ({".python-version": "3.12.1\n", "runtime.txt": "python-3.11.4"}, "3.12", ".python-version"),
    ({"runtime.txt": "python-3.12.1\n"}, "3.12", "runtime.txt"),
    ({"pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.12"\n'}, ">=3.12", "pyproject.toml requires-python"),
    ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\n'}, "^3.11", "pyproject.toml [tool.poetry.dependencies] python"),
    ({"Pipfile": '[requires]\npython_version = "3.13"\n'}, "3.13", "Pipfile [requires]"),
])
def test_python_reads_each_version_file(tmp_path, files, spec, source):
    assert wanted_python(tree(tmp_path, files), {}) == Wanted("python", spec, source)


def test_python_setting_wins_and_no_file_asks_nothing(tmp_path):
    app = tree(tmp_path, {".python-version": "system\n", "requirements.txt": "flask\n",
                          "pyproject.toml": 'tool = "not a table"\nproject = 3\n', "Pipfile": "requires = []\n"})
    assert wanted_python(app, {}) is None
    assert wanted_python(app, {"python-version": ">=3.12"}) == Wanted("python", ">=3.12", "s2i.toml build.python-version")


def stack(name: str, go: tuple[str, ...], python: tuple[str, ...]) -> Stack:
    return Stack(name, Path(f"/stacks/{name}.toml"), name.split("-")[1], "amd64", Builder(("x",)), {},
                 toolchains=(("go", go), ("python", python)))


STACKS = [stack("debian-bookworm", ("1.19", "1.23"), ("3.11",)), stack("debian-trixie", ("1.24",), ("3.13",))]


def test_the_default_stack_serves_an_app_that_asks_nothing_or_what_it_has():
    """debian-trixie, the newest Debian stable, is the default: bookworm only serves what trixie has not."""
    assert choose("python", None, STACKS, None) == RuntimeChoice("python", "3.13", "debian-trixie", "no version asked; what stack debian-trixie has",
                                                                 (("3.11", "debian-bookworm"),))
    choice = choose("go", Wanted("go", ">=1.22", "go.mod (go 1.22)"), STACKS, None)
    assert (choice.version, choice.stack) == ("1.24", "debian-trixie")
    assert choice.step_input() == {"language": "go", "version": "1.24", "bin": "/usr/lib/go-1.24/bin"}


def test_a_version_only_another_stack_has_moves_to_it_and_says_why():
    choice = choose("python", Wanted("python", "3.11", ".python-version"), STACKS, None)
    assert choice.describe() == "python 3.11 on stack debian-bookworm: .python-version asks python 3.11; the newest that meets it (debian-trixie has 3.13)"
    choice = choose("go", Wanted("go", "<1.24", "s2i.toml build.go-version"), STACKS, None)
    assert (choice.version, choice.stack) == ("1.23", "debian-bookworm")
    assert choose("python", None, STACKS, "debian-bookworm").stack == "debian-bookworm"  # still there when named


def test_the_other_versions_the_ask_allows_reach_the_python_step():
    assert choose("python", None, STACKS, None).step_input() == {
        "language": "python", "version": "3.13", "others": [["3.11", "debian-bookworm"]]}
    assert choose("python", Wanted("python", ">=3.12", "pyproject.toml requires-python"), STACKS, None).others == ()
    assert choose("python", None, STACKS, "debian-trixie").others == ()  # a named stack: only its own
    assert "others" not in choose("go", None, STACKS, None).step_input()


def test_unsatisfiable_names_the_ask_the_offers_and_the_setting():
    with pytest.raises(UsageError) as caught:
        choose("go", Wanted("go", ">=1.99", "go.mod (go 1.99)"), STACKS, None)
    assert caught.value.message == ("go.mod (go 1.99) asks go >=1.99, but no stack offers it "
                                    "(debian-trixie go 1.24, debian-bookworm go 1.19 1.23)")
    assert caught.value.hint == "change go.mod, or set build.go-version in s2i.toml to a version a stack offers"
    with pytest.raises(UsageError) as caught:
        choose("python", Wanted("python", "3.13", ".python-version"), STACKS, "debian-bookworm")
    assert caught.value.message == ".python-version asks python 3.13, but no stack offers it (debian-bookworm python 3.11)"
    assert caught.value.hint == "drop stack = 'debian-bookworm' from s2i.toml (or --stack) so another stack may serve it, or change .python-version"


def test_the_repo_stacks_serve_the_fixture_apps():
    """The committed stacks: trixie is the default; an app asking Python 3.11 gets bookworm's builder and run base."""
    python = get_buildpack("python")
    found, choice = choose_runtime(python, REPO / "tests/apps/py-version-pinned", {}, None)
    assert (found.name, choice.version) == ("debian-trixie", "3.13")
    assert found.bases["python"].packages[0] == "python3.13-minimal"
    found, choice = choose_runtime(get_buildpack("go"), REPO / "tests/apps/go-toolchain", {}, None)
    assert (found.name, choice.version) == ("debian-trixie", "1.26")
    found, choice = choose_runtime(python, REPO / "tests/apps/py-cli", {}, None)
    assert (found.name, choice.version) == ("debian-trixie", "3.13")
    found, choice = choose_runtime(python, REPO / "tests/apps/py-cli", {"python-version": "3.11"}, None)
    assert (found.name, choice.version) == ("debian-bookworm", "3.11")
    assert found.bases["python"].packages[0] == "python3.11-minimal"
    assert choose_runtime(get_buildpack("c"), REPO / "examples/c-hello", {}, None)[0].name == "debian-trixie"


def test_host_sources_are_pointed_at_another_suite(tmp_path, monkeypatch):
    (tmp_path / "sources.list").write_text(
        "deb http://mirror.example/debian bookworm main\ndeb [signed-by=/k.gpg] http://mirror.example/debian-security bookworm-security main\n"
        "deb https://vendor.example/apt stable main\n")
    (tmp_path / "d.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: https://vendor.example/apt\nSuites: nodistro\nComponents: main\n")
    monkeypatch.setattr(debian, "HOST_SOURCES", [str(tmp_path / "sources.list"), str(tmp_path / "d.sources")])
    assert debian.suite_sources("trixie", ("trixie-backports",), host="bookworm") == [
        ("00-trixie.list", "deb http://mirror.example/debian trixie main\ndeb http://mirror.example/debian trixie-backports main\n"
                           "deb [signed-by=/k.gpg] http://mirror.example/debian-security trixie-security main\n"),
        ("01-trixie.sources", "Types: deb\nURIs: http://mirror.example/debian\nSuites: trixie trixie-updates trixie-backports\nComponents: main\n"),
    ]
    with pytest.raises(Exception) as caught:
        debian.suite_sources("trixie", host="noble")
    assert "name no noble suite" in str(caught.value)
