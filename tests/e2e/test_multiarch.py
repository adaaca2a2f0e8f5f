"""Acceptance for `s2i build --platform`: Go and C cross-compiled for linux/arm64, refusals before any download."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from s2i.errors import EXIT_BUILD, EXIT_USAGE
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import registry_uploads, run_cmd, run_image, skopeo_inspect, start_image
from tests.e2e.test_build import http_get

pytestmark = pytest.mark.e2e
EXAMPLES = REPO_ROOT / "examples"
MACHINES = {62: "x86-64", 183: "aarch64"}


def app_copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(EXAMPLES / name, tmp_path / "apps" / name))


def image_files(reference: str, tmp_path: Path, digest: str | None = None) -> tuple[dict, dict[str, bytes]]:
    """(config, path -> first bytes of each regular file) of a registry image, read through skopeo's OCI layout."""
    layout = tmp_path / f"layout-{(digest or reference).rsplit(':', 1)[-1][:12]}"
    source = f"docker://{reference.split('@')[0]}@{digest}" if digest else f"docker://{reference}"
    run_cmd(["skopeo", "copy", "--src-tls-verify=false", source, f"oci:{layout}:x"], timeout=120)
    manifest = skopeo_inspect(f"oci:{layout}:x", raw=True)
    blob = lambda d: (layout / "blobs" / "sha256" / d.split(":")[1]).read_bytes()  # noqa: E731
    files = {}
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(layer["digest"])))) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    files["/" + member.name.lstrip("./")] = tar.extractfile(member).read(64)
    return json.loads(blob(manifest["config"]["digest"])), files


def machine(header: bytes) -> str:
    assert header[:4] == b"\x7fELF", header[:4]
    return MACHINES.get(int.from_bytes(header[18:20], "little"), "other")


def what_it_does(reference: str, example: str) -> str:
    """c-hello's output; go-httpd's answer to a GET on its port."""
    if example == "c-hello":
        result = run_image(f"docker://{reference}", timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout
    with start_image(f"docker://{reference}", wait_for_port=8080, timeout=60):
        return http_get("http://127.0.0.1:8080/", timeout=30)


@pytest.mark.parametrize("example, expected", [("go-httpd", "hello from go-httpd\n"), ("c-hello", "hello world\n")])
def test_one_command_builds_amd64_and_arm64_into_an_index(builder, registry, tmp_path, arm64_emulation, example, expected):
    app = app_copy(tmp_path, example)
    ref = f"{registry.host}/multi/{example}:1"
    args = ("build", app, ref, "--platform", "linux/amd64", "--platform", "linux/arm64", "--json")
    started = time.monotonic()
    result = builder(*args, timeout=1200)
    cold = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    raw = run_cmd(["skopeo", "inspect", "--tls-verify=false", "--raw", f"docker://{ref}"]).stdout.encode()
    index = json.loads(raw)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    children = {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"] for m in index["manifests"]}
    assert list(children) == ["linux/amd64", "linux/arm64"]
    assert out["schema"] == 1 and out["digest"] == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert out["platforms"] == [{"platform": name, "digest": digest} for name, digest in children.items()]
    repo = f"{registry.host}/multi/{example}"
    manifests = {name: skopeo_inspect(f"docker://{repo}@{digest}", raw=True) for name, digest in children.items()}
    assert manifests["linux/amd64"]["layers"][-1] != manifests["linux/arm64"]["layers"][-1]  # each its own program
    for name, digest in children.items():
        config, files = image_files(f"{repo}@{digest}", tmp_path)
        assert f"{config['os']}/{config['architecture']}" == name
        program = files["/app/go-httpd" if example == "go-httpd" else "/app/hello"]
        assert machine(program) == {"linux/amd64": "x86-64", "linux/arm64": "aarch64"}[name]
        assert what_it_does(f"{repo}@{digest}", example) == expected  # arm64 through qemu-user
    before = len(registry.requests())
    started = time.monotonic()
    again = builder(*args, timeout=1200)
    warm = time.monotonic() - started
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["digest"] == out["digest"]
    data, _ = registry_uploads(registry.requests()[before:])
    assert data == []  # the same two images, SBOMs and index: nothing new uploaded
    print(f"\n{example} amd64+arm64: cold {cold:.1f}s, warm {warm:.1f}s")
    copied = f"{registry.host}/prod/{example}:1"
    result = builder("copy", ref, copied, timeout=300)
    assert result.returncode == 0, result.stderr
    copied_raw = run_cmd(["skopeo", "inspect", "--tls-verify=false", "--raw", f"docker://{copied}"]).stdout.encode()
    assert copied_raw == raw  # both platforms, the same children, byte for byte


def test_go_cross_compiles_for_arm64(builder, registry, tmp_path):
    app = app_copy(tmp_path, "go-httpd")
    ref = f"{registry.host}/go-arm:1"
    result = builder("build", app, ref, "--platform", "linux/arm64", "--run-image", "scratch",
                     "--json", timeout=900)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    manifest = skopeo_inspect(f"docker://{ref}", raw=True)
    assert manifest["mediaType"].endswith("manifest.v1+json")  # one platform: a plain image, not an index
    config, files = image_files(ref, tmp_path)
    assert (config["os"], config["architecture"]) == ("linux", "arm64")
    assert machine(files["/app/go-httpd"]) == "aarch64" and machine(files["/s2i/launch"]) == "aarch64"
    assert out["schema"] == 1 and out["digest"].startswith("sha256:")


def test_c_cross_compiles_for_arm64(builder, registry, tmp_path):
    app = app_copy(tmp_path, "c-hello")
    ref = f"{registry.host}/c-arm:1"
    result = builder("build", app, ref, "--platform", "linux/arm64", "--run-image", "scratch",
                     timeout=900)
    assert result.returncode == 0, result.stderr
    assert "cross-compiling for linux/arm64 with aarch64-linux-gnu-gcc, static against glibc" in result.stderr
    config, files = image_files(ref, tmp_path)
    assert config["architecture"] == "arm64"
    assert machine(files["/app/hello"]) == "aarch64"


@pytest.mark.parametrize("platform, message", [
    ("linux/s390x", "s2i: error: cannot build for linux/s390x: stack debian-trixie has linux/amd64, linux/arm64"),
    ("windows/amd64", "s2i: error: cannot build for windows/amd64: stack debian-trixie has linux/amd64, linux/arm64"),
])
def test_unsupported_platform_fails_in_one_line(s2i, registry, tmp_path, platform, message):
    """No stack is built, nothing downloaded: the refusal comes right after detection."""
    app = app_copy(tmp_path, "go-httpd")
    result = s2i("build", app, f"{registry.host}/x:1", "--platform", f"linux/amd64,{platform}")
    assert result.returncode == EXIT_USAGE
    lines = [line for line in result.stderr.splitlines() if line.startswith("s2i: error")]
    assert lines and lines[0].startswith(message), result.stderr
    assert_nothing_fetched(s2i, result)


def assert_nothing_fetched(s2i, result) -> None:
    """No stack built, no Debian index read, no package downloaded."""
    assert "building it now" not in result.stderr and "reading the Debian package index" not in result.stderr, result.stderr
    assert not (s2i.cache / "s2i" / "debian").exists()


def test_unsupported_cross_case_fails_before_building(s2i, registry, tmp_path):
    app = app_copy(tmp_path, "c-hello")
    (app / "s2i.toml").write_text('[build]\nlibc = "musl"\n')
    result = s2i("build", app, f"{registry.host}/x:1", "--platform", "linux/amd64,linux/arm64")
    assert result.returncode == EXIT_USAGE
    errors = [line for line in result.stderr.splitlines() if line.startswith("s2i: error")]
    assert errors[0].startswith("s2i: error: cannot build against musl for linux/arm64: Debian has no musl cross toolchain"), result.stderr
    assert_nothing_fetched(s2i, result)


def test_a_destination_holding_one_image_is_refused_before_any_work(s2i, tmp_path):
    app = app_copy(tmp_path, "go-httpd")
    (app / "s2i.toml").write_text('[build]\nplatforms = ["linux/amd64", "linux/arm64"]\n')  # from s2i.toml as from the flag
    archive = tmp_path / "out.tar"
    result = s2i("build", app, f"docker-archive:{archive}")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.splitlines()[-1] == (
        f"s2i: error: docker-archive:{archive} holds one image, not an index of 2 platforms "
        "(build one --platform, or write to a registry, oci:DIR[:TAG] or store:NAME)")
    assert not archive.exists()
    assert_nothing_fetched(s2i, result)


def test_a_cmake_program_cross_compiles_and_runs_under_qemu(builder, registry, tmp_path, arm64_emulation):
    """CMake is told the target system; its program runs on the arm64 `static` base as the amd64 one does."""
    app = tmp_path / "apps" / "cmake-hello"
    app.mkdir(parents=True)
    (app / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.13)\nproject(cmhello C)\nadd_executable(cmhello main.c)\n"
                                        "install(TARGETS cmhello)\n")
    (app / "main.c").write_text('#include <stdio.h>\nint main(void) { printf("hello from cmake\\n"); return 0; }\n')
    ref = f"{registry.host}/multi/cmake:1"
    result = builder("build", app, ref, "--platform", "linux/amd64,linux/arm64", "--json", timeout=900)
    assert result.returncode == 0, result.stderr
    assert "-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64" in result.stderr
    children = {item["platform"]: item["digest"] for item in json.loads(result.stdout)["platforms"]}
    for name, digest in children.items():
        reference = f"{registry.host}/multi/cmake@{digest}"
        _, files = image_files(reference, tmp_path)
        assert machine(files["/app/cmhello"]) == {"linux/amd64": "x86-64", "linux/arm64": "aarch64"}[name]
        assert run_image(f"docker://{reference}", timeout=120).stdout == "hello from cmake\n"


def test_a_configure_that_finds_less_for_arm64_stops_before_compiling(builder, registry, tmp_path):
    """c-autotools uses zlib, which the builder has for amd64 only: the arm64 build says so instead of shipping without it."""
    app = Path(shutil.copytree(REPO_ROOT / "tests" / "apps" / "c-autotools", tmp_path / "apps" / "c-autotools"))
    before = len(registry.requests())
    result = builder("build", app, f"{registry.host}/multi/zinfo:1", "--platform", "linux/amd64,linux/arm64", timeout=900)
    assert result.returncode == EXIT_BUILD, result.stderr
    assert ("s2i: error: the linux/arm64 build would lose what the host's finds (-lz): s2i has only the builder's "
            "own libraries; build for the host's platform only") in result.stderr
    assert not [r for r in registry.requests()[before:] if r.method in ("PUT", "POST")]
