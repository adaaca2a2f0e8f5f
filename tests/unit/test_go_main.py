"""The Go main package a build makes, and why (s2i/buildpacks/go_main.py), and go's module-download failures in one line."""

from __future__ import annotations

import pytest

from s2i.build.pipeline import detect_app
from s2i.buildpacks import get_buildpack
from s2i.buildpacks import go as go_buildpack
from s2i.buildpacks.go_main import find_main
from s2i.buildpacks.steps.go import failure, unfetched_module
from s2i.errors import UsageError

GO = get_buildpack("go")


def tree(root, files: dict[str, str]):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_generator_beside_a_library_is_not_the_main_package(tmp_path):
    # `//go:build ignore` files in package main are `go run` scripts, never built with the package
    app = tree(tmp_path, {"go.mod": "module example.com/lib\n", "lib.go": "package lib\n",
                          "gen.go": "// Code generator.\n\n//go:build ignore\n\npackage main\n", "server/main.go": "package main\n"})
    assert find_main(app, "lib") == ("./server", "the only main package in the module")


def test_the_only_main_package_anywhere_in_the_module(tmp_path):
    app = tree(tmp_path, {"go.mod": "module example.com/svc\n", "internal/db/db.go": "package db\n",
                          "api/services/sales/main.go": "// licence\npackage main\n", "api/services/sales/main_test.go": "package main\n",
                          "vendor/example.com/tool/main.go": "package main\n", "testdata/x/main.go": "package main\n",
                          "_old/main.go": "package main\n", "tools/go.mod": "module tools\n", "tools/main.go": "package main\n"})
    decision = GO.decide(app, {})
    assert (decision["package"], decision["binary"], decision["explain"]) == (
        "./api/services/sales", "/app/sales", "builds ./api/services/sales -> /app/sales (the only main package in the module)")


def test_several_main_packages_are_listed_with_the_setting(tmp_path):
    app = tree(tmp_path, {"go.mod": "module example.com/svc\n", "api/auth/main.go": "package main\n", "api/sales/main.go": "package main\n"})
    with pytest.raises(UsageError) as caught:
        GO.decide(app, {})
    assert caught.value.message == "go: no main package at the root and 2 in the module (./api/auth, ./api/sales)"
    assert caught.value.hint == 'name one in s2i.toml: [build] main = "./api/auth"'
    assert GO.decide(app, {"main": "./api/sales"})["explain"] == "builds ./api/sales -> /app/sales (s2i.toml build.main)"


def test_of_several_commands_the_one_named_like_the_module_wins(tmp_path):
    app = tree(tmp_path, {"go.mod": "module github.com/team/httpbin/v2\n", "cmd/httpbin/main.go": "package main\n",
                          "cmd/loadgen/main.go": "package main\n", "cmd/README.md": "", "examples/custom/main.go": "package main\n"})
    assert find_main(app, "httpbin") == ("./cmd/httpbin", "named like the module, of 2 under cmd/")
    assert GO.decide(app, {})["package"] == "./cmd/httpbin"  # the major-version suffix /v2 is not the module's name
    root = tree(tmp_path / "root", {"go.mod": "module github.com/team/httpbin/v2\n", "main.go": "package main\n"})
    assert GO.decide(root, {})["binary"] == "/app/httpbin"


def test_no_main_package_says_so(tmp_path):
    app = tree(tmp_path, {"go.mod": "module example.com/lib\n", "lib.go": "package lib\n"})
    with pytest.raises(UsageError) as caught:
        GO.decide(app, {})
    assert caught.value.message.startswith("go: no main package in the module")


@pytest.mark.parametrize("line, expected", [
    ('main.go:8:2: github.com/gin-gonic/gin@v1.12.0: Get "https://proxy.golang.org/github.com/gin-gonic/gin/@v/v1.12.0.zip": '
     "dial tcp: lookup proxy.golang.org on 10.0.2.3:53: no such host", "github.com/gin-gonic/gin@v1.12.0 from proxy.golang.org (no such host)"),
    ("go: github.com/x/y@v1.2.3: module lookup disabled by GOPROXY=off", "github.com/x/y@v1.2.3 (GOPROXY=off)"),
])
def test_a_module_go_could_not_download_is_named_with_the_fix(line, expected):
    assert unfetched_module(line) == (f"error: go could not download {expected}: vendor the dependencies (go mod vendor, "
                                      "commit vendor/) or set GOPROXY to a proxy the build can reach")
    assert unfetched_module("main.go:3:2: undefined: x") is None


def test_a_repo_from_before_modules_gets_its_import_path(tmp_path):
    app = tree(tmp_path / "imports", {"main.go": 'package main\n\nimport (\n\t"fmt"\n\n\tsrv "github.com/team/tool/server"\n)\n',
                                      "server/server.go": "package server\n"})
    decision = GO.decide(app, {})
    assert (decision["gopath"], decision["init_module"], decision["binary"]) == ("github.com/team/tool", "", "/app/tool")
    godeps = tree(tmp_path / "godeps", {"main.go": "package main\n", "Godeps/Godeps.json": '{"ImportPath": "github.com/a/b"}'})
    assert GO.decide(godeps, {})["gopath"] == "github.com/a/b"
    hostile = tree(tmp_path / "hostile", {"main.go": "package main\n", "Godeps/Godeps.json": '{"ImportPath": "../../etc"}'})
    assert GO.decide(hostile, {})["gopath"] == ""
    vendored = tree(tmp_path / "vendored", {"main.go": "package main\n", "vendor/x/y/y.go": "package y\n"})
    assert (GO.decide(vendored, {})["gopath"], GO.decide(vendored, {})["binary"]) == ("app", "/app/app")
    plain = tree(tmp_path / "plain", {"main.go": 'package main\n\nimport "fmt"\n'})  # no sign of GOPATH: a module is made
    assert (GO.decide(plain, {})["gopath"], GO.decide(plain, {})["init_module"]) == ("", "app")
    module = tree(tmp_path / "module", {"go.mod": "module m\n", "main.go": 'package main\n', "vendor/modules.txt": ""})
    assert GO.decide(module, {})["gopath"] == ""


def test_a_go_workspace_is_go_and_its_modules_hold_the_main_package(tmp_path):
    app = tree(tmp_path, {"go.work": "go 1.23 // the workspace\n\nuse (\n\t./svc\n\t./lib // shared\n\t../outside\n)\nuse ./tools\n",
                          "svc/go.mod": "module example.com/svc\n", "svc/cmd/api/main.go": "package main\n",
                          "lib/go.mod": "module example.com/lib\n", "lib/lib.go": "package lib\n",
                          "tools/go.mod": "module example.com/tools\n", "tools/gen/main.go": "package main\n"})
    with pytest.raises(UsageError) as caught:
        GO.decide(app, {})
    assert caught.value.message == "go: no main package at the root and 2 in the go.work modules (./svc/cmd/api, ./tools/gen)"
    (app / "go.work").write_text("go 1.23\n\nuse ./svc\nuse ./lib\n")
    decision = GO.decide(app, {})
    assert (decision["package"], decision["binary"], decision["gopath"], decision["init_module"]) == ("./svc/cmd/api", "/app/api", "", "")
    assert go_buildpack.wanted_go(app, {}).spec == ">=1.23"


def test_a_stale_vendor_directory_is_named_with_the_fix():
    output = ["go: inconsistent vendoring in /workspace:\n",
              "\tgithub.com/a/b@v1.2.0: is explicitly required in go.mod, but not marked as explicit in vendor/modules.txt\n",
              "\n", "\tTo sync the vendor directory, run:\n", "\t\tgo mod vendor\n"]
    assert failure(output) == ("error: go: vendor/modules.txt does not match go.mod (github.com/a/b@v1.2.0: is explicitly required "
                               "in go.mod, but not marked as explicit in vendor/modules.txt): run go mod vendor and commit vendor/, "
                               "or delete vendor/ so the build downloads the modules")
    assert failure(["main.go:3:2: undefined: x\n"]) is None


def test_s2i_detect_says_which_main_package_and_why_or_why_it_cannot_choose(tmp_path):
    app = tree(tmp_path, {"go.mod": "module example.com/svc\n", "cmd/api/main.go": "package main\n"})
    detection, _ = detect_app(app, None)
    assert detection.reasons == ("found go.mod", "builds ./cmd/api -> /app/api (the only main package under cmd/)")
    tree(tmp_path, {"cmd/worker/main.go": "package main\n"})
    detection, _ = detect_app(app, None)
    assert detection.reasons[-1] == ("cannot choose what to build: go: no main package at the root and 2 under cmd/ "
                                     '(./cmd/api, ./cmd/worker) (name one in s2i.toml: [build] main = "./cmd/api")')


def test_embedded_files_are_not_kept_beside_the_program(tmp_path):
    app = tree(tmp_path, {"go.mod": "module x\n", "main.go": 'package main\n\nimport "embed"\n\nvar (\n\t//go:embed static "web/a b.html"\n\tfs embed.FS\n)\n',
                          "static/app.js": "", "static/img/logo.png": "", "web/a b.html": "", "web/other.html": "",
                          "templates/page.tmpl": "", "gen/big.go": "//go:embed templates\n" + "//" * (1 << 20)})
    assert GO.decide(app, {})["assets"] == ["templates/page.tmpl", "web/other.html"]  # a generated file over 1 MiB embeds nothing
    assert GO.decide(app, {"assets": ["static/**/*"]})["assets"] == ["static/app.js", "static/img/logo.png"]  # as asked
    (app / "main.go").write_text("package main\n\n//go:embed all:static ../outside /etc/passwd\nvar fs embed.FS\n")
    assert GO.decide(app, {})["assets"] == ["templates/page.tmpl", "web/a b.html", "web/other.html"]


def test_the_build_env_the_app_sets_reaches_the_step_by_name():
    from s2i.build.config import AppConfig
    from s2i.build.plan import make_plan
    from tests.unit.test_build_plan import STACK
    plan = make_plan(GO, (), AppConfig(build_env=(("CGO_ENABLED", "0"),)), STACK, {}, 0, {}, {"package": "."})
    assert plan.step_input["app_env"] == ["CGO_ENABLED"] and dict(plan.build_env)["CGO_ENABLED"] == "0"
    assert "app_env" not in make_plan(GO, (), AppConfig(), STACK, {}, 0, {}, {"package": "."}).step_input


def test_an_import_no_required_module_provides_is_named_with_the_fix():
    output = ["main.go:6:2: no required module provides package github.com/google/uuid; to add it:\n", "\tgo get github.com/google/uuid\n"]
    assert failure(output) == ("error: go: no module in go.mod provides github.com/google/uuid (main.go:6:2): add it with go get "
                               "(or go mod tidy) and commit go.mod and go.sum (without a go.mod: go mod init NAME first)")
