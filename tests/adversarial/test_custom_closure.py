"""The native closure reads what a build leaves as hostile data: links, FIFOs and broken ELF files derail nothing."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import run_image, skopeo_inspect

pytestmark = pytest.mark.e2e

# Each command is data for the step; what they leave beside the app is what the closure must read safely.
S2I_TOML = r'''
[build]
commands = [
    "printf 'int f(void) { return 0; }\n' > native.c && gcc -shared -fPIC -Wl,--no-as-needed -o native.so native.c /usr/lib/x86_64-linux-gnu/libmagic.so.1",
    "gcc -shared -fPIC -Wl,-soname,libnowhere.so.9 -o libnowhere.so.9 native.c && gcc -shared -fPIC -Wl,--no-as-needed -o lost.so native.c ./libnowhere.so.9 && rm libnowhere.so.9 native.c",
    ["mkfifo", "trap.so"],
    ["ln", "-s", "/usr/lib/x86_64-linux-gnu/libmagic.so.1", "link.so"],
    ["python", "-c", 'open("broken.so", "wb").write(bytes([127, 69, 76, 70, 2, 1, 1] + [0] * 33 + [255] * 8 + [0] * 64))'],
]
'''
APP = 'import ctypes\n\nif __name__ == "__main__":\n    ctypes.CDLL("/app/native.so")\n    print("native.so loaded")\n'


def test_closure_adds_what_the_apps_own_native_code_needs_and_shrugs_at_hostile_files(builder, registry, tmp_path):
    app = tmp_path / "native"
    app.mkdir()
    (app / "app.py").write_text(APP)
    (app / "s2i.toml").write_text(S2I_TOML)
    result = builder("build", app, f"{registry.host}/native:1", timeout=600)
    assert result.returncode == 0, result.stderr
    assert "native code needs libmagic.so.1 (needed by app/native.so), which the run base lacks: adding libmagic1" in result.stderr
    assert "warning: no Debian package of the builder provides libnowhere.so.9 (needed by app/lost.so)" in result.stderr
    reference = result.stdout.strip()
    labels = skopeo_inspect(f"docker://{reference}", config=True)["config"]["Labels"]
    assert "libmagic1t64=" in labels["io.s2i.run.packages"]  # trixie's name (the default stack) for libmagic1
    run = run_image(f"docker://{reference}")
    assert (run.returncode, run.stdout) == (0, "native.so loaded\n"), run.stderr
