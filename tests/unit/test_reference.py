import pytest

from s2i.errors import UsageError
from s2i.oci.reference import ArchiveLocation, LayoutLocation, Reference, ScratchLocation, parse_location, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "text, expected",
    [
        ("alpine", Reference("docker.io", "library/alpine", "latest")),
        ("ubuntu:22.04", Reference("docker.io", "library/ubuntu", "22.04")),
        ("team/app", Reference("docker.io", "team/app", "latest")),
        ("docker.io/alpine:3", Reference("docker.io", "library/alpine", "3")),
        ("index.docker.io/team/app:1", Reference("docker.io", "team/app", "1")),
        ("127.0.0.1:5000/t/hello:1", Reference("127.0.0.1:5000", "t/hello", "1")),
        ("localhost/x", Reference("localhost", "x", "latest")),
        ("[::1]:5000/a/b@" + DIGEST, Reference("[::1]:5000", "a/b", "", DIGEST)),
        ("gcr.io/x/y:v1.2@" + DIGEST, Reference("gcr.io", "x/y", "v1.2", DIGEST)),
        ("registry.example:5000/team/app:1.2", Reference("registry.example:5000", "team/app", "1.2")),
    ],
)
def test_parse_reference(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "UPPER/case", "a/b:bad tag", "a/b@sha256:123", "host:5000/", "a//b", " alpine", "a/b:" + "x" * 200, "-a/b"],
)
def test_bad_references_raise_one_line_usage_errors(text):
    with pytest.raises(UsageError) as caught:
        parse_reference(text)
    assert "\n" not in caught.value.one_line()
    assert caught.value.hint


def test_reference_properties():
    ref = parse_reference("[::1]:5000/a/b:1")
    assert ref.hostname == "[::1]" and ref.is_loopback and ref.identifier == "1"
    assert parse_reference("alpine").api_host == "registry-1.docker.io"
    assert str(parse_reference("127.0.0.1:5000/t/x@" + DIGEST)) == "127.0.0.1:5000/t/x@" + DIGEST
    assert not parse_reference("example.com/a").is_loopback


def test_parse_locations(tmp_path):
    assert parse_location("scratch") == ScratchLocation()
    assert parse_location(f"oci:{tmp_path}:v1") == LayoutLocation(tmp_path, "v1")
    assert parse_location(f"oci:{tmp_path}") == LayoutLocation(tmp_path, "latest")
    assert parse_location("docker-archive:/tmp/a.tar:team/app:1") == ArchiveLocation(
        __import__("pathlib").Path("/tmp/a.tar"), Reference("docker.io", "team/app", "1")
    )
    assert parse_location("docker-archive:/tmp/a.tar").reference is None
    with pytest.raises(UsageError):
        parse_location("docker://127.0.0.1:5000/a/b")
    with pytest.raises(UsageError):
        parse_location("oci:")
