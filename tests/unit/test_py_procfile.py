"""A Procfile line's `;` and `&&` become the launcher's steps; other shell operators are refused in one line."""

import pytest

from s2i.buildpacks.base import procfile_command
from s2i.buildpacks.steps import common
from s2i.errors import UsageError


def procfile(tmp_path, line):
    (tmp_path / "Procfile").write_text(f"web: {line}\n")
    return procfile_command(tmp_path)


def test_steps_before_the_app_are_counted_for_the_launcher(tmp_path):
    assert procfile(tmp_path, "flask db upgrade; flask translate compile; gunicorn microblog:app") == [
        "--s2i-then=3", "flask", "db", "upgrade", "--s2i-then=3", "flask", "translate", "compile", "gunicorn", "microblog:app"]
    assert procfile(tmp_path, "python manage.py migrate&&gunicorn -b :$PORT x.wsgi") == [
        "--s2i-and=3", "python", "manage.py", "migrate", "gunicorn", "-b", ":$PORT", "x.wsgi"]
    assert procfile(tmp_path, 'echo "a;b" ${X:-1}') == ["echo", "a;b", "${X:-1}"]  # quoted and braced text stays
    assert procfile(tmp_path, "serve;") == ["serve"]


@pytest.mark.parametrize("line, operator", [("a | tee log", "|"), ("a > log 2>&1", ">"), ("a & b", "&"), ("a || b", "||")])
def test_other_shell_operators_are_one_line_naming_the_fix(tmp_path, line, operator):
    with pytest.raises(UsageError) as caught:
        procfile(tmp_path, line)
    assert caught.value.message == f"Procfile: the web: line uses the shell's {operator!r}, and the image has no shell"
    assert "`;` and `&&`" in caught.value.hint


def test_each_step_and_the_app_get_their_first_word_resolved():
    words = ["--s2i-then=2", "bin/migrate", "-v", "--s2i-and=1", "env", "./bin/httpd", "-addr", ":$PORT"]
    assert common.program_command(words, "httpd", "/app") == [
        "--s2i-then=2", "/app/bin/migrate", "-v", "--s2i-and=1", "env", "/app/httpd", "-addr", ":$PORT"]
    assert common.each_command(["gunicorn", "--s2i-then=1"], str.upper) == ["GUNICORN", "--s2i-then=1"]
