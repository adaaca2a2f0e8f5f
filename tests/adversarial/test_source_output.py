"""A build that leaves symlinks to host paths in its output gets one line; nothing of the host is stored or pushed."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

MAIN_C = '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n'


def planting_app(root: Path, *commands: str) -> Path:
    """A C app whose `make` builds ./hello, then runs `commands` (which plant links under /s2i/out)."""
    root.mkdir(parents=True)
    (root / "main.c").write_text(MAIN_C)
    recipe = "".join(f"\t{line}\n" for line in ("$(CC) -O2 -o hello main.c", *commands))
    (root / "Makefile").write_text(f"hello: main.c\n{recipe}")
    return root


def blob_texts(paths) -> list[bytes]:
    texts = []
    for path in paths:
        data = path.read_bytes()
        texts.append(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    return texts


def store_blobs(cache: Path) -> set[Path]:
    return set((cache / "s2i" / "blobs").rglob("*"))


# The link targets are host paths under the test's tmp dir. Inside the sandbox /tmp is a private
# tmpfs, so the step's own writes through the link land there and the build itself succeeds.
CASES = {
    "layers/app": ("mkdir -p {host_dir}", "ln -s {host_dir} /s2i/out/layers/app"),
    "launch.json": ("mkdir -p {host_dir}", "ln -s {host_dir}/launch.json /s2i/out/launch.json"),
    "meta/app.json": ("mkdir -p /s2i/out/meta", "ln -s {host_dir}/launch.json /s2i/out/meta/app.json"),
}


@pytest.mark.parametrize("planted", CASES)
def test_a_symlink_left_in_the_output_is_refused(builder, registry, tmp_path, planted):
    secret = f"host-secret-{uuid.uuid4().hex}"
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    (host_dir / "secret.txt").write_text(secret)
    (host_dir / "launch.json").write_text(json.dumps({"entrypoint": ["/app/hello"], "labels": {"leak": secret}}))
    app = planting_app(tmp_path / "app", *(line.format(host_dir=host_dir) for line in CASES[planted]))
    before = store_blobs(builder.cache)
    result = builder("build", app, f"{registry.host}/planted:1", timeout=600)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"s2i: error: the build left a symlink{' or special file' if planted.endswith('.json') else ''} at /s2i/out/{planted}: "
        "refusing (a build writes plain files and directories under /s2i/out; check the app's build scripts)")
    assert registry.manifest_tags("planted") == set()
    pushed = registry.storage.glob("docker/registry/v2/blobs/*/*/*/data")
    stored = [p for p in store_blobs(builder.cache) - before if p.is_file()]
    assert not [text for text in blob_texts([*pushed, *stored]) if secret.encode() in text]
    assert secret not in result.stdout + result.stderr
