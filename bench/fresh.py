"""The fresh-runner figure: a CI runner whose store holds only the stack (pulled by reference), building with --cache."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from sides import S2I, s2i_env
from tools import Registry, run, timed


def hand_out_stack(side: S2I, registry: Registry, state: Path) -> Path:
    """Push the bench's stack (as built in its store) to the registry and write the stack file naming it by digest."""
    stack_file = state / "fresh" / "stack.toml"
    stack_file.parent.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "s2i", "stack", "build", "--push", f"{registry.host}/bench-stacks", "--write-stack", stack_file],
        side.logs / "fresh-stack.log", env=side.env, cwd=side.repo)
    return stack_file


class FreshRunner(S2I):
    """`s2i build --stack FILE --cache REPO` from a store that holds nothing but the builder it pulled by reference."""

    label = "s2i-fresh"

    def __init__(self, side: S2I, stack_file: Path, registry: Registry, state: Path):
        super().__init__(side.repo, state / "fresh" / "store", side.logs, side.flags)
        self.stack_file, self.registry, self.state = stack_file, registry, state
        self.stack_store = state / "fresh" / "stack-store"

    def _runner(self, cache: Path) -> None:
        """A new runner's XDG_CACHE_HOME: empty, or holding the stack's unpacked builder when one was pulled before."""
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        if (self.stack_store / "s2i" / "rootfs").is_dir():
            shutil.copytree(self.stack_store / "s2i" / "rootfs", cache / "s2i" / "rootfs", copy_function=os.link, symlinks=True)
        self.cache, self.env = cache, s2i_env(self.repo, cache)

    def build_to(self, app: Path, ref: str) -> str:
        cache_repo = f"{self.registry.host}/bench-cache/{app.name}"
        return self._s2i(app, "build", "--stack", str(self.stack_file), "--cache", cache_repo, *self.flags.get(app.name, ()), str(app), ref)

    def fill(self, app: Path, ref: str) -> None:
        """The earlier build on another runner: pulls the stack by reference (kept as the runners' stack) and fills the cache."""
        shutil.rmtree(self.stack_store, ignore_errors=True)
        self._runner(self.stack_store)
        self.build_to(app, ref)

    def edit_round(self, app: Path, ref: str, edit) -> float:
        """Seconds from a one-line change to the pushed image, on a runner that starts from the stack only."""
        self._runner(self.state / "fresh" / "store")
        edit()
        seconds, _ = timed(self.build_to, app, ref)
        return seconds


def fresh_runs(side: S2I, app_dir: Path, registry: Registry, state: Path, runs: int, edit) -> dict:
    runner = FreshRunner(side, hand_out_stack(side, registry, state), registry, state)
    runner.fill(app_dir, f"{registry.host}/bench/{app_dir.name}-fresh:fill")
    seconds = []
    for index in range(runs):
        seconds.append(runner.edit_round(app_dir, f"{registry.host}/bench/{app_dir.name}-fresh:{index}", edit))
        print(f"  s2i {app_dir.name} fresh runner {index + 1}: pushed in {seconds[-1]:.2f} s", file=sys.stderr)
    return {"fresh_runner_s": seconds}
