"""The source copy: Docker's ignore dialect, links resolved like a chroot, special files and odd names."""

import os
import signal
import socket
from pathlib import Path

import pytest

from s2i.build.ignore import compile_rules, is_ignored
from s2i.build.source import copy_source, resolve_inside
from s2i.errors import UsageError


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def copied(dest: Path) -> list[str]:
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if not p.is_dir())


@pytest.fixture(autouse=True)
def bounded():
    """A copy that waits on a FIFO would hang the suite: give every test 20 s."""
    signal.alarm(20)
    yield
    signal.alarm(0)


@pytest.mark.parametrize("pattern, path, ignored", [
    ("*.md", "README.md", True),
    ("*.md", "docs/a.md", False),  # `*` does not cross /
    ("**/*.md", "docs/x/a.md", True),
    ("**/*.md", "a.md", True),
    ("docs/**", "docs/a/b.txt", True),
    ("build", "build/deep/x.o", True),
    ("build", "src/build", False),  # anchored at the root
    ("/build/", "build/x", True),
    ("./build", "build/x", True),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("?.c", "a.c", True),
    ("?.c", "ab.c", False),
    ("?.c", "d/a.c", False),
    ("[ab].c", "b.c", True),
    ("[^ab].c", "b.c", False),
    ("a+b(c).txt", "a+b(c).txt", True),
    ("src/../secret", "secret", True),
])
def test_docker_pattern_dialect(pattern, path, ignored):
    assert is_ignored(path, compile_rules([pattern], "test")) == ignored


def test_an_exception_below_an_ignored_directory_is_honoured(tmp_path):
    app = tree(tmp_path / "app", {"main.py": "", "secret.txt": "", "lib/a.py": "", "lib/b.txt": "", "lib/deep/c.py": "",
                                  "docs/d.py": "", ".dockerignore": "*\n!lib/*.py\n"})
    copy_source(app, tmp_path / "out")
    assert copied(tmp_path / "out") == ["lib/a.py"]
    (app / ".dockerignore").write_text("*\n!**/*.py\ndocs\n")
    copy_source(app, tmp_path / "out2")
    assert copied(tmp_path / "out2") == ["lib/a.py", "lib/deep/c.py", "main.py"]


def test_exclude_from_settings_and_git_files_are_left_out(tmp_path):
    app = tree(tmp_path / "app", {"main.c": "", "secret.txt": "", "sub/secret.txt": "", ".git": "gitdir: /elsewhere\n"})
    assert copy_source(app, tmp_path / "out", exclude=("secret.txt",)) == 2
    assert copied(tmp_path / "out") == ["main.c", "sub/secret.txt"]
    copy_source(app, tmp_path / "out2", include=("**/*.txt",))
    assert copied(tmp_path / "out2") == ["secret.txt", "sub/secret.txt"]


def test_a_link_that_leaves_the_tree_through_other_links_is_refused(tmp_path):
    app = tree(tmp_path / "app", {"main.c": "", "a/b/keep": ""})
    os.symlink("../..", app / "a" / "b" / "up")  # back to the app root: inside
    os.symlink("a/b/up/..", app / "escape")  # reads as a/b, but a/b/up/.. is the app's parent
    assert resolve_inside(app, "a/b/up") == ""
    assert resolve_inside(app, "escape") is None
    with pytest.raises(UsageError) as caught:
        copy_source(app, tmp_path / "out")
    assert caught.value.message == "escape is a symlink to a/b/up/.., outside the app"


@pytest.mark.parametrize("target, inside", [
    ("src/../main.c", "main.c"), ("lib/../main.c", "main.c"), ("lib/x.c", "src/x.c"), ("missing/../../x", None),
    ("/etc/passwd", None), ("loop", None), ("../app/main.c", None),
])
def test_links_resolve_like_a_chroot(tmp_path, target, inside):
    app = tree(tmp_path / "app", {"main.c": "", "src/x.c": ""})
    os.symlink("src", app / "lib")
    os.symlink("loop", app / "loop")
    os.symlink(target, app / "link")
    assert resolve_inside(app, "link") == inside


def test_fifos_and_sockets_are_skipped_never_waited_on(tmp_path, capsys):
    app = tree(tmp_path / "app", {"main.c": ""})
    os.mkfifo(app / "pipe")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(app / "sock"))
        assert copy_source(app, tmp_path / "out") == 1
    assert copied(tmp_path / "out") == ["main.c"]
    assert "skipping pipe: not a file, directory or link" in capsys.readouterr().err
    os.mkfifo(app / ".dockerignore")
    with pytest.raises(UsageError) as caught:
        copy_source(app, tmp_path / "out2")
    assert ".dockerignore is not a regular file" in caught.value.message


def test_a_name_that_is_not_utf8_is_one_line_unless_ignored(tmp_path):
    app = tree(tmp_path / "app", {"main.c": ""})
    (Path(os.fsdecode(bytes(app) + b"/caf\xe9.txt"))).write_text("x")
    with pytest.raises(UsageError) as caught:
        copy_source(app, tmp_path / "out")
    assert caught.value.one_line() == "caf\\xe9.txt: the name is not valid UTF-8 (rename it, or list it in .s2iignore)"
    (app / ".s2iignore").write_text("caf*\n")
    assert copy_source(app, tmp_path / "out2") == 2


def test_a_deep_tree_is_copied_without_recursion(tmp_path):
    app = tree(tmp_path / "app", {"main.c": ""})
    deep = str(app)
    for _ in range(1100):
        deep += "/d"
        os.mkdir(deep)
    Path(deep, "leaf").write_text("x")
    try:
        assert copy_source(app, tmp_path / "out") == 2
        assert (tmp_path / "out" / os.path.relpath(deep, app) / "leaf").read_text() == "x"
    finally:  # bottom up: pytest's own cleanup recurses and would fail on this depth
        for base in (str(app), str(tmp_path / "out")):
            path = base + "/d" * 1100
            Path(path, "leaf").unlink(missing_ok=True)
            while len(path) > len(base) and os.path.isdir(path):
                os.rmdir(path)
                path = os.path.dirname(path)


def test_an_ignore_file_that_leads_out_or_is_not_text_is_one_line(tmp_path):
    app = tree(tmp_path / "app", {"main.c": ""})
    os.symlink("../../../../../../../etc/passwd", app / ".dockerignore")
    with pytest.raises(UsageError, match="is a symlink that leads out of the app"):
        copy_source(app, tmp_path / "out")
    os.unlink(app / ".dockerignore")
    (app / ".dockerignore").write_bytes(b"\xff\xfe*\n")
    with pytest.raises(UsageError, match="is not UTF-8 text"):
        copy_source(app, tmp_path / "out")
    (app / ".dockerignore").write_text("[abc\n")
    with pytest.raises(UsageError, match=r"has a \[ without its \]"):
        copy_source(app, tmp_path / "out")
