"""s2i's own image, built by s2i from this repository, runs `s2i build` under runc with the config `runc spec` writes.

That config is what a CI container gets: default capabilities (no CAP_SYS_ADMIN, CAP_SETFCAP or CAP_SYS_CHROOT),
masked /proc paths, no /dev/net/tun. Only the network namespace and rlimits are dropped, as for every container
these tests run, so the container reaches the test registry on 127.0.0.1; the store mounted in holds the session's
stack, so no mmdebstrap runs inside.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.adversarial.sandbox_apps import c_app
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import _prepare_bundle, run_cmd, run_image, skopeo_inspect, start_image
from tests.e2e.test_build import built, http_get

pytestmark = pytest.mark.e2e
EXAMPLES = REPO_ROOT / "examples"
CA_BUNDLE = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
STACK_ONLY = shutil.ignore_patterns("builds", "layers", "keyed", "tmp", ".build-*", ".chroot-*")
# Docker's default capabilities less CAP_SETFCAP: as root, bwrap cannot map uid 0 (as where a seccomp profile refuses
# user namespaces), while chroot and setuid work
DOCKER_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
               "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
# bookworm's bwrap says /newroot/proc, trixie's (in s2i's image on the default stack) /proc
HOST_PROC = re.compile(r"s2i: isolation: bwrap with this machine's /proc; a fresh /proc cannot be mounted here "
                       r"\(Can't mount proc on (/newroot)?/proc: Operation not permitted\)")


def runc_spec_bundle(image: str, work: Path) -> tuple[Path, dict]:
    """The image unpacked by umoci, its process (args, env, user, cwd) put into the config `runc spec` writes."""
    work.mkdir(parents=True)
    bundle = _prepare_bundle(image, work, None, None, False, None, None)
    unpacked = json.loads((bundle / "config.json").read_text())
    spec_dir = work / "spec"
    spec_dir.mkdir()
    run_cmd(["runc", "spec", "--bundle", spec_dir])
    config = json.loads((spec_dir / "config.json").read_text())
    config["root"] = {"path": str(bundle / "rootfs"), "readonly": False}
    config["process"].update({key: unpacked["process"][key] for key in ("args", "env", "user", "cwd")}, terminal=False)
    config["process"].pop("rlimits", None)
    config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "network"]
    return bundle, config


def run_in(bundle: Path, config: dict, args: list[str], mounts: dict[str, tuple[Path, str]], env: dict[str, str],
           timeout: float = 600, user: tuple[int, int] | None = None, caps: list[str] | None = None) -> subprocess.CompletedProcess:
    """Run `args` in the bundle's container, `mounts` (target: (source, ro|rw)) bound in; runc's exit and output."""
    config = json.loads(json.dumps(config))
    config["process"]["args"] = args
    if user:
        config["process"]["user"] = {"uid": user[0], "gid": user[1]}
    for kind in ("bounding", "effective", "permitted") if caps else ():
        config["process"]["capabilities"][kind] = caps
    config["process"]["env"] += [f"{key}={value}" for key, value in env.items()]
    config["mounts"] += [{"destination": target, "type": "bind", "source": str(source), "options": ["rbind", mode]}
                         for target, (source, mode) in mounts.items()]
    (bundle / "config.json").write_text(json.dumps(config))
    cid = f"s2i-e2e-{uuid.uuid4().hex[:12]}"
    try:
        return subprocess.run(["runc", "run", "-b", str(bundle), cid], capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    finally:
        subprocess.run(["runc", "delete", "-f", cid], capture_output=True, timeout=30)


def stack_store(stack, target: Path, owner: tuple[int, int]) -> Path:
    """A copy of the session's store with the stack and nothing an app build left, owned by the image's user."""
    shutil.copytree(stack.cache / "s2i", target / "s2i", symlinks=True, ignore=STACK_ONLY)
    _chown_tree(target, owner)
    return target


def _chown_tree(top: Path, owner: tuple[int, int]) -> None:
    for path in [top, *top.rglob("*")]:
        os.lchown(path, *owner)


def test_s2i_image_builds_the_examples_under_the_default_runc_config(builder, registry, tmp_path):
    started = time.monotonic()
    image = built(builder("build", REPO_ROOT, f"{registry.host}/s2i:test", timeout=900))
    image_seconds = time.monotonic() - started
    bundle, config = runc_spec_bundle(f"docker://{image}", tmp_path / "s2i-image")
    assert config["process"]["capabilities"]["bounding"] == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    assert "/proc/kcore" in config["linux"]["maskedPaths"]
    entrypoint = config["process"]["args"]  # the launcher, then the project's own script
    assert config["process"]["user"]["uid"] == 65532 and entrypoint[-1].endswith("/bin/s2i")
    owner = (config["process"]["user"]["uid"], config["process"]["user"]["gid"])
    store = stack_store(builder.stack, tmp_path / "container-cache", owner)
    # this machine's CA bundle, as CI runners hand theirs to a job's container: pip reaches PyPI through its proxy
    mounts = {"/cache": (store, "rw"), "/examples": (EXAMPLES, "ro"), "/etc/ssl/certs/ca-certificates.crt": (CA_BUNDLE, "ro")}
    env = {"XDG_CACHE_HOME": "/cache", "S2I_STACKS_DIR": "/app/stacks"}

    seconds = {}
    for name in ("c-hello", "go-httpd", "flask-hello"):
        started = time.monotonic()
        result = run_in(bundle, config, [*entrypoint, "build", f"/examples/{name}", f"{registry.host}/{name}:in-container"], mounts, env)
        seconds[name] = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        assert HOST_PROC.search(result.stderr), [line for line in result.stderr.splitlines() if "isolation" in line]
        assert "it shares this machine's network" in result.stderr  # no /dev/net/tun here: said, not silent
        assert result.stdout.startswith(f"{registry.host}/{name}@sha256:")
    print(f"\ns2i image: {image_seconds:.1f} s to build; in runc: " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))

    assert run_image(f"docker://{registry.host}/c-hello:in-container").stdout == "hello world\n"
    with start_image(f"docker://{registry.host}/go-httpd:in-container", wait_for_port=8080):
        assert http_get("http://127.0.0.1:8080/") == "hello from go-httpd\n"
    with start_image(f"docker://{registry.host}/flask-hello:in-container", wait_for_port=9080, timeout=30):
        assert http_get("http://127.0.0.1:9080/") == "Hello, World"
    assert skopeo_inspect(f"docker://{image}", config=True)["config"]["User"] == "65532"

    # the build sees s2i in this /proc and runs as its uid, yet cannot read its environment (where credentials live)
    probe = c_app(tmp_path / "environ-probe", "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c S2I_PROBE_SECRET || true")
    result = run_in(bundle, config, [*entrypoint, "build", "/probe"], {**mounts, "/probe": (probe, "ro")},
                    {**env, "S2I_PROBE_SECRET": "hunter2"})
    assert result.returncode == 0, result.stderr
    assert "[build c] 0\n" in result.stderr

    # the same image as root with Docker's capabilities (CAP_SETFCAP aside): chroot as an unprivileged uid, said as less
    _chown_tree(store, (0, 0))
    result = run_in(bundle, config, [*entrypoint, "build", "/examples/c-hello", f"{registry.host}/c-hello:chroot"], mounts, env,
                    user=(0, 0), caps=DOCKER_CAPS)
    assert result.returncode == 0, result.stderr
    assert ("s2i: isolation: chroot; bwrap cannot run here (setting up uid map: Operation not permitted), so the build runs "
            "in a private copy of the builder as an unprivileged user") in result.stderr
    assert run_image(f"docker://{registry.host}/c-hello:chroot").stdout == "hello world\n"
