"""The CLI starts fast: importing it loads no HTTP, compression or templating library."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import REPO_ROOT

HEAVY = ("httpx", "zstandard", "jinja2", "tomli")


def test_importing_the_cli_loads_no_heavy_library():
    code = "import sys, s2i.cli; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in %r)))" % (HEAVY,)
    result = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                            env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}, check=True)
    assert result.stdout.strip() == ""


def test_stages_never_import_the_stages_above_them():
    """cli > commands > build > buildpacks > stack > transports > archive > store > oci: imports only point down."""
    order = ["oci", "store", "archive", "transports", "stack", "buildpacks", "build", "commands", "cli"]
    for path in sorted((REPO_ROOT / "s2i").rglob("*.py")):
        parts = path.relative_to(REPO_ROOT / "s2i").with_suffix("").parts
        stage = parts[0] if parts[0] in order else None
        if stage is None:
            continue
        for line in path.read_text().splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("from", "import") and words[1].startswith("s2i."):
                target = words[1].split(".")[1]
                if target in order:
                    assert order.index(target) <= order.index(stage), f"{path.relative_to(REPO_ROOT)} imports s2i.{target}: {line.strip()}"
