"""`s2i rebase`: flask-hello moved onto a newer run base with no build; only a config and a manifest are uploaded."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.helpers import registry_uploads, skopeo_inspect, start_image
from tests.e2e.test_build import built, http_get

pytestmark = pytest.mark.e2e
FLASK = REPO_ROOT / "examples" / "flask-hello"


@pytest.fixture
def bases(builder, registry, tmp_path):
    """(old, new): the stack's python base in the registry, and the same rebuilt with one changed file."""
    old, new = f"{registry.host}/bases/python:old", f"{registry.host}/bases/python:new"
    assert builder("copy", "store:stacks/debian-trixie/run-python", old).returncode == 0
    changed = tmp_path / "changed" / "etc"
    changed.mkdir(parents=True)
    (changed / "base-release").write_text("2\n")
    assert builder("append", old, new, "--layer", changed.parent).returncode == 0
    return old, new


def test_rebase_moves_the_app_layers_and_uploads_only_config_and_manifest(builder, registry, bases):
    old, new = bases
    target = f"{registry.host}/rebase/flask:1"
    built(builder("build", FLASK, target, "--run-image", old))
    before_manifest = skopeo_inspect(f"docker://{target}", raw=True)
    old_layers = skopeo_inspect(f"docker://{old}", raw=True)["layers"]
    new_layers = skopeo_inspect(f"docker://{new}", raw=True)["layers"]
    app_layers = before_manifest["layers"][len(old_layers):]

    mark = len(registry.requests())
    result = builder("rebase", target, "--run-image", new, "--json")
    assert result.returncode == 0, result.stderr
    after = skopeo_inspect(f"docker://{target}", raw=True)
    assert json.loads(result.stdout)["digest"] == skopeo_inspect(f"docker://{target}")["Digest"]
    assert after["layers"] == new_layers + app_layers  # app layer digests unchanged, on the new base
    data, _ = registry_uploads(registry.requests()[mark:])
    assert [u.digest for u in data] == [after["config"]["digest"]]  # nothing else sent: layers were there or mounted
    manifests = [r for r in registry.requests()[mark:] if r.method == "PUT" and "/manifests/" in r.path]
    assert len(manifests) == 1
    assert after["annotations"]["org.opencontainers.image.base.name"] == new
    assert after["annotations"]["org.opencontainers.image.base.digest"] == skopeo_inspect(f"docker://{new}")["Digest"]

    listing = builder("inspect", target, "--files", str(len(new_layers)))
    assert "/etc/base-release" in listing.stdout
    with start_image(f"docker://{target}", wait_for_port=9080, timeout=30):
        assert http_get("http://127.0.0.1:9080/") == "Hello, World"


REFUSALS = [
    ("io.s2i.stack=debian-bookworm", "is from stack debian-bookworm, the app was built on debian-trixie"),
    ("io.s2i.stack.libc=2.36", "has glibc 2.36, older than the 2.41 the app was built against"),
    ("io.s2i.stack.python=3.11", "has CPython 3.11, the app's packages were built for 3.13"),
]


def test_rebase_refuses_a_base_of_another_family_or_an_older_abi(builder, registry, bases, tmp_path):
    old, _ = bases
    target = f"{registry.host}/rebase/refused:1"
    built(builder("build", FLASK, target, "--run-image", old))
    before = skopeo_inspect(f"docker://{target}")["Digest"]
    empty = tmp_path / "empty"
    empty.mkdir()
    for n, (label, said) in enumerate(REFUSALS):
        other = f"{registry.host}/bases/other:{n}"
        assert builder("append", old, other, "--layer", empty, "--label", label).returncode == 0
        result = builder("rebase", target, "--run-image", other)
        assert result.returncode == 2 and said in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert skopeo_inspect(f"docker://{target}")["Digest"] == before  # the tag is untouched
