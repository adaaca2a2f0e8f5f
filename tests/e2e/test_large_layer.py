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


def test_one_gib_layer_pushes_under_200_mb_rss(tmp_path, s2i, registry):
    layer = tmp_path / "big"
    layer.mkdir()
    with open(layer / "random.bin", "wb") as out:
        for _ in range(GIB // (16 << 20)):
            out.write(os.urandom(16 << 20))
    env = dict(os.environ, HOME=str(s2i.home), XDG_CACHE_HOME=str(s2i.cache), PYTHONPATH=str(REPO_ROOT))
    target = f"{registry.host}/t/big:1"
    with open(tmp_path / "stderr", "wb") as err:
        # wait4 rather than Popen.wait: it returns the child's own rusage, ru_maxrss included
        process = subprocess.Popen(
            [sys.executable, "-P", "-m", "s2i", "append", "scratch", target, "--layer", str(layer)],
            env=env, stdout=subprocess.DEVNULL, stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, (tmp_path / "stderr").read_text()
    print(f"peak RSS pushing a 1 GiB layer: {usage.ru_maxrss / 1024:.0f} MB")
    assert usage.ru_maxrss < RSS_LIMIT_KB
    info = skopeo_inspect(f"docker://{target}", raw=True)
    assert info["layers"][0]["size"] > GIB
