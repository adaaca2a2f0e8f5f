"""--isolation chroot and none on this host: what the build can and cannot do, said on stderr, nothing left behind."""

from __future__ import annotations

import pytest

from tests.adversarial.sandbox_apps import c_app, last_line, processes_with
from tests.e2e.helpers import run_image
from tests.e2e.test_build import built

pytestmark = pytest.mark.e2e
PROBES = (
    "echo uid=$$(id -u) gid=$$(id -g) groups=$$(id -G)",
    "touch /usr/bin/s2i-was-here || echo builder-is-read-only",
    "echo x >> /usr/bin/make || echo builder-files-are-roots",  # hard-linked to the store's builder: must stay as they are
    "ls /proc | wc -l | sed 's/^/proc-entries=/'",
    "sh -c 'sleep 987653 &'",  # outlives make: stopped with the build
)


def rootfs_dirs(builder):
    return list((builder.cache / "s2i" / "rootfs").iterdir())


def test_chroot_build_runs_as_an_unprivileged_uid_in_a_copy_and_leaves_nothing(builder, registry, tmp_path):
    app = c_app(tmp_path / "chrooted", *PROBES)
    built(builder("build", c_app(tmp_path / "plain")))  # the builder unpacked into the store (bwrap), whatever ran before
    make = next(path for path in rootfs_dirs(builder) if (path / "usr/bin/make").is_file()) / "usr/bin/make"
    before = make.read_bytes()
    result = builder("build", app, f"{registry.host}/chrooted:1", "--isolation", "chroot")
    built(result)
    assert ("s2i: isolation: chroot; the build runs in a private copy of the builder as an unprivileged user, without namespaces: "
            "it shares this machine's processes and has no /proc; less isolation than bwrap; "
            "the build shares this machine's network, local services included\n") in result.stderr
    assert "[build c] uid=65532 gid=65532 groups=65532\n" in result.stderr
    assert "[build c] builder-is-read-only\n" in result.stderr and "[build c] builder-files-are-roots\n" in result.stderr
    assert "[build c] proc-entries=0\n" in result.stderr
    assert make.read_bytes() == before and not (make.parent / "s2i-was-here").exists()
    assert not [path for path in rootfs_dirs(builder) if path.name.startswith(".chroot-")]
    assert processes_with("987653") == []
    assert run_image(f"docker://{registry.host}/chrooted:1").stdout == "hi\n"


def test_none_is_a_root_chroot_only_when_asked_for(builder, tmp_path):
    app = c_app(tmp_path / "unisolated", PROBES[0])
    result = builder("build", app, "--isolation", "none")
    built(result)
    assert "s2i: isolation: none (chroot as root); asked for: the build runs as root inside a chroot it can leave" in result.stderr
    assert "[build c] uid=0 gid=0 groups=0\n" in result.stderr
    default = builder("build", app)  # bwrap works here: auto takes it and adds nothing
    built(default)
    assert "s2i: isolation: bwrap\n" in default.stderr and "uid=65532" in default.stderr


def test_bad_isolation_settings_are_one_line(builder, tmp_path):
    app = c_app(tmp_path / "unbuilt")
    offline = builder("build", app, "--isolation", "chroot", "--network", "none")
    assert offline.returncode == 2
    assert last_line(offline.stderr) == ("s2i: error: --network none needs a network namespace, which --isolation chroot cannot "
                                         "make here (drop --network none, or run where bwrap works)")
    unknown = builder("build", app, env={"S2I_ISOLATION": "docker"})
    assert unknown.returncode == 2 and "'docker' is not one of 'auto', 'bwrap', 'chroot', 'none'" in last_line(unknown.stderr)
    assert not (builder.cache / "s2i" / "refs" / "builds" / "unbuilt").exists()
