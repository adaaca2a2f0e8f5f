"""Build customisation: Debian packages for the build and the image, build commands, `buildpack` in s2i.toml."""

from __future__ import annotations

import hashlib
import re
import shutil

import pytest

from s2i.errors import EXIT_BUILD
from tests.e2e.helpers import run_image, skopeo_inspect, start_image
from tests.e2e.test_build import APPS, app_copy, built, http_get

pytestmark = pytest.mark.e2e


def files_under(path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")} if path.exists() else set()


def labels_of(reference: str) -> dict:
    return skopeo_inspect(f"docker://{reference}", config=True)["config"].get("Labels") or {}


def test_c_program_links_openssl_from_a_build_package(builder, registry, tmp_path):
    result = builder("build", app_copy(tmp_path, APPS / "c-openssl"), f"{registry.host}/openssl:1", timeout=600)
    reference = built(result)
    assert "build packages: libssl-dev=" in result.stderr
    assert labels_of(reference)["io.s2i.build.packages"].startswith("libssl-dev=3.")
    expected = f"sha256(s2i)={hashlib.sha256(b's2i').hexdigest()}\n"
    for env in ({}, {"PORT": "9000"}):
        run = run_image(f"docker://{reference}", env=env)
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("OpenSSL 3.") and run.stdout.endswith(expected)
    # the extended builder is cached: a rebuild with empty app caches adds nothing to the store's rootfs dir
    rootfs = {p.name for p in (builder.cache / "s2i" / "rootfs").iterdir()}
    assert any(name.startswith("ext-") for name in rootfs)
    for name in rootfs - {n for n in rootfs if n.startswith("ext-")}:  # the stack's builder is never written through
        assert not (builder.cache / "s2i" / "rootfs" / name / "usr/include/openssl").exists()
    builder.forget_app_caches()
    again = builder("build", app_copy(tmp_path / "again", APPS / "c-openssl"), f"{registry.host}/openssl:2", timeout=600)
    assert built(again).rsplit("@", 1)[1] == reference.rsplit("@", 1)[1]
    assert {p.name for p in (builder.cache / "s2i" / "rootfs").iterdir()} == rootfs


def test_psycopg2_from_source_gets_libpq5_at_run_time_without_a_setting(builder, registry, tmp_path):
    result = builder("build", app_copy(tmp_path, APPS / "py-libpq"), f"{registry.host}/libpq:1", timeout=900)
    reference = built(result)
    assert "native code needs libpq.so.5 (needed by opt/venv/lib/python3.13/site-packages/psycopg2/_psycopg" in result.stderr
    assert "which the run base lacks: adding libpq5" in result.stderr
    labels = labels_of(reference)
    major = re.search(r"\blibpq-dev=(\d+)\.", labels["io.s2i.build.packages"]).group(1)  # 17 on trixie, 15 on bookworm
    run_packages = labels["io.s2i.run.packages"].split()
    assert any(p.startswith(f"libpq5={major}.") for p in run_packages) and any(p.startswith("libgssapi-krb5-2=") for p in run_packages)
    assert not any(p.startswith(("libpq-dev=", "libssl-dev=")) for p in run_packages)  # headers stay in the build
    for env in ({}, {"PORT": "9000"}):
        run = run_image(f"docker://{reference}", env=env)
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith(f"psycopg2 2.9.10 built with libpq {major}00") and f", running with libpq {major}00" in run.stdout
    # a rebuild reuses the deps layer (pip does not run) and still finds what its native code needs: the same image
    again = builder("build", app_copy(tmp_path / "again", APPS / "py-libpq"), f"{registry.host}/libpq:2", timeout=600)
    assert "pip does not run" in again.stderr and "adding libpq5" in again.stderr
    assert built(again).rsplit("@", 1)[1] == reference.rsplit("@", 1)[1]


def test_build_commands_run_after_dependencies_and_before_export(builder, registry, tmp_path):
    reference = built(builder("build", app_copy(tmp_path, APPS / "py-commands"), f"{registry.host}/commands:1"))
    with start_image(f"docker://{reference}", wait_for_port=8080, timeout=30):
        assert http_get("http://127.0.0.1:8080/") == "argv:/opt/venv shell:app\n"
    with start_image(f"docker://{reference}", env={"PORT": "9393"}, wait_for_port=9393, timeout=30):
        assert http_get("http://127.0.0.1:9393/") == "argv:/opt/venv shell:app\n"


def test_a_failing_build_command_names_itself(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "py-commands")
    (app / "s2i.toml").write_text('[build]\ncommands = ["true", ["sh", "-c", "echo making assets; exit 3"]]\n')
    result = builder("build", app, f"{registry.host}/commands:bad")
    assert result.returncode == EXIT_BUILD
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("s2i: error: build python failed (exit 1): s2i: error: build command 2 failed (exit 3): "
                           "sh -c 'echo making assets; exit 3'"), last
    assert registry.manifest_tags("commands") == set()


def test_an_unknown_package_fails_in_one_line_before_any_download(builder, registry, tmp_path):
    store = builder.cache / "s2i"
    debs, blobs, rootfs = files_under(store / "debian" / "debs"), files_under(store / "blobs"), set((store / "rootfs").glob("ext-*"))
    result = builder("build", app_copy(tmp_path, APPS / "py-missing-package"), f"{registry.host}/missing:1")
    assert result.returncode == 2 and "[build" not in result.stderr  # nothing ran
    assert result.stderr.strip().splitlines()[-1] == ("s2i: error: build.packages (s2i.toml, --build-package): no Debian package 'libpq-devv' in "
                                     "stack debian-trixie (trixie+trixie-backports) (did you mean 'libpq-dev'?)")
    flag = builder("build", app_copy(tmp_path / "flag", APPS / "py-buildpack-setting"), f"{registry.host}/missing:2",
                   "--run-package", "libpq55")
    assert flag.returncode == 2 and [line for line in flag.stderr.splitlines() if "error" in line] == [
        "s2i: error: run.packages (s2i.toml, --run-package): no Debian package 'libpq55' in stack debian-trixie (trixie+trixie-backports) "
        "(did you mean 'libpq5'?)"]
    assert files_under(store / "debian" / "debs") == debs and files_under(store / "blobs") == blobs
    assert set((store / "rootfs").glob("ext-*")) == rootfs and registry.manifest_tags("missing") == set()


def test_buildpack_set_in_s2i_toml_and_run_packages_as_their_own_layer(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "py-buildpack-setting")
    detect = builder("detect", app)
    assert detect.returncode == 0 and detect.stdout.startswith("python: chosen with s2i.toml buildpack python\n"), detect.stderr
    (app / "s2i.toml").rename(tmp_path / "kept.toml")
    assert builder("detect", app).stdout.startswith("go: found go.mod")  # what detection alone would choose
    (tmp_path / "kept.toml").rename(app / "s2i.toml")
    reference = built(builder("build", app, f"{registry.host}/chosen:1", "--run-package", "libpq5"))
    for env in ({}, {"PORT": "9000"}):
        assert run_image(f"docker://{reference}", env=env).stdout == "hello from main.py, chosen by s2i.toml\n"
    base = skopeo_inspect(f"docker://{reference}", raw=True)["layers"]
    labels = labels_of(reference)
    run_packages = {p.split("=")[0] for p in labels["io.s2i.run.packages"].split()}  # libpq5 and what the python base lacks
    assert {"libpq5", "libgssapi-krb5-2", "libldap2"} <= run_packages and not run_packages & {"libc6", "libssl3t64", "debconf"}
    shutil.rmtree(builder.cache / "s2i" / "debian" / "debs")  # the run layer is reused by content: no .deb needed again
    again = built(builder("build", app, f"{registry.host}/chosen:2", "--run-package", "libpq5"))
    assert skopeo_inspect(f"docker://{again}", raw=True)["layers"] == base
