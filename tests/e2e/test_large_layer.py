"""A 1 GiB layer streams through tar, gzip, the store and a chunked upload in flat memory."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import skopeo_inspect

pytestmark = pytest.mark.e2e
GIB = 1 << 30
RSS_LIMIT_KB = 200 * 1024
# Runs argv with its output to /dev/null, prints its peak RSS in KiB (wait4 gives the child's own
# rusage) and exits with its status.
PEAK_RSS_SHIM = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_one_gib_layer_pushes_under_200_mb_rss(tmp_path, s2i, registry):
    layer = tmp_path / "big"
    layer.mkdir()
    with open(layer / "random.bin", "wb") as out:
        for _ in range(GIB // (16 << 20)):
            out.write(os.urandom(16 << 20))
    env = dict(os.environ, HOME=str(s2i.home), XDG_CACHE_HOME=str(s2i.cache), PYTHONPATH=str(REPO_ROOT))
    target = f"{registry.host}/t/big:1"
    with open(tmp_path / "stderr", "wb") as err:
        # Measured from a small shim: a child exec'd straight from this process inherits pytest's own
        # peak RSS as its ru_maxrss floor (Linux carries the old mm's high-water mark across exec).
        process = subprocess.run(
            [sys.executable, "-c", PEAK_RSS_SHIM, sys.executable, "-P", "-m", "s2i", "append", "scratch", target,
             "--layer", str(layer)],
            env=env, stdout=subprocess.PIPE, stderr=err, text=True,
        )
    assert process.returncode == 0, (tmp_path / "stderr").read_text()
    peak_kb = int(process.stdout)
    print(f"peak RSS pushing a 1 GiB layer: {peak_kb / 1024:.0f} MB")
    assert peak_kb < RSS_LIMIT_KB
    info = skopeo_inspect(f"docker://{target}", raw=True)
    assert info["layers"][0]["size"] > GIB
