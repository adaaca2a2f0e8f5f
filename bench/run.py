"""Benchmarks s2i against the Dockerfile way (buildah) on the examples: times, sizes, uploads, reproducibility."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from measure import changed_layer_bytes, image_facts  # noqa: E402
from fresh import fresh_runs  # noqa: E402
from prepare import BASE_IMAGES, prepare  # noqa: E402
from report import chart, derive, goals, table, write_json  # noqa: E402
from sides import S2I, Buildah  # noqa: E402
from tools import Registry, timed  # noqa: E402

REPO = BENCH.parent
APPS = {"flask-hello": "app.py", "c-hello": "hello.c", "go-httpd": "main.go"}
# the seeds' Dockerfiles put C and Go binaries on scratch, so s2i is asked for the same (its default is `static`)
S2I_FLAGS = {"c-hello": ("--run-image", "scratch"), "go-httpd": ("--run-image", "scratch")}
# one line that changes the built program: a comment would leave a compiled binary, and so the image, unchanged
EDIT_LINES = {
    ".c": 'const char *bench_edit = "{}";',
    ".go": 'var _ = fmt.Sprint("{}")',
    ".py": 'BENCH_EDIT = "{}"',
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--apps", nargs="+", default=list(APPS), choices=list(APPS))
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("S2I_BENCH_CACHE", "/tmp/bench-cache")),
                        help="XDG_CACHE_HOME for s2i (its stack is built there once)")
    parser.add_argument("--state", type=Path, default=Path(os.environ.get("S2I_BENCH_STATE", "/tmp/bench-state")),
                        help="buildah storage, base images, working copies, registry, logs")
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be 2 or more: reproducibility compares clean builds")
    return args


def pristine(app: str, work: Path) -> Path:
    """A fresh copy of examples/APP outside the repo, so edits never touch it."""
    target = work / app
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(REPO / "examples" / app, target)
    return target


def editor(app_dir: Path, main: str):
    """A function that makes the main source file its pristine text plus one new, unique line."""
    path = app_dir / main
    original = path.read_text()
    line = EDIT_LINES[path.suffix]

    def edit() -> None:
        path.write_text(original.rstrip("\n") + "\n" + line.format(uuid.uuid4().hex) + "\n")

    return edit


def cold_runs(side, app: str, work: Path, registry: Registry, runs: int, log: Path) -> dict:
    """Clean builds from empty caches (bases kept), each pushed to an empty registry."""
    data = {key: [] for key in ("cold_s", "first_push_bytes", "cold_digests", "compressed", "uncompressed", "layers")}
    for index in range(runs):
        side.reset()
        registry.reset()
        app_dir = pristine(app, work)
        seconds, _ = timed(side.build, app_dir)
        ref = f"{registry.host}/bench/{app}-{side.label}:cold{index}"
        before = registry.blob_bytes()
        digest = side.push(app_dir, ref)
        facts = image_facts(registry, ref, log)
        for key, value in (("cold_s", seconds), ("first_push_bytes", registry.blob_bytes() - before),
                           ("cold_digests", digest), ("compressed", facts["compressed"]),
                           ("uncompressed", facts["uncompressed"]), ("layers", facts["layers"])):
            data[key].append(value)
        print(f"  {side.label} {app} cold {index + 1}: {seconds:.2f} s, {digest[:19]}", file=sys.stderr)
    data["last_facts"] = facts
    return data


def rebuild_runs(side, app: str, work: Path, registry: Registry, runs: int, previous: dict, log: Path) -> dict:
    """One-line edits on the warm state the last cold run left, each rebuilt and pushed to the same repository."""
    data = {key: [] for key in ("rebuild_s", "edit_to_pushed_s", "rebuild_push_bytes", "changed_layer_bytes")}
    app_dir = work / app
    edit = editor(app_dir, APPS[app])
    for index in range(runs):
        ref = f"{registry.host}/bench/{app}-{side.label}:edit{index}"
        before = registry.blob_bytes()
        rebuild, pushed, _ = side.rebuild_round(app_dir, ref, edit)
        facts = image_facts(registry, ref, log)
        for key, value in (("rebuild_s", rebuild), ("edit_to_pushed_s", pushed),
                           ("rebuild_push_bytes", registry.blob_bytes() - before),
                           ("changed_layer_bytes", changed_layer_bytes(previous, facts))):
            data[key].append(value)
        previous = facts
        print(f"  {side.label} {app} rebuild {index + 1}: {rebuild:.2f} s, pushed in {pushed:.2f} s", file=sys.stderr)
    return data


def bench_side(side, app: str, work: Path, registry: Registry, runs: int, log: Path) -> dict:
    cold = cold_runs(side, app, work, registry, runs, log)
    rebuild = rebuild_runs(side, app, work, registry, runs, cold.pop("last_facts"), log)
    return derive({**cold, **rebuild})


def main() -> int:
    args = parse_args()
    started = time.monotonic()
    state, cache = args.state.resolve(), args.cache.resolve()
    logs, work = state / "logs", state / "apps"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench: preparing stack and base images (logs in {logs})", file=sys.stderr)
    prepare(REPO, cache, state, pristine("c-hello", work), logs / "prepare.log")
    prepared = time.monotonic() - started
    dockerfiles = BENCH / "dockerfiles"
    sides = [S2I(REPO, cache, logs, S2I_FLAGS),
             Buildah("buildah-seed", "", dockerfiles, state, logs, BASE_IMAGES),
             Buildah("buildah-stack", ".stack", dockerfiles, state, logs, BASE_IMAGES)]
    registry = Registry(state / "registry")
    results = {}
    try:
        for app in args.apps:
            results[app] = {side.label: bench_side(side, app, work, registry, args.runs, logs / "skopeo.log")
                            for side in sides}
            app_dir = pristine(app, work)
            results[app]["s2i"].update(fresh_runs(sides[0], app_dir, registry, state, args.runs, editor(app_dir, APPS[app])))
    finally:
        registry.stop()
    total = time.monotonic() - started
    meta = {"runs": args.runs, "total_s": round(total, 1), "prepare_s": round(prepared, 1),
            "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores", "python": sys.version.split()[0]}
    write_outputs(results, meta)
    return 0


def write_outputs(results: dict, meta: dict) -> None:
    text = (f"# s2i vs Dockerfile + buildah\n\n{table(results)}\n\n## Goals (shown, not asserted)\n\n{goals(results)}\n\n"
            f"Median of {meta['runs']} runs, (min–max) beside it. Total run time {meta['total_s'] / 60:.1f} min "
            f"(of which {meta['prepare_s']:.0f} s preparing).\n{METHOD}")
    print(text)
    (BENCH / "results.md").write_text(text)
    write_json(BENCH / "results.json", results, meta)
    chart(BENCH / "chart.png", results)


METHOD = """
## How it was measured

- **s2i** runs as `s2i build` with its defaults, but `--run-image scratch` for c-hello and go-httpd because the
  seeds' Dockerfiles put those binaries on scratch; flask-hello goes on s2i's `python` run base.
- **Cold build**: s2i with `$XDG_CACHE_HOME/s2i/{builds,layers,keyed}` deleted (the stack's images and unpacked
  builder kept), building into the local store; buildah with every image and layer cache removed but the base
  images, `buildah build --isolation chroot --layers`. No push in this figure.
- **Rebuild**: the main source file gets one new line that changes the program (a comment would leave a compiled
  binary unchanged), then the same build on the state the last cold build left.
- **Fresh runner** (s2i only): a CI runner whose store holds nothing but the stack's builder, pulled by reference:
  the stack is pushed to the registry with `s2i stack build --push ... --write-stack FILE`, one build on another
  runner (`--stack FILE --cache 127.0.0.1:PORT/bench-cache/APP`) fills the cache, then each run starts from a store
  holding only the unpacked builder, makes a one-line change and times `s2i build --stack FILE --cache ...` to pushed.
- **Edit to pushed**: s2i: a new edit and `s2i build APP 127.0.0.1:PORT/...` (it pushes as it builds); buildah: the
  rebuild above plus `buildah push --tls-verify=false`.
- **Uploaded bytes** are read at the registry (a `docker-registry` on 127.0.0.1 with filesystem storage): the growth of
  the blobs it stores (layers, config, manifest). Each cold run pushes to an emptied registry.
- **Sizes**: compressed and layer count from `skopeo inspect --raw`; uncompressed by decompressing each pushed layer.
- **Reproducible**: every cold run's pushed digest is the same.
- Base images, made here since Docker Hub is out of reach: `127.0.0.1/bench-base/debian:bookworm` is an `mmdebstrap
  --variant=minbase` of the host's apt sources; the seed's `python:3` is stood in for by that plus `apt-get install
  python3 python3-pip python3-venv` (`dockerfiles/python-base.Dockerfile`); the stack variant's builder stage is s2i's
  builder image, copied out of s2i's store and `buildah pull`ed. Dockerfiles are in `bench/dockerfiles/`.
- The machine is shared with other work (2 cores), so times are noisy.
"""


if __name__ == "__main__":
    sys.exit(main())
