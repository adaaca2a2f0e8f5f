"""--isolation: the mode is a pure function of what works here; anything weaker than bwrap is said, none only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from s2i.build.isolation import Isolation, Probe, choose, missing_caps
from s2i.build.sandbox import Sandbox, bwrap_argv
from s2i.errors import S2IError, UsageError

UID_MAP = "setting up uid map: Operation not permitted"
PROC = "Can't mount proc on /newroot/proc: Operation not permitted"
NO_NS = "No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces."
EVERYTHING = Probe(bwrap="", bwrap_host_proc="", chroot="", chroot_as_root="", tun=True)
# a non-root s2i under the config `runc spec` writes: user namespaces work, /proc has masked paths, no /dev/net/tun
RUNC_NONROOT = Probe(bwrap=PROC, bwrap_host_proc="", chroot="s2i is not root", chroot_as_root="s2i is not root", tun=False)
# root under Docker's defaults: its seccomp profile refuses user namespaces, the capabilities allow chroot and setuid
DOCKER_ROOT = Probe(bwrap=NO_NS, bwrap_host_proc=NO_NS, chroot="", chroot_as_root="", tun=False)
# root under `runc spec`: no CAP_SETFCAP to map uid 0, no CAP_SYS_CHROOT
RUNC_ROOT = Probe(bwrap=UID_MAP, bwrap_host_proc=UID_MAP, chroot="missing CAP_CHOWN, CAP_SETGID, CAP_SETUID, CAP_SYS_CHROOT, CAP_MKNOD",
                  chroot_as_root="missing CAP_SYS_CHROOT, CAP_MKNOD", tun=False)


def test_bwrap_with_a_fresh_proc_is_chosen_wherever_it_works_and_nothing_is_added():
    for requested in ("auto", "bwrap"):
        chosen = choose(requested, "default", EVERYTHING)
        assert chosen == Isolation("bwrap", "default")
        assert chosen.describe() == "isolation: bwrap"


def test_masked_proc_gives_bwrap_with_this_machines_proc_and_says_what_that_means():
    chosen = choose("auto", "default", RUNC_NONROOT)
    assert (chosen.kind, chosen.host_proc, chosen.network) == ("bwrap", True, "host")
    assert chosen.describe() == (
        f"isolation: bwrap with this machine's /proc; a fresh /proc cannot be mounted here ({PROC}), so the build sees this "
        "machine's processes through its /proc, and can read those of the user s2i runs as; no usable /dev/net/tun for the build's own "
        "outbound-only network, so it shares this machine's network, local services included (pass --network none to build offline)")


def test_an_explicit_mode_never_falls_back():
    with pytest.raises(S2IError) as caught:
        choose("bwrap", "default", RUNC_NONROOT)
    assert caught.value.one_line() == (f"bwrap cannot run here: {PROC} "
                                       "(pass --isolation auto to fall back to what works here, and be told what that means)")
    # asked for bwrap: its network is not quietly swapped for this machine's either
    assert choose("bwrap", "default", Probe("", "", "", "", tun=False)).network == "default"


def test_offline_and_shared_networks_are_kept_where_a_namespace_exists():
    assert choose("auto", "none", RUNC_NONROOT).network == "none"
    assert choose("auto", "host", EVERYTHING).network == "host"


def test_root_without_user_namespaces_gets_chroot_as_an_unprivileged_uid_said_as_less():
    chosen = choose("auto", "default", DOCKER_ROOT)
    assert (chosen.kind, chosen.network) == ("chroot", "host")
    assert chosen.describe().startswith(f"isolation: chroot; bwrap cannot run here ({NO_NS}), so the build runs in a private copy")
    assert "less isolation than bwrap" in chosen.describe()
    assert "shares this machine's network" in chosen.describe()
    assert choose("chroot", "default", EVERYTHING).kind == "chroot"


def test_chroot_cannot_be_offline():
    with pytest.raises(UsageError, match="--network none needs a network namespace, which --isolation auto cannot make here"):
        choose("auto", "none", DOCKER_ROOT)


def test_nothing_working_is_one_error_naming_each_failure_and_the_fixes():
    with pytest.raises(S2IError) as caught:
        choose("auto", "default", RUNC_ROOT)
    line = caught.value.one_line()
    assert line.startswith(f"no build isolation works here (bwrap: {UID_MAP}; chroot: missing CAP_CHOWN")
    assert "run s2i as a non-root user" in line and line.endswith("or pass --isolation none)")


def test_none_is_only_what_was_asked_for_and_still_needs_chroot():
    chosen = choose("none", "default", DOCKER_ROOT)
    assert (chosen.kind, chosen.network) == ("none", "host")
    assert "asked for: the build runs as root inside a chroot it can leave" in chosen.describe()
    assert choose("none", "default", EVERYTHING).kind == "none"  # even where bwrap works
    with pytest.raises(S2IError, match="--isolation none still enters the builder with chroot, which fails here: missing CAP_SYS_CHROOT"):
        choose("none", "default", RUNC_ROOT)
    for probe in (EVERYTHING, DOCKER_ROOT, RUNC_NONROOT, RUNC_ROOT):  # auto never picks none
        try:
            assert choose("auto", "default", probe).kind != "none"
        except S2IError:
            pass


def test_unknown_mode_is_a_usage_error():
    with pytest.raises(UsageError, match="--isolation 'docker' is not one of auto, bwrap, chroot, none"):
        choose("docker", "default", EVERYTHING)


def test_capabilities_are_read_from_capeff():
    status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t0000000020000420\n"  # runc spec's defaults
    assert missing_caps(status, ("CAP_KILL", "CAP_SYS_CHROOT", "CAP_SETUID")) == ["CAP_SYS_CHROOT", "CAP_SETUID"]
    docker = "CapEff:\t00000000a80425fb\n"
    assert missing_caps(docker, ("CAP_CHOWN", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SYS_CHROOT", "CAP_MKNOD")) == []


def test_host_proc_binds_this_machines_proc_instead_of_mounting_one():
    argv = bwrap_argv(Sandbox(rootfs=Path("/r"), host_proc=True), ["true"])
    assert "--proc" not in argv and argv[argv.index("--bind"):argv.index("--bind") + 3] == ["--bind", "/proc", "/proc"]
    fresh = bwrap_argv(Sandbox(rootfs=Path("/r")), ["true"])
    assert fresh[fresh.index("--proc"):fresh.index("--proc") + 2] == ["--proc", "/proc"] and "--bind" not in fresh


def test_the_chroot_copy_links_roots_files_and_copies_what_the_build_could_write(tmp_path):
    from s2i.build.chroot import link_tree

    source = tmp_path / "rootfs"
    (source / "usr" / "bin").mkdir(parents=True)
    (source / "usr" / "bin" / "make").write_text("make")
    (source / "bin").symlink_to("usr/bin")
    (source / "var").mkdir()
    (source / "var").chmod(0o2775)
    (source / "world").write_text("w")
    (source / "world").chmod(0o666)
    link_tree(source, tmp_path / "copy")
    copy = tmp_path / "copy"
    assert (copy / "usr/bin/make").stat().st_ino == (source / "usr/bin/make").stat().st_ino
    assert (copy / "world").stat().st_ino != (source / "world").stat().st_ino and (copy / "world").read_text() == "w"
    assert (copy / "bin").is_symlink() and str((copy / "bin").readlink()) == "usr/bin"
    assert (copy / "var").stat().st_mode & 0o7777 == 0o2775


def test_a_link_where_a_build_directory_goes_is_refused(tmp_path):
    from s2i.build.chroot import _inside

    (tmp_path / "opt").symlink_to("/etc")
    with pytest.raises(S2IError, match="the builder has a link at opt, where the build's /opt/venv goes"):
        _inside(tmp_path, "/opt/venv")
    assert _inside(tmp_path, "/s2i/out") == tmp_path / "s2i" / "out" and (tmp_path / "s2i").is_dir()


def test_a_sandbox_that_did_not_start_is_started_again_and_the_command_runs_once(monkeypatch, tmp_path):
    """bwrap's loopback set-up fails now and then under load before the command runs; s2i tries again."""
    import io
    import subprocess
    from contextlib import contextmanager
    from types import SimpleNamespace

    from s2i.build import sandbox as sandbox_module

    attempts = []

    @contextmanager
    def flaky_start(sandbox, command, limits, scratch):
        attempts.append(command)
        if len(attempts) < 3:
            raise sandbox_module.SandboxNotStarted("the build sandbox did not start: bwrap: loopback: Failed RTM_NEWADDR", "")
        yield SimpleNamespace(process=SimpleNamespace(stdout=io.BytesIO(b"built\n"), wait=lambda: 0), breach=None, fork_refused=False)

    chosen = SimpleNamespace(kind="bwrap", describe=lambda: "bwrap")
    monkeypatch.setattr(sandbox_module, "isolate", lambda sandbox, requested: (sandbox, chosen))
    monkeypatch.setattr(sandbox_module, "_started", flaky_start)
    monkeypatch.setattr(sandbox_module.time, "sleep", lambda seconds: None)
    box = sandbox_module.Sandbox(tmp_path, network="none")
    sandbox_module.run_logged(box, ["make"], "build c")
    assert len(attempts) == 3
    attempts.clear()
    monkeypatch.setattr(sandbox_module, "START_ATTEMPTS", 2)
    try:
        sandbox_module.run_logged(box, ["make"], "build c")
    except sandbox_module.SandboxNotStarted as exc:
        assert "RTM_NEWADDR" in exc.message and len(attempts) == 2
    else:
        raise AssertionError("a sandbox that never starts is an error")
