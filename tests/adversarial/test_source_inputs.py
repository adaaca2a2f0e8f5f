"""Hostile sources end to end: a .git whose config names scripts, special files and ignore rules, a log on a full disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import run_image, skopeo_inspect

pytestmark = pytest.mark.e2e
COMMIT_TIME = 1_700_000_000
TOKEN = "s3cret-deploy-token"


def git(repo: Path, *args: str) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(repo.parent), "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
           "GIT_AUTHOR_DATE": f"{COMMIT_TIME} +0000", "GIT_COMMITTER_DATE": f"{COMMIT_TIME} +0000",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example"}
    return subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, timeout=30, check=True).stdout.strip()


def hostile_checkout(tmp_path: Path) -> tuple[Path, str, Path]:
    """c-hello in a repo whose HEAD is a signed commit and whose config names a marker-writing script everywhere."""
    app = Path(shutil.copytree(REPO_ROOT / "examples" / "c-hello", tmp_path / "app"))
    git(app, "init", "-q", "-b", "main")
    git(app, "add", ".")
    git(app, "commit", "-qm", "one")
    commit_text = (f"tree {git(app, 'rev-parse', 'HEAD^{tree}')}\nauthor t <t@example> {COMMIT_TIME} +0000\n"
                   f"committer t <t@example> {COMMIT_TIME} +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n"
                   " -----END PGP SIGNATURE-----\n\nsigned\n")
    (tmp_path / "commit.txt").write_text(commit_text)
    commit = git(app, "hash-object", "-t", "commit", "-w", str(tmp_path / "commit.txt"))
    git(app, "update-ref", "refs/heads/main", commit)
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\n")
    script.chmod(0o755)
    with open(app / ".git" / "config", "a") as config:
        config.write(f"[core]\n\tfsmonitor = {script}\n\thooksPath = {tmp_path}\n[gpg]\n\tprogram = {script}\n"
                     f"[log]\n\tshowSignature = true\n[remote \"origin\"]\n\turl = https://deploy:{TOKEN}@git.example/team/app.git\n")
    return app, commit, marker


def test_a_hostile_git_checkout_runs_nothing_and_still_dates_the_image(builder, registry, tmp_path):
    app, commit, marker = hostile_checkout(tmp_path)
    result = builder("build", app, f"{registry.host}/git/app:1", timeout=600)
    assert result.returncode == 0, result.stderr
    assert not marker.exists(), marker.read_text()
    manifest = skopeo_inspect(f"docker://{registry.host}/git/app:1", raw=True)
    annotations = manifest["annotations"]
    assert annotations["org.opencontainers.image.revision"] == commit
    assert annotations["org.opencontainers.image.source"] == "https://git.example/team/app.git"
    assert annotations["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
    config = skopeo_inspect(f"docker://{registry.host}/git/app:1", config=True)
    assert TOKEN not in json.dumps(manifest) + json.dumps(config) + result.stdout + result.stderr
    assert run_image(f"docker://{registry.host}/git/app:1").stdout == "hello world\n"


def test_special_files_and_ignore_exceptions_in_the_source(builder, registry, tmp_path):
    """`*` then `!` exceptions keep src/*.c; a FIFO is skipped, not waited on; the build lists what it was given."""
    app = tmp_path / "app"
    (app / "src" / "deep").mkdir(parents=True)
    (app / "src" / "main.c").write_text('#include <stdio.h>\nint main(void){puts("kept");return 0;}\n')
    (app / "src" / "notes.txt").write_text("dropped\n")
    (app / "src" / "deep" / "x.c").write_text("int unused;\n")
    (app / "secret.txt").write_text("dropped\n")
    (app / "Makefile").write_text("hello: src/main.c\n\t@find . -type f -o -type p | sort | sed 's/^/seen: /'\n"
                                  "\t$(CC) -O2 -o hello src/main.c\n")
    (app / ".dockerignore").write_text("*\n!Makefile\n!src/*.c\n")
    os.mkfifo(app / "src" / "pipe.c")  # kept by the rules, so only its type can keep it out
    result = builder("build", app, f"{registry.host}/tree/app:1", timeout=600)
    assert result.returncode == 0, result.stderr
    seen = sorted(line.split("seen: ", 1)[1] for line in result.stderr.splitlines() if "seen: " in line)
    assert seen == ["./Makefile", "./src/main.c"]
    assert run_image(f"docker://{registry.host}/tree/app:1").stdout == "kept\n"


def test_a_log_on_a_full_disk_is_one_line_and_pushes_nothing(builder, registry):
    result = builder("build", REPO_ROOT / "examples" / "c-hello", f"{registry.host}/full/app:1", "--log", "/dev/full", timeout=600)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "s2i: error: No space left on device (free some disk space, then run it again)"
    assert registry.manifest_tags("full/app") == set()
