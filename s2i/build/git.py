"""What a build records of the app's git checkout: origin URL, commit and commit time."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git_info(app: Path) -> dict[str, str]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(app), *args], capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    if not git("rev-parse", "--is-inside-work-tree"):
        return {}
    return {"source": git("config", "--get", "remote.origin.url"), "revision": git("rev-parse", "HEAD"), "time": git("log", "-1", "--format=%ct")}
