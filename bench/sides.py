"""The ways of building an app's image that are compared: s2i, and a Dockerfile built with buildah."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from tools import run, timed

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CA_IN_BUILD = "/run/bench-ca.crt"


def s2i_env(repo: Path, cache: Path) -> dict:
    return {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(repo)}


def buildah_env(state: Path) -> dict:
    return {**os.environ, "CONTAINERS_STORAGE_CONF": str(state / "storage.conf")}


class S2I:
    """`s2i build`: to the local store for build times, straight to the registry for edit-to-pushed."""

    label = "s2i"

    def __init__(self, repo: Path, cache: Path, logs: Path, flags: dict[str, tuple[str, ...]]):
        self.repo, self.cache, self.logs, self.flags = repo, cache, logs, flags
        self.env = s2i_env(repo, cache)

    def _s2i(self, app: Path, *args: str) -> str:
        log = self.logs / f"{app.name}-{self.label}.log"
        return run([sys.executable, "-m", "s2i", *args], log, env=self.env, cwd=self.repo).strip()

    def reset(self) -> None:
        """Every cache but the stack (its images and unpacked builder stay)."""
        for name in ("builds", "layers", "keyed"):
            shutil.rmtree(self.cache / "s2i" / name, ignore_errors=True)

    def _build(self, app: Path, destination: str) -> str:
        return self._s2i(app, "build", *self.flags.get(app.name, ()), str(app), destination)

    def build(self, app: Path) -> None:
        self._build(app, f"store:builds/bench-{app.name}")

    def push(self, app: Path, ref: str) -> str:
        return self._s2i(app, "copy", f"store:builds/bench-{app.name}", ref).rpartition("@")[2]

    def rebuild_round(self, app: Path, ref: str, edit) -> tuple[float, float, str]:
        """(rebuild s, edit-to-pushed s, digest): s2i pushes as it builds, so edit-to-pushed is its own edit and build."""
        edit()
        rebuild, _ = timed(self.build, app)
        edit()
        pushed, output = timed(self._build, app, ref)
        return rebuild, pushed, output.rpartition("@")[2]


class Buildah:
    """`buildah build --isolation chroot --layers` of bench/dockerfiles/APP[SUFFIX].Dockerfile, then `buildah push`."""

    def __init__(self, label: str, suffix: str, dockerfiles: Path, state: Path, logs: Path, keep: tuple[str, ...]):
        self.label, self.suffix, self.dockerfiles = label, suffix, dockerfiles
        self.state, self.logs, self.keep = state, logs, keep
        self.env = buildah_env(state)

    def _buildah(self, app: Path, *args: str) -> str:
        return run(["buildah", *args], self.logs / f"{app.name}-{self.label}.log", env=self.env, cwd=app)

    def image(self, app: Path) -> str:
        return f"127.0.0.1/bench/{app.name}-{self.label}"

    def reset(self) -> None:
        """Every image and layer cache but the base images."""
        env, log = self.env, self.logs / "buildah-reset.log"
        run(["buildah", "rm", "--all"], log, env=env)
        images = json.loads(run(["buildah", "images", "--all", "--json"], log, env=env) or "[]")
        doomed = [image["id"] for image in images if not set(image.get("names") or ()) & set(self.keep)]
        if doomed:
            run(["buildah", "rmi", "--force", *doomed], log, env=env)

    def build(self, app: Path) -> None:
        dockerfile = self.dockerfiles / f"{app.name}{self.suffix}.Dockerfile"
        ca = []
        if "ARG PIP_CERT" in dockerfile.read_text():
            # pip behind the TLS-intercepting proxy: the host bundle is bind-mounted for RUN only, never committed
            ca = ["--volume", f"{CA_BUNDLE}:{CA_IN_BUILD}:ro", "--build-arg", f"PIP_CERT={CA_IN_BUILD}"]
        self._buildah(app, "build", "--isolation", "chroot", "--layers", *ca, "-f", str(dockerfile),
                      "-t", self.image(app), str(app))

    def push(self, app: Path, ref: str) -> str:
        digest_file = self.state / "push.digest"
        self._buildah(app, "push", "--tls-verify=false", "--digestfile", str(digest_file), self.image(app), f"docker://{ref}")
        return digest_file.read_text().strip()

    def rebuild_round(self, app: Path, ref: str, edit) -> tuple[float, float, str]:
        """(rebuild s, edit-to-pushed s, digest): edit-to-pushed is that rebuild plus its push."""
        edit()
        rebuild, _ = timed(self.build, app)
        push, digest = timed(self.push, app, ref)
        return rebuild, rebuild + push, digest
