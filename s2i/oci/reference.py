"""Parses image references and the places images live: registries, OCI layouts, archives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from s2i.errors import UsageError
from s2i.oci.types import is_digest

DOCKER_HUB = "docker.io"
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_HOST = re.compile(r"^(?:\[[0-9a-fA-F:]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?)(?::[0-9]+)?$")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
REFERENCE_HINT = "write it as [host[:port]/]repo[:tag][@sha256:...], e.g. 127.0.0.1:5000/team/app:1"


def host_name(host: str) -> str:
    """A registry address without its port: `[::1]:5000` -> `[::1]`, `reg:5000` -> `reg`."""
    if host.startswith("["):
        return host[: host.index("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_loopback(host: str) -> bool:
    return host_name(host) in LOOPBACK_HOSTS


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def identifier(self) -> str:
        """What to ask the registry for: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def api_host(self) -> str:
        return "registry-1.docker.io" if self.registry == DOCKER_HUB else self.registry

    @property
    def hostname(self) -> str:
        return host_name(self.registry)

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.registry)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.registry, self.repository, "", digest)

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag, "")

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> Reference:
    """Docker's rules: a first part with '.', ':' or 'localhost' is a host, else Docker Hub."""
    if not text or text != text.strip():
        raise UsageError(f"invalid image reference {text!r}", REFERENCE_HINT)
    name, _, digest = text.partition("@")
    if digest and not is_digest(digest):
        raise UsageError(f"invalid digest in {text!r}", "a digest is sha256: and 64 hex digits")
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
        if not _TAG.match(tag):
            raise UsageError(f"invalid tag {tag!r} in {text!r}", REFERENCE_HINT)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        if not _HOST.match(first):
            raise UsageError(f"invalid registry host {first!r} in {text!r}", REFERENCE_HINT)
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = "library/" + repository
    if not all(_COMPONENT.match(part) for part in repository.split("/")):
        raise UsageError(f"invalid repository name {repository!r} in {text!r}", REFERENCE_HINT)
    if not tag and not digest:
        tag = "latest"
    return Reference(registry, repository, tag, digest)


@dataclass(frozen=True)
class RegistryLocation:
    reference: Reference
    tags: tuple[str, ...] = ()  # more tags in the same repository, each naming the same manifest

    @property
    def base_name(self) -> str:
        """What an image built on this one records (`org.opencontainers.image.base.name`) for rebasing."""
        return str(self.reference)

    def __str__(self) -> str:
        return str(self.reference)


@dataclass(frozen=True)
class LayoutLocation:
    base_name = None  # only registry images can be rebased onto by name
    path: Path
    tag: str = "latest"

    def __str__(self) -> str:
        return f"oci:{self.path}:{self.tag}"


@dataclass(frozen=True)
class ArchiveLocation:
    base_name = None  # only registry images can be rebased onto by name
    path: Path
    reference: Reference | None = None

    def __str__(self) -> str:
        return f"docker-archive:{self.path}" + (f":{self.reference}" if self.reference else "")


@dataclass(frozen=True)
class ScratchLocation:
    base_name = None  # only registry images can be rebased onto by name
    def __str__(self) -> str:
        return "scratch"


@dataclass(frozen=True)
class StoreLocation:
    base_name = None  # only registry images can be rebased onto by name
    """An image kept in the local store under refs/NAME (stacks, builds without a destination)."""

    name: str

    def __str__(self) -> str:
        return f"store:{self.name}"


Location = RegistryLocation | LayoutLocation | ArchiveLocation | ScratchLocation | StoreLocation


def check_tag(tag: str, flag: str = "--tag") -> str:
    if not _TAG.match(tag):
        raise UsageError(f"{flag} {tag!r} is not a tag", "a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'")
    return tag


def parse_destination(text: str, tags: tuple[str, ...] = ()) -> Location:
    """Where to write an image, tagged `tags` too; a registry destination that names no tag gets only `tags` (no `latest`)."""
    location = parse_location(text)
    if not tags:
        return location
    if not isinstance(location, RegistryLocation) or location.reference.digest:
        raise UsageError(f"--tag needs a registry destination host/repo[:tag], not {text!r}", "push to a registry, or leave --tag out")
    reference = location.reference
    named = (reference.tag,) if ":" in text.rsplit("/", 1)[-1] else ()
    wanted = tuple(dict.fromkeys((*named, *(check_tag(tag) for tag in tags))))
    return RegistryLocation(Reference(reference.registry, reference.repository, wanted[0]), wanted[1:])


def parse_location(text: str) -> Location:
    """`scratch`, `oci:DIR[:TAG]`, `docker-archive:FILE[:REF]`, `store:NAME`, or a registry reference."""
    if text == "scratch":
        return ScratchLocation()
    if text.startswith("oci:"):
        body = text[4:]
        path, sep, tag = body.rpartition(":")
        if not sep or "/" in tag:
            path, tag = body, "latest"
        if not path:
            raise UsageError(f"invalid OCI layout {text!r}", "write it as oci:DIR[:TAG]")
        if not _TAG.match(tag):
            raise UsageError(f"invalid tag {tag!r} in {text!r}", "write it as oci:DIR[:TAG]")
        return LayoutLocation(Path(path), tag)
    if text.startswith("docker-archive:"):
        path, _, ref = text[len("docker-archive:") :].partition(":")
        if not path:
            raise UsageError(f"invalid archive {text!r}", "write it as docker-archive:FILE[:REF]")
        return ArchiveLocation(Path(path), parse_reference(ref) if ref else None)
    if text.startswith("store:"):
        name = text[len("store:") :].strip("/")
        if not name or ".." in name.split("/"):
            raise UsageError(f"invalid store name {text!r}", "write it as store:NAME, e.g. store:stacks/debian-bookworm/run-static")
        return StoreLocation(name)
    if "://" in text:
        raise UsageError(f"invalid image reference {text!r}", "drop the scheme: " + REFERENCE_HINT)
    return RegistryLocation(parse_reference(text))


def repository_name(location) -> str:
    """How an image is named without its tag or digest: HOST/REPO in a registry, else the location as written."""
    if isinstance(location, RegistryLocation):
        return f"{location.reference.registry}/{location.reference.repository}"
    return str(location)
