"""Cross builds that try to ship the wrong machine's code: refused, nothing pushed."""

from __future__ import annotations

import pytest

from s2i.errors import EXIT_BUILD

pytestmark = pytest.mark.e2e


def test_a_makefile_calling_the_host_compiler_by_path_ships_nothing(builder, registry, tmp_path):
    """/usr/bin/gcc is the builder's x86-64 compiler, past the cross wrappers on PATH: its program never reaches an arm64 image."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    # its own PATH too: the cross wrappers' `as` would otherwise stop the host gcc (a failed build, also nothing shipped)
    (app / "Makefile").write_text("hello: hello.c\n\tenv PATH=/usr/bin:/bin /usr/bin/gcc -static -o hello hello.c\n")
    before = len(registry.requests())
    result = builder("build", app, f"{registry.host}/wrong:1", "--platform", "linux/amd64,linux/arm64", "--run-image", "scratch",
                     timeout=900)
    assert result.returncode == EXIT_BUILD, result.stderr
    assert ("s2i: error: hello was built for x86-64, not linux/arm64: the build ran a compiler other than $CC "
            "(aarch64-linux-gnu-gcc)") in result.stderr
    assert not [r for r in registry.requests()[before:] if r.method in ("PUT", "POST")]  # not even the amd64 image
