"""Running commands with their output kept in a log, timing them, and a throwaway docker-registry on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


class CommandFailed(Exception):
    pass


def run(argv, log: Path, env: dict | None = None, cwd: Path | None = None) -> str:
    """Runs argv with stderr appended to log; returns stdout. A failure raises with the log's last lines."""
    argv = [str(arg) for arg in argv]
    with open(log, "a") as handle:
        handle.write("+ " + " ".join(argv) + "\n")
        handle.flush()
        result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=handle, text=True, env=env, cwd=cwd)
        handle.write(result.stdout)
    if result.returncode:
        tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
        raise CommandFailed(f"{argv[0]} exited {result.returncode} (log: {log}):\n{tail}")
    return result.stdout


def timed(function, *args):
    """(seconds, result) of one call, on the monotonic clock."""
    start = time.monotonic()
    result = function(*args)
    return time.monotonic() - start, result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Registry:
    """A docker-registry with filesystem storage; what it received is read from that storage."""

    def __init__(self, work: Path):
        self.work = work
        self.storage = work / "storage"
        self.port = free_port()
        self.process = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        config = self.work / "config.yml"
        config.write_text(
            "version: 0.1\nlog: {level: warn}\n"
            f"storage: {{filesystem: {{rootdirectory: {self.storage}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: {self.host}}}\n"
        )
        log = open(self.work / "registry.log", "a")
        self.process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=log)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise CommandFailed(f"docker-registry exited; see {self.work / 'registry.log'}")
                time.sleep(0.1)
        raise CommandFailed(f"docker-registry did not answer on {self.host}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def reset(self) -> None:
        """Empty storage, so a first push is measured against a registry that has none of its blobs."""
        self.stop()
        shutil.rmtree(self.storage, ignore_errors=True)
        self.start()

    def blob_path(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        return self.storage / "docker/registry/v2/blobs" / algorithm / hexdigest[:2] / hexdigest / "data"

    def blob_bytes(self) -> int:
        """Bytes of every blob stored (layers, configs, manifests): its growth is what a push uploaded."""
        root = self.storage / "docker/registry/v2/blobs"
        return sum(path.stat().st_size for path in root.rglob("data")) if root.is_dir() else 0
