"""Brings what both sides start from into place, once: s2i's stack, and buildah's base images and storage."""

from __future__ import annotations

import glob
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

from sides import buildah_env, s2i_env
from tools import CommandFailed, run

DEBIAN = "127.0.0.1/bench-base/debian:bookworm"
PYTHON = "127.0.0.1/bench-base/python:3-bookworm"
BUILDER = "127.0.0.1/bench-base/s2i-builder:stack"
# local names only: buildah finds them in its storage and never asks a registry for them
BASE_IMAGES = (DEBIAN, PYTHON, BUILDER)
STACK = "debian-trixie"  # s2i's default stack (s2i/stack/files.py DEFAULT_STACK), what `s2i build` uses in the bench


def ensure_tools(log: Path) -> None:
    """buildah is the one tool here that ./dev does not install yet."""
    if not shutil.which("buildah"):
        run(["apt-get", "update", "-q"], log)
        run(["apt-get", "install", "-y", "-q", "buildah"], log)
    if importlib.util.find_spec("matplotlib") is None:
        run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"], log)


def ensure_stack(repo: Path, cache: Path, log: Path) -> str:
    """The default stack in the bench's own store; returns the builder's digest. Built only when missing."""
    env = s2i_env(repo, cache)
    s2i = [sys.executable, "-m", "s2i"]
    if not all(image.get("digest") for image in _stack_images(s2i, env, repo, log) if image["kind"] in ("builder", "packages")):
        try:
            run([*s2i, "stack", "build"], log, env=env, cwd=repo)
        except CommandFailed:
            # the committed lock names versions the archive may no longer have
            run([*s2i, "stack", "build", "--update"], log, env=env, cwd=repo)
    return next(image["digest"] for image in _stack_images(s2i, env, repo, log) if image["name"] == "builder")


def _stack_images(s2i: list, env: dict, repo: Path, log: Path) -> list[dict]:
    stacks = json.loads(run([*s2i, "stack", "list", "--json"], log, env=env, cwd=repo))["stacks"]
    return next(stack["images"] for stack in stacks if stack["stack"] == STACK)


def write_storage_conf(state: Path) -> None:
    """buildah gets storage of its own, so nothing of the machine's (or another user's) is touched."""
    state.mkdir(parents=True, exist_ok=True)
    (state / "storage.conf").write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{state}/containers/storage"\nrunroot = "{state}/containers/run"\n'
    )


def has_image(name: str, env: dict) -> bool:
    return subprocess.run(["buildah", "inspect", "--type", "image", name], env=env, capture_output=True).returncode == 0


def make_debian(state: Path, env: dict, log: Path) -> None:
    """A bookworm minbase from the host's apt sources (Docker Hub is out of reach), imported as an image."""
    tarball = state / "minbase.tar"
    sources = sorted(glob.glob("/etc/apt/sources.list.d/*.sources")) or ["/etc/apt/sources.list"]
    run(["mmdebstrap", "--variant=minbase", "bookworm", tarball, *sources], log)
    container = run(["buildah", "from", "scratch"], log, env=env).strip()
    run(["buildah", "add", container, tarball, "/"], log, env=env)
    run(["buildah", "config", "--cmd", "bash", container], log, env=env)
    run(["buildah", "commit", "--quiet", container, DEBIAN], log, env=env)
    run(["buildah", "rm", container], log, env=env)
    tarball.unlink()


def make_python(dockerfiles: Path, state: Path, env: dict, log: Path) -> None:
    empty = state / "empty-context"
    empty.mkdir(exist_ok=True)
    run(["buildah", "build", "--isolation", "chroot", "-f", dockerfiles / "python-base.Dockerfile", "-t", PYTHON, empty],
        log, env=env)


def import_builder(repo: Path, cache: Path, state: Path, digest: str, env: dict, log: Path) -> None:
    """s2i's builder image into buildah, re-imported when the stack's builder changed."""
    marker = state / "builder.digest"
    if has_image(BUILDER, env) and marker.is_file() and marker.read_text() == digest:
        return
    layout = state / "builder-oci"
    shutil.rmtree(layout, ignore_errors=True)
    run([sys.executable, "-m", "s2i", "copy", f"store:stacks/{STACK}/builder", f"oci:{layout}:builder"], log,
        env=s2i_env(repo, cache), cwd=repo)
    image_id = run(["buildah", "pull", "--quiet", f"oci:{layout}:builder"], log, env=env).strip()
    run(["buildah", "tag", image_id, BUILDER], log, env=env)
    # the pull also names the image after the layout's path; only BUILDER should name it
    images = json.loads(run(["buildah", "images", "--json"], log, env=env))
    extra = [name for image in images if image_id.startswith(image["id"]) for name in image["names"] if name != BUILDER]
    if extra:
        run(["buildah", "rmi", *extra], log, env=env)
    shutil.rmtree(layout)
    marker.write_text(digest)


def warm_rootfs(repo: Path, cache: Path, apps: Path, log: Path) -> None:
    """One untimed s2i build unpacks the builder's rootfs, as buildah's storage holds its bases unpacked."""
    run([sys.executable, "-m", "s2i", "build", apps, "store:builds/bench-warmup"], log, env=s2i_env(repo, cache), cwd=repo)


def prepare(repo: Path, cache: Path, state: Path, warmup_app: Path, log: Path) -> None:
    ensure_tools(log)
    digest = ensure_stack(repo, cache, log)
    write_storage_conf(state)
    env = buildah_env(state)
    if not has_image(DEBIAN, env):
        make_debian(state, env, log)
    if not has_image(PYTHON, env):
        make_python(repo / "bench" / "dockerfiles", state, env, log)
    import_builder(repo, cache, state, digest, env, log)
    warm_rootfs(repo, cache, warmup_app, log)
