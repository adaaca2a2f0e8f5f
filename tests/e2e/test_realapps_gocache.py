"""`--cache` on fresh runners, Go: an edit sends only what the build wrote, and the entry holds only what builds used."""

from __future__ import annotations

import io
import tarfile

import pytest
import zstandard

from tests.e2e.helpers import registry_uploads, skopeo_inspect
from tests.e2e.test_build import EXAMPLES, app_copy, built
from tests.e2e.test_registry_cache import Runner, warnings

pytestmark = pytest.mark.e2e


def cache_entry(registry, repo: str) -> dict:
    [tag] = [tag for tag in registry.manifest_tags(repo) if tag.startswith("cache-")]
    return skopeo_inspect(f"docker://{registry.host}/{repo}:{tag}", raw=True)


def entry_go_files(registry, manifest: dict) -> set[str]:
    """The Go build cache files the entry's parts hold, read from the registry's storage."""
    names = set()
    for layer in manifest["layers"]:
        hexdigest = layer["digest"].split(":")[1]
        data = (registry.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data").read_bytes()
        with tarfile.open(fileobj=io.BytesIO(zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read())) as tar:
            names |= {member.name for member in tar.getmembers() if member.isfile() and member.name.startswith("go-build/")}
    return names


def compiled(result) -> list[str]:
    """The packages `go build -v` names: those it compiled."""
    said = [line.removeprefix("[build go] ") for line in result.stderr.splitlines() if line.startswith("[build go] ")]
    return [words for words in said if words and " " not in words]


def test_a_one_line_change_on_a_fresh_runner_sends_only_what_the_build_wrote(built_stack, registry, tmp_path):
    app = app_copy(tmp_path, EXAMPLES / "go-httpd")
    (app / "s2i.toml").write_text('ports = ["8080"]\n[build]\nenv = { GOFLAGS = "-v" }\n')
    repo = "cache/gocache"
    cache = f"{registry.host}/{repo}"
    runner_a = Runner(tmp_path / "runner-a", built_stack)
    built(runner_a("build", app, f"{registry.host}/go:a", "--cache", cache))
    first = cache_entry(registry, repo)
    [go_build] = (runner_a.cache / "s2i" / "builds").glob("*/go/go-build")
    local = {f"go-build/{path.relative_to(go_build)}" for path in go_build.rglob("*") if path.is_file()}
    kept = entry_go_files(registry, first)
    assert kept < local and len(kept) < 0.8 * len(local), (len(kept), len(local))  # standard library entries it never read
    (app / "main.go").write_text((app / "main.go").read_text().replace("hello from go-httpd", "hello again"))
    before = len(registry.requests())
    second = Runner(tmp_path / "runner-b", built_stack)("build", app, f"{registry.host}/go:b", "--cache", cache)
    image_b = built(second)
    assert compiled(second) == ["example.com/go-httpd"], second.stderr  # what was left out was not needed
    entry = cache_entry(registry, repo)
    assert entry["layers"][:-1] == first["layers"]  # the parts runner A wrote, and one more
    # measured at the registry: to the cache, runner B sent that one part and the entry's config, a sliver of the entry
    sent = {upload.digest for upload in registry_uploads(registry.requests()[before:])[0] if upload.repo == repo}
    assert sent == {entry["layers"][-1]["digest"], entry["config"]["digest"]}
    assert entry["layers"][-1]["size"] * 50 < sum(layer["size"] for layer in first["layers"]), entry["layers"][-1]
    assert warnings(second) == []
    # a third runner, no change: the whole chain comes back (go compiles nothing) and the cache is not written
    before = len(registry.requests())
    third = Runner(tmp_path / "runner-c", built_stack)("build", app, f"{registry.host}/go:c", "--cache", cache)
    assert built(third).rsplit("@", 1)[1] == image_b.rsplit("@", 1)[1]
    assert compiled(third) == [] and "cache: 0 of 1 entries written" in third.stderr, third.stderr
    writes = [r.path for r in registry.requests()[before:] if r.method in ("PUT", "POST", "PATCH") and r.path.startswith(f"/v2/{repo}/")]
    assert writes == [] and cache_entry(registry, repo) == entry
    assert warnings(third) == []
