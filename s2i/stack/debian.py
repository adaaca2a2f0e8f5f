"""A private apt view of the host's Debian sources: resolve versions, download and unpack .debs."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import tempfile
from pathlib import Path

from s2i.errors import S2IError
from s2i.files import file_sha256
from s2i.stack.rootfs import unpack_tar_stream

HOST_SOURCES = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list")), *sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))]


def host_sources() -> list[str]:
    """The host's apt sources, never a hard-coded mirror."""
    found = [path for path in HOST_SOURCES if os.path.isfile(path) and os.path.getsize(path)]
    if not found:
        raise S2IError("the host has no apt sources", "configure /etc/apt/sources.list(.d) for your Debian mirror")
    return found


def host_codename(os_release: str = "/etc/os-release") -> str:
    try:
        text = open(os_release).read()
    except OSError:
        text = ""
    found = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", text, re.MULTILINE)
    if not found:
        raise S2IError("cannot tell the host's Debian release (no VERSION_CODENAME in /etc/os-release)", "run s2i on Debian")
    return found.group(1)


def _retarget(suites: list[str], host: str, suite: str, extra: tuple[str, ...]) -> list[str]:
    """bookworm, bookworm-updates, bookworm-security -> the same for `suite`, plus `extra` beside the main suite."""
    out = [suite + name[len(host):] for name in suites if name == host or name.startswith(host + "-")]
    return out + list(extra) if host in suites else out


def _retarget_deb822(text: str, host: str, suite: str, extra: tuple[str, ...]) -> str:
    stanzas = []
    for stanza in re.split(r"\n\s*\n", text.strip()):
        found = re.search(r"^Suites:(.*)$", stanza, re.MULTILINE)
        suites = _retarget(found.group(1).split(), host, suite, extra) if found else []
        if suites:
            stanzas.append(stanza[:found.start(1)] + " " + " ".join(suites) + stanza[found.end(1):])
    return "\n\n".join(stanzas) + "\n" if stanzas else ""


def _retarget_lines(text: str, host: str, suite: str, extra: tuple[str, ...]) -> str:
    lines = []
    for line in text.splitlines():
        found = re.match(r"^(deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?\S+\s+)(\S+)(\s.*)$", line.strip())
        if found:
            lines += [found.group(1) + name + found.group(3) for name in _retarget([found.group(2)], host, suite, extra)]
    return "".join(line + "\n" for line in lines)


def suite_sources(suite: str, extra: tuple[str, ...] = (), host: str | None = None) -> list[tuple[str, str]]:
    """The host's Debian sources pointed at `suite` (and `extra` suites): same mirrors, other suite names.

    Sources of other vendors (no suite named after the host's release) are left out: stacks are Debian only.
    """
    host = host or host_codename()
    found = []
    for n, path in enumerate(host_sources()):
        deb822 = path.endswith(".sources")
        with open(path) as handle:
            text = (_retarget_deb822 if deb822 else _retarget_lines)(handle.read(), host, suite, extra)
        if text:
            found.append((f"{n:02d}-{suite}{'.sources' if deb822 else '.list'}", text))
    if not found:
        raise S2IError(f"the host's apt sources name no {host} suite to derive {suite}'s from", "list the Debian mirror in /etc/apt/sources.list(.d)")
    return found


def write_sources(directory: Path, suite: str, extra: tuple[str, ...] = ()) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    paths = []
    for name, text in suite_sources(suite, extra):
        (directory / name).write_text(text)
        paths.append(directory / name)
    return paths


def _parse_stanza(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and key:
            fields[key] += "\n" + line
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


class AptArchive:
    """apt-get with its own lists, status and .deb cache, so the host's package state never leaks in."""

    def __init__(self, cache_dir: Path, architecture: str = "amd64", suite: str = "bookworm", extra_suites: tuple[str, ...] = ()):
        # indexes per suite set and architecture (amd64's keep their older name); .debs shared
        self.dir = cache_dir / "suites" / ("+".join((suite, *extra_suites)) + ("" if architecture == "amd64" else f"@{architecture}"))
        self.architecture = architecture
        self.suite, self.extra_suites = suite, extra_suites
        self.debs = cache_dir / "debs"
        self._records: dict[tuple[str, str], dict[str, str]] = {}

    def _options(self) -> list[str]:
        state = self.dir / "state"
        return [
            "-o", f"Dir::State={state}",
            "-o", f"Dir::State::lists={state / 'lists'}",
            "-o", f"Dir::State::status={state / 'status'}",
            "-o", f"Dir::Cache={self.dir / 'apt-cache'}",
            "-o", "Dir::Etc::sourcelist=/dev/null",
            "-o", f"Dir::Etc::sourceparts={self.dir / 'sources'}",
            "-o", f"Dir::Etc::preferencesparts={self.dir / 'preferences'}",
            "-o", f"APT::Architecture={self.architecture}",
            "-o", f"APT::Architectures={self.architecture}",
            "-o", "APT::Sandbox::User=root",
            "-o", "Debug::NoLocking=1",
        ]

    def _run(self, tool: str, *args: str, cwd: Path | None = None) -> str:
        result = subprocess.run([tool, *self._options(), *args], capture_output=True, text=True, cwd=cwd)
        if result.returncode != 0:
            message = (result.stderr.strip().splitlines() or ["failed"])[-1]
            raise S2IError(f"{tool} {args[0]}: {message}", "check the host's apt sources and network")
        return result.stdout

    @property
    def ready(self) -> bool:
        return any((self.dir / "state" / "lists").glob("*Packages*"))

    def update(self) -> None:
        for sub in ("state/lists/partial", "apt-cache/archives/partial", "sources", "preferences"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "state" / "status").touch()
        write_sources(self.dir / "sources", self.suite, self.extra_suites)
        self._run("apt-get", "update", "-qq")

    def candidates(self, packages: list[str]) -> dict[str, str]:
        """The version apt would pick today for each package."""
        versions = {}
        for stanza in self._run("apt-cache", "show", "--no-all-versions", *packages).split("\n\n"):
            fields = _parse_stanza(stanza)
            if "Package" in fields:
                versions[fields["Package"]] = fields["Version"]
        missing = sorted(set(packages) - set(versions))
        if missing:
            raise S2IError(f"no Debian package named {', '.join(missing)}", "check the names in the stack file")
        return versions

    def available(self) -> str:
        """Every package's candidate stanza (what apt would install today), as `apt-cache dumpavail` prints them."""
        return self._run("apt-cache", "dumpavail")

    def records(self, versions: dict[str, str]) -> dict[str, dict[str, str]]:
        """The archive's index stanza of each name=version, in one apt-cache call; versions it lacks are left out."""
        wanted = {(name, version) for name, version in versions.items() if (name, version) not in self._records}
        if wanted:
            output = self._run("apt-cache", "show", *sorted(f"{name}={version}" for name, version in wanted))
            for stanza in output.split("\n\n"):
                fields = _parse_stanza(stanza)
                key = (fields.get("Package", ""), fields.get("Version", ""))
                if key in wanted and "Filename" in fields and "SHA256" in fields:
                    self._records.setdefault(key, fields)
        return {name: self._records[(name, version)] for name, version in versions.items() if (name, version) in self._records}

    def record(self, package: str, version: str) -> dict[str, str]:
        found = self.records({package: version})
        if package not in found:
            raise S2IError(f"the Debian archive no longer has {package}={version} (locked)", "refresh the lock: s2i stack build --update")
        return found[package]

    def download(self, package: str, version: str) -> Path:
        """The .deb, from the cache when its SHA256 matches the archive's index."""
        fields = self.record(package, version)
        target = self.debs / os.path.basename(fields["Filename"])
        if target.exists() and file_sha256(target) == fields["SHA256"]:
            return target
        self.debs.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.debs) as temp:
            self._run("apt-get", "download", "-qq", f"{package}={version}", cwd=Path(temp))
            downloaded = next(Path(temp).glob("*.deb"))
            if file_sha256(downloaded) != fields["SHA256"]:
                raise S2IError(f"{downloaded.name} does not match the archive's checksum", "retry; the mirror may be syncing")
            os.replace(downloaded, target)
        return target


def extract_deb(deb: Path, root: Path) -> str:
    """Unpack the package's files into root (no maintainer scripts) and return its control stanza."""
    process = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    try:
        unpack_tar_stream(str(root), process.stdout)
    finally:
        process.stdout.close()
        if process.wait() != 0:
            raise S2IError(f"dpkg-deb could not read {deb.name}", "delete it from the cache and build again")
    control = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True).stdout
    return control
