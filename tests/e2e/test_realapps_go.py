"""Go apps shaped like public ones users point s2i at: module downloads, main package choice, cgo, workspaces."""

from __future__ import annotations

import pytest

from s2i.errors import EXIT_BUILD
from tests.e2e.helpers import run_image, skopeo_inspect, start_image
from tests.e2e.test_build import APPS, app_copy, built, http_get

pytestmark = pytest.mark.e2e


def test_a_module_the_build_cannot_download_is_one_line_naming_vendor_and_goproxy(builder, registry, tmp_path):
    # like heroku/go-getting-started or traefik/whoami: dependencies in go.mod and go.sum, no vendor/
    result = builder("build", app_copy(tmp_path, APPS / "go-modules"), f"{registry.host}/modules:1", "--network", "none",
                     env={"GOPROXY": "", "GOFLAGS": ""})
    assert result.returncode == EXIT_BUILD, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("s2i: error: build go failed (exit 1): s2i: error: go could not download github.com/google/uuid@v1.6.0 "
                           "from proxy.golang.org ("), last
    assert last.endswith("): vendor the dependencies (go mod vendor, commit vendor/) or set GOPROXY to a proxy the build "
                         "can reach (see the build output above)"), last
    assert registry.manifest_tags("modules") == set()


def test_the_only_main_package_of_a_service_layout_is_built_and_serves_on_port(builder, registry, tmp_path):
    # like ardanlabs/service: no root main (only a `//go:build ignore` generator), no cmd/, one main under api/services/
    result = builder("build", app_copy(tmp_path, APPS / "go-services"), f"{registry.host}/services:1")
    reference = built(result)
    assert "go builds ./api/services/greeter -> /app/greeter (the only main package in the module)" in result.stderr
    with start_image(f"docker://{reference}", wait_for_port=8080, timeout=30):
        assert http_get("http://127.0.0.1:8080/") == "hello from greeter on port 8080\n"
    with start_image(f"docker://{reference}", env={"PORT": "9393"}, wait_for_port=9393, timeout=30):
        assert http_get("http://127.0.0.1:9393/") == "hello from greeter on port 9393\n"


def test_a_package_that_needs_cgo_is_built_with_it_and_runs_on_static(builder, registry, tmp_path):
    # like an app using mattn/go-sqlite3: built without cgo, the driver compiles to a stub that fails at run time
    result = builder("build", app_copy(tmp_path, APPS / "go-cgo"), f"{registry.host}/cgo:1")
    reference = built(result)
    assert ("cgo: example.com/cgosum/native uses cgo: CGO_ENABLED=1, linked statically against glibc (tags netgo, osusergo)"
            in result.stderr)
    config = skopeo_inspect(f"docker://{reference}", config=True)
    assert config["config"]["Entrypoint"] == ["/s2i/launch", "/app/cgosum"]
    ran = run_image(f"docker://{reference}")
    assert (ran.returncode, ran.stdout) == (0, "sum from C: 5\n"), ran.stderr


def test_cgo_can_be_turned_off_and_its_link_failure_is_the_first_linker_error(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "go-cgo")
    (app / "s2i.toml").write_text('[build]\nenv = { CGO_ENABLED = "0" }\n')  # the app's own choice wins: the stub
    result = builder("build", app, f"{registry.host}/nocgo:1")
    assert "cgo:" not in result.stderr
    assert run_image(f"docker://{built(result)}").stdout == "stub: built without cgo, this package needs cgo to work\n"
    (app / "s2i.toml").unlink()
    source = (app / "native" / "native_cgo.go").read_text()
    (app / "native" / "native_cgo.go").write_text(source.replace("static int add(int a, int b) { return a + b; }",
                                                                 "int add(int a, int b); // declared, never defined"))
    result = builder("build", app, f"{registry.host}/brokencgo:1")
    assert result.returncode == EXIT_BUILD
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("s2i: error: build go failed (exit 1): s2i: error: ") and "undefined reference to `add'" in last, last
    assert last.endswith('(cgo is on for example.com/cgosum/native; [build] env = { CGO_ENABLED = "0" } builds without it) '
                         "(see the build output above)"), last
    assert registry.manifest_tags("brokencgo") == set()


def test_a_library_package_named_as_main_fails_instead_of_shipping_no_program(builder, registry, tmp_path):
    app = app_copy(tmp_path, APPS / "go-services")
    (app / "s2i.toml").write_text('[build]\nmain = "."\n')  # the root holds the module's library package
    result = builder("build", app, f"{registry.host}/library:1")
    assert result.returncode == EXIT_BUILD, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "s2i: error: build go failed (exit 1): s2i: error: go build . made no program: it is not a main package; "
        'name the one to build in s2i.toml: [build] main = "./cmd/NAME" (see the build output above)')
    assert registry.manifest_tags("library") == set()


def test_a_gopath_era_repo_with_vendor_and_full_import_paths_builds_in_gopath_mode(builder, registry, tmp_path):
    # like yudai/gotty: no go.mod, Godeps-style vendor/ without modules.txt, `github.com/yudai/gotty/server` imports
    result = builder("build", app_copy(tmp_path, APPS / "go-gopath"), f"{registry.host}/gopath:1")
    reference = built(result)
    assert "no go.mod: GOPATH mode at $GOPATH/src/example.com/team/greeter, as Go built it before modules" in result.stderr
    ran = run_image(f"docker://{reference}")
    assert (ran.returncode, ran.stdout) == (0, "HELLO FROM A GOPATH-ERA REPO\n"), ran.stderr


def test_a_go_workspace_without_a_root_module_builds_its_one_main_package(builder, registry, tmp_path):
    result = builder("build", app_copy(tmp_path, APPS / "go-workspace"), f"{registry.host}/workspace:1")
    reference = built(result)
    assert "s2i: detected go: found go.work" in result.stderr
    assert "runtime: go 1.26 on stack debian-trixie: go.work (go 1.22) asks go >=1.22" in result.stderr
    assert "go builds ./api -> /app/api (the only main package in the go.work modules)" in result.stderr
    ran = run_image(f"docker://{reference}")
    assert (ran.returncode, ran.stdout) == (0, "hello from the workspace\n"), ran.stderr


def test_a_stale_vendor_directory_is_one_line_naming_go_mod_vendor(builder, registry, tmp_path):
    result = builder("build", app_copy(tmp_path, APPS / "go-stale-vendor"), f"{registry.host}/stale:1", "--network", "none")
    assert result.returncode == EXIT_BUILD, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "s2i: error: build go failed (exit 1): s2i: error: go: vendor/modules.txt does not match go.mod "
        "(github.com/google/uuid@v1.6.0: is explicitly required in go.mod, but not marked as explicit in vendor/modules.txt): "
        "run go mod vendor and commit vendor/, or delete vendor/ so the build downloads the modules (see the build output above)")
    assert registry.manifest_tags("stale") == set()


def test_a_toolchain_line_newer_than_any_stack_builds_with_the_newest_go(builder, tmp_path):
    # go.mod written by a developer's newer Go: the go line is the minimum; GOTOOLCHAIN=local never fetches the toolchain
    app = tmp_path / "newer"
    app.mkdir()
    (app / "go.mod").write_text("module example.com/newer\n\ngo 1.25.0\n\ntoolchain go1.28.1\n")
    (app / "main.go").write_text("package main\n\nfunc main() {}\n")
    result = builder("detect", app)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == ("runtime: go 1.26 on stack debian-trixie: go.mod (go 1.25.0, toolchain go1.28.1) "
                                              "asks go >=1.25; the newest that meets it")


def test_files_the_program_embeds_are_not_kept_again_beside_it(builder, registry, tmp_path):
    # like mccutchen/go-httpbin or mattn/nostr-relay: static/ is in the binary (embed.FS); templates/ is read from disk
    result = builder("build", app_copy(tmp_path, APPS / "go-embed"), f"{registry.host}/embed:1")
    reference = built(result)
    assert "kept 1 files the program may read beside it: templates/page.tmpl" in result.stderr
    files = builder("inspect", "--insecure-registry", registry.host, reference, "--files", "3")
    assert [line.split()[-1] for line in files.stdout.splitlines()] == ["/app/embedded", "/app/templates/page.tmpl"], files.stderr
    with start_image(f"docker://{reference}", wait_for_port=8080, timeout=30):
        assert http_get("http://127.0.0.1:8080/static/hello.txt") == "embedded in the binary\n"
        assert http_get("http://127.0.0.1:8080/") == "template read from disk\n"


def test_an_import_without_a_module_is_one_line_naming_go_get_not_go_s_last_line(builder, registry, tmp_path):
    # a gist-like main.go without go.mod that imports a third-party package: go's summary ended with `go get X`
    app = tmp_path / "uuidgen"
    app.mkdir()
    (app / "main.go").write_text('package main\n\nimport (\n\t"fmt"\n\n\t"github.com/google/uuid"\n)\n\n'
                                 "func main() { fmt.Println(uuid.NewString()) }\n")
    result = builder("build", app, f"{registry.host}/uuidgen:1", "--network", "none")
    assert result.returncode == EXIT_BUILD, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "s2i: error: build go failed (exit 1): s2i: error: go: no module in go.mod provides github.com/google/uuid (main.go:6:2): "
        "add it with go get (or go mod tidy) and commit go.mod and go.sum (without a go.mod: go mod init NAME first) "
        "(see the build output above)")
    assert registry.manifest_tags("uuidgen") == set()
