import io
import os
from pathlib import Path

import pytest

from s2i.build.config import AppConfig, load_app_config, override
from s2i.buildpacks import all_buildpacks, get_buildpack
from s2i.build.detect import NoMatchError, detect
from s2i.errors import EXIT_DETECTION
from s2i.errors import UsageError
from s2i.build.plan import RunImage, image_changes, make_plan
from s2i.build.ignore import compile_rules, is_ignored
from s2i.build.limits import Confinement, Limits, cgroup_parents
from s2i.build.netns import host_addresses
from s2i.build.sandbox import REFUSED_FORK, Bind, Sandbox, bwrap_argv, capped_lines, with_resolver
from s2i.build.source import copy_source
from s2i.stack.files import find_stack, load_stack

STACK = load_stack(find_stack("debian-bookworm"))


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("files, buildpack", [
    ({"go.mod": "module x\n", "Makefile": "all:\n"}, "go"),  # language marker beats a generic Makefile
    ({"main.go": "package main\nfunc main() {}\n"}, "go"),
    ({"CMakeLists.txt": "project(x)\n"}, "c"),
    ({"prog.c": "int main(void) { return 0; }\n"}, "c"),
    ({"requirements.txt": "flask\n", "Makefile": "all:\n"}, "python"),
    ({"pyproject.toml": "[project]\nname = 'x'\n"}, "python"),
    ({"tool.py": "if __name__ == '__main__':\n    pass\n"}, "python"),
])
def test_detection_order(tmp_path, files, buildpack):
    assert detect(write(tmp_path, files)).buildpack.name == buildpack


def test_detection_declines_libraries_and_says_what_it_looked_for(tmp_path):
    write(tmp_path, {"lib.go": "package lib\n", "util.c": "int add(int a, int b) { return a + b; }\n"})
    with pytest.raises(NoMatchError) as caught:
        detect(tmp_path)
    assert caught.value.exit_code == EXIT_DETECTION
    for bp in all_buildpacks():
        assert f"{bp.name}: " in caught.value.message


def test_app_config_and_flags(tmp_path):
    write(tmp_path, {"s2i.toml": 'run-image = "scratch"\nentrypoint = ["/app/x"]\nports = [8080]\nenv = { A = "1", B = "2" }\n'
                                 '[build]\nmain = "./cmd/x"\nenv = { GOFLAGS = "-tags=netgo" }\n'})
    config = load_app_config(tmp_path)
    merged = override(config, AppConfig(run_image="static", env=(("B", "3"),)))
    assert merged.run_image == "static" and merged.entrypoint == ("/app/x",)
    assert merged.env == (("A", "1"), ("B", "3")) and merged.ports == ("8080",)
    assert merged.settings == {"main": "./cmd/x"} and merged.build_env == (("GOFLAGS", "-tags=netgo"),)
    write(tmp_path, {"s2i.toml": 'runimage = "x"\n'})
    with pytest.raises(UsageError):
        load_app_config(tmp_path)


def test_make_plan_exact_values():
    plan = make_plan(get_buildpack("go"), ("found go.mod",), AppConfig(ports=("8080",)), STACK,
                     {"GOPROXY": "https://proxy.example", "HOME": "/root", "PIP_INDEX_URL": ""}, 86400,
                     {"source": "https://git.example/app", "revision": "abc"}, {"package": "."})
    assert plan.run_image == RunImage("static", True, True)
    assert plan.user == "65532" and [l.name for l in plan.layers] == ["launcher", "app"] and plan.ports == ("8080",)
    env = dict(plan.build_env)
    assert env["GOPROXY"] == "https://proxy.example" and env["CGO_ENABLED"] == "0"
    assert env["SSL_CERT_FILE"] == env["PIP_CERT"] == "/etc/ssl/certs/ca-certificates.crt"
    # 86400 is the commit's time: the image's date, never the files' (no SOURCE_DATE_EPOCH set here)
    assert env["HOME"] == "/tmp" and env["SOURCE_DATE_EPOCH"] == "0" and "PIP_INDEX_URL" not in env
    assert plan.created == 86400 and plan.layer_mtime == 0
    pinned = make_plan(get_buildpack("go"), (), AppConfig(), STACK, {"SOURCE_DATE_EPOCH": "7"}, 7, {}, {})
    assert pinned.layer_mtime == 7 and dict(pinned.build_env)["SOURCE_DATE_EPOCH"] == "7"
    assert dict(plan.annotations) == {"org.opencontainers.image.created": "1970-01-02T00:00:00Z",
                                      "org.opencontainers.image.source": "https://git.example/app",
                                      "org.opencontainers.image.revision": "abc"}
    assert plan.step_input == {"package": ".", "launcher": "/s2i/launch"}


def test_python_refuses_bases_without_an_interpreter():
    python = get_buildpack("python")
    for base, reason in (("scratch", "no Python interpreter"), ("alpine", "musl")):
        with pytest.raises(UsageError) as caught:
            make_plan(python, (), AppConfig(run_image=base), STACK, {}, 0, {}, {})
        assert reason in caught.value.message
    plan = make_plan(python, (), AppConfig(), STACK, {}, 0, {}, {})
    assert plan.run_image.name == "python" and plan.user == "65532"
    assert [(l.name, l.mount) for l in plan.layers] == [("launcher", None), ("deps", "/opt/venv"), ("app", None)]
    assert "requirements.txt" in plan.layers[1].key_files
    custom = make_plan(python, (), AppConfig(run_image="127.0.0.1:5000/team/python-musl:3"), STACK, {}, 0, {}, {})
    assert custom.run_image.kind == "reference"  # the user named a base that has one


def test_image_config_keeps_the_run_time_contract():
    go = get_buildpack("go")
    launch = {"entrypoint": ["/app/httpd"], "workdir": "/app"}
    changes = image_changes(make_plan(go, (), AppConfig(), STACK, {}, 0, {}, {}), launch)
    assert changes.entrypoint == ("/s2i/launch", "/app/httpd") and changes.ports == ("8080",)
    assert ("PORT", "8080") in changes.env
    declared = image_changes(make_plan(go, (), AppConfig(ports=("9080",)), STACK, {}, 0, {}, {}), launch)
    assert ("PORT", "9080") in declared.env and declared.ports == ("9080",)
    chosen = image_changes(make_plan(go, (), AppConfig(env=(("PORT", "3000"),), entrypoint=("/app/x",)), STACK, {}, 0, {}, {}), launch)
    assert chosen.entrypoint == ("/app/x",) and chosen.ports == ("3000",)  # a user's entrypoint is taken as is
    assert [value for key, value in chosen.env if key == "PORT"] == ["3000"]


def test_run_image_choices():
    go = get_buildpack("go")
    scratch = make_plan(go, (), AppConfig(run_image="scratch"), STACK, {}, 0, {}, {})
    assert scratch.run_image == RunImage("scratch", True, False) and scratch.user is None and scratch.app_owner is None
    assert make_plan(go, (), AppConfig(), STACK, {}, 0, {}, {}).app_owner == (65532, 65532)  # the app may write in /app
    assert make_plan(go, (), AppConfig(user="1000:2000"), STACK, {}, 0, {}, {}).app_owner == (1000, 2000)
    assert make_plan(go, (), AppConfig(user="app"), STACK, {}, 0, {}, {}).app_owner is None
    assert make_plan(go, (), AppConfig(run_image="127.0.0.1:5000/library/alpine:3"), STACK, {}, 0, {}, {}).run_image.kind == "reference"
    with pytest.raises(UsageError) as caught:
        make_plan(go, (), AppConfig(run_image="python"), STACK, {}, 0, {}, {})
    assert "static" in caught.value.hint
    with pytest.raises(UsageError):
        make_plan(go, (), AppConfig(run_image="nosuchbase"), STACK, {}, 0, {}, {})


def test_bwrap_argv_shows_only_what_is_bound():
    argv = bwrap_argv(Sandbox(Path("/rootfs"), (Bind(Path("/src"), "/workspace", True), Bind(Path("/ca"), "/etc/ca.crt")),
                              (("A", "1"),), workdir="/workspace"), ["/bin/sh", "-c", "make"])
    assert argv[:4] == ["bwrap", "--ro-bind", "/rootfs", "/"]
    assert "--clearenv" in argv and "--unshare-all" in argv and "--die-with-parent" in argv
    assert "--share-net" not in argv  # the default network is the sandbox's own, connected by slirp4netns
    assert argv[argv.index("--uid") + 1] == "65532"
    assert ["--bind", "/src", "/workspace"] == argv[argv.index("/src") - 1: argv.index("/src") + 2]
    assert ["--ro-bind", "/ca", "/etc/ca.crt"] == argv[argv.index("/ca") - 1: argv.index("/ca") + 2]
    assert argv[-4:] == ["--", "/bin/sh", "-c", "make"]
    host = bwrap_argv(Sandbox(Path("/rootfs"), network="host"), ["true"], ("--info-fd", "5"))
    assert "--share-net" in host and host[-6:] == ["--info-fd", "5", "--chdir", "/", "--", "true"]
    assert "--share-net" not in bwrap_argv(Sandbox(Path("/rootfs"), network="none"), ["true"])


def test_resolver_points_at_the_forwarder_of_the_sandbox_network(tmp_path):
    private = with_resolver(Sandbox(Path("/rootfs")), tmp_path)
    assert private.binds[-1] == Bind(tmp_path / "resolv.conf", "/etc/resolv.conf")
    assert (tmp_path / "resolv.conf").read_text() == "nameserver 10.0.2.3\n"
    assert with_resolver(Sandbox(Path("/rootfs"), network="none"), tmp_path).binds == ()


def test_long_output_lines_are_cut_without_being_held_whole():
    stream = io.BufferedReader(io.BytesIO(b"short\n" + b"x" * 1_000_000 + b"\n" + "é".encode() * 5 + b"\nlast"), buffer_size=8192)
    lines = list(capped_lines(stream, cap=4096))
    assert lines[0] == "short" and lines[2] == "ééééé" and lines[3] == "last"
    assert lines[1] == "x" * 4096 + f" [s2i: {1_000_000 - 4096} more bytes of this line not shown]"


def test_host_addresses_are_the_local_ones_but_loopback():
    fib = """Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        |-- 127.0.0.1
           /32 host LOCAL
     |-- 192.0.2.2
        /32 host LOCAL
     |-- 192.0.2.255
        /32 link BROADCAST
Local:
     |-- 192.0.2.2
        /32 host LOCAL
     |-- 172.17.0.1
        /32 host LOCAL
"""
    assert host_addresses(fib) == ["172.17.0.1", "192.0.2.2"]


def test_cgroup_parents_follow_the_hierarchy_in_use(tmp_path):
    v2 = tmp_path / "v2"
    (v2 / "user.slice" / "s.scope").mkdir(parents=True)
    (v2 / "cgroup.controllers").write_text("memory pids\n")
    assert cgroup_parents("0::/user.slice/s.scope\n", v2) == [v2 / "user.slice" / "s.scope", v2 / "user.slice"]
    assert cgroup_parents("0::/\n", v2) == [v2]
    v1 = tmp_path / "v1"
    (v1 / "pids").mkdir(parents=True)
    (v1 / "pids" / "tasks").write_text("")
    assert cgroup_parents("8:pids:/\n4:memory:/runner/x\n0::/\n", v1) == [v1 / "pids"]


@pytest.mark.parametrize("line, refused", [
    ("/bin/sh: 1: Cannot fork", True),
    ("bash: fork: retry: Resource temporarily unavailable", True),
    ("make: vfork: Resource temporarily unavailable", True),
    ("BlockingIOError: [Errno 11] Resource temporarily unavailable", True),
    ("configure: checking for fork... yes", False),
])
def test_a_refused_fork_is_recognised_in_build_output(line, refused):
    assert bool(REFUSED_FORK.search(line)) == refused


def test_under_rlimit_nproc_a_refused_fork_names_the_process_cap():
    """A bomb whose top shell is refused a fork ends itself between two samples: its output is the trace."""
    confinement = Confinement(Limits(seconds=10, processes=512, memory=0), pid=os.getpid(), pid_ns="pid:[none]", host_uid=1000)
    confinement.nproc = True
    assert confinement.breach() is None  # no process of ours is in that pid namespace
    assert confinement.breach(fork_refused=True)[0] == "the build reached the limit of 512 processes and was stopped"
    confinement.nproc = False  # root without a pids cgroup: nothing caps forks, so a refused one is the build's own failure
    assert confinement.breach(fork_refused=True) is None


def test_source_copy_honours_ignores_and_refuses_links_out(tmp_path):
    app = write(tmp_path / "app", {"main.c": "x", "build/out.o": "x", "docs/a.md": "x", "docs/keep.md": "x", ".git/HEAD": "x",
                                   ".dockerignore": "build\ndocs/*.md\n!docs/keep.md\n"})
    os.symlink("main.c", app / "link-inside")
    count = copy_source(app, tmp_path / "copy")
    copied = sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*"))
    assert copied == [".dockerignore", "docs", "docs/keep.md", "link-inside", "main.c"] and count == 3
    rules = compile_rules(["build"], "test")
    assert is_ignored("build/deep/x.o", rules) and not is_ignored("src/build.c", rules)
    os.symlink("/etc/shadow", app / "secret")
    with pytest.raises(UsageError) as caught:
        copy_source(app, tmp_path / "copy2")
    assert "secret is a symlink to /etc/shadow" in caught.value.message
    os.unlink(app / "secret")
    os.symlink("../../outside", app / "docs" / "up")
    with pytest.raises(UsageError):
        copy_source(app, tmp_path / "copy3")
