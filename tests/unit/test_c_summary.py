"""The one-line summary of a failed build: the step's own verdict wins over an earlier make error in the tail."""

from __future__ import annotations

from s2i.build.sandbox import summary_line


def test_the_steps_own_line_wins_over_an_install_error_before_it():
    tail = ["install: cannot create regular file '/usr/local/bin/kv-server': Read-only file system",
            "make: *** [Makefile:16: install] Error 1", "the install target failed; taking the program from the build tree",
            "s2i: expected one new program, found 2: src/kv-cli src/kv-server; name it in s2i.toml", ""]
    assert summary_line(tail) == "s2i: expected one new program, found 2: src/kv-cli src/kv-server; name it in s2i.toml"


def test_without_a_verdict_the_last_error_line_then_the_last_line():
    assert summary_line(["cc -c a.c", "a.c:1: error: x", "make: *** [all] Error 1", "Try --help"]) == "make: *** [all] Error 1"
    assert summary_line(["one", "two  ", "   "]) == "two"
    assert summary_line([]) == "no output"
