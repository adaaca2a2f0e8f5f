"""Lock files: the exact version and SHA256 of every Debian package in a stack, and what changed."""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from s2i.errors import S2IError, UsageError
from s2i.files import atomic_write

FOREIGN = "run-"  # [run-arm64]: a table of its own, so readers that know only [run] and [builder] pass over it
HEADER = "# Exact Debian package versions and .deb SHA256s; written by `s2i stack build --update`, used as is otherwise."


@dataclass(frozen=True)
class Lock:
    """`run` pins run-base packages, `builder` everything in the builder; `sha256` pins their content."""

    run: dict[str, str]
    builder: dict[str, str]
    run_sha256: dict[str, str] = field(default_factory=dict)
    builder_sha256: dict[str, str] = field(default_factory=dict)
    # run-base pins of the stack's other architectures: architecture -> package -> version (and -> sha256)
    foreign_run: dict[str, dict[str, str]] = field(default_factory=dict)
    foreign_sha256: dict[str, dict[str, str]] = field(default_factory=dict)

    def digest(self) -> str:
        """Of the builder architecture's pins only, so adding another architecture changes no amd64 image."""
        return "sha256:" + hashlib.sha256(format_lock(self.without_foreign()).encode()).hexdigest()

    def without_foreign(self) -> Lock:
        return dataclasses.replace(self, foreign_run={}, foreign_sha256={})

    def for_architecture(self, architecture: str) -> Lock | None:
        """Another architecture's run-base pins as a lock of their own (its digest labels that architecture's bases)."""
        if architecture not in self.foreign_run:
            return None
        return Lock(self.foreign_run[architecture], {}, self.foreign_sha256.get(architecture, {}))

    def with_architecture(self, architecture: str, pins: Lock) -> Lock:
        return dataclasses.replace(self, foreign_run={**self.foreign_run, architecture: pins.run},
                                   foreign_sha256={**self.foreign_sha256, architecture: pins.run_sha256})


def _section(table: object, where: str) -> tuple[dict[str, str], dict[str, str]]:
    """`"pkg" = "1.0"` (versions only, as older locks have) or `"pkg" = { version = "1.0", sha256 = "..." }`."""
    versions, hashes = {}, {}
    for name, value in (table or {}).items() if isinstance(table, dict) else ():
        if isinstance(value, str):
            versions[name] = value
        elif isinstance(value, dict) and isinstance(value.get("version"), str):
            versions[name] = value["version"]
            if isinstance(value.get("sha256"), str):
                hashes[name] = value["sha256"]
        else:
            raise UsageError(f"{where}: {name} has no version", "regenerate it: s2i stack build --update")
    return versions, hashes


def read_lock(path: Path) -> Lock | None:
    if not path.exists():
        return None
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}", f"regenerate it: s2i stack build {path.stem} --update") from None
    run, run_sha256 = _section(data.get("run"), f"{path} [run]")
    builder, builder_sha256 = _section(data.get("builder"), f"{path} [builder]")
    foreign_run, foreign_sha256 = {}, {}
    for key in sorted(key for key in data if key.startswith(FOREIGN)):
        foreign_run[key[len(FOREIGN):]], foreign_sha256[key[len(FOREIGN):]] = _section(data[key], f"{path} [{key}]")
    return Lock(run, builder, run_sha256, builder_sha256, foreign_run, foreign_sha256)


def format_lock(lock: Lock) -> str:
    """[run] and [builder] (the builder's architecture), then a [run-ARCH] per other architecture, each sorted."""
    lines = [HEADER, ""]
    sections = [("run", lock.run, lock.run_sha256), ("builder", lock.builder, lock.builder_sha256)]
    sections += [(FOREIGN + arch, lock.foreign_run[arch], lock.foreign_sha256.get(arch, {})) for arch in sorted(lock.foreign_run)]
    for section, versions, hashes in sections:
        lines.append(f"[{section}]")
        for name, version in sorted(versions.items()):
            pin = f'version = "{version}"' + (f', sha256 = "{hashes[name]}"' if name in hashes else "")
            lines.append(f'"{name}" = {{ {pin} }}')
        lines.append("")
    return "\n".join(lines)


def write_lock(path: Path, lock: Lock) -> None:
    atomic_write(path, format_lock(lock).encode())


def changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """`pkg 1.0 -> 1.1`, `+pkg 2.0`, `-pkg 3.0`: what a re-resolve changed, for the log."""
    lines = [f"{name} {old[name]} -> {new[name]}" for name in sorted(old.keys() & new.keys()) if old[name] != new[name]]
    lines += [f"+{name} {new[name]}" for name in sorted(new.keys() - old.keys())]
    lines += [f"-{name} {old[name]}" for name in sorted(old.keys() - new.keys())]
    return lines


class StaleLock(S2IError):
    """The archive no longer serves what the lock pins (Debian replaced versions at a point release)."""


def check_against_archive(lock_name: str, versions: dict[str, str], hashes: dict[str, str], records: dict[str, dict]) -> None:
    """Every pinned version still in the archive, with the content the lock recorded."""
    gone = [f"{name}={version}" for name, version in sorted(versions.items()) if name not in records]
    if gone:
        shown = ", ".join(gone[:4]) + (f" and {len(gone) - 4} more" if len(gone) > 4 else "")
        raise StaleLock(f"{lock_name} is stale: the Debian archive no longer has {shown}",
                        f"refresh it: s2i stack build {Path(lock_name).stem} --update")
    changed = [name for name, sha in sorted(hashes.items()) if name in records and records[name].get("SHA256") != sha]
    if changed:
        raise S2IError(f"{lock_name}: the archive serves different content for {', '.join(changed[:4])} than the lock records",
                       "check the host's apt sources (a mirror serving altered packages?), or re-resolve: s2i stack build --update")
