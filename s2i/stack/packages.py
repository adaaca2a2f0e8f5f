"""Debian packages an app asks for: names checked, dependencies resolved against what an image already has (pure)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from s2i.errors import UsageError

NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")  # Debian policy 5.6.1; also keeps names from reading as apt options
_FIELDS = ("Package", "Version", "Depends", "Pre-Depends", "Provides", "Essential", "Filename", "SHA256")
_FIELD = re.compile(r"^(" + "|".join(_FIELDS) + r"):[ \t]*(.*)$", re.MULTILINE)
_RELATION = re.compile(r"^\s*([a-z0-9][a-z0-9+.-]+)(?::[a-z0-9]+)?\s*(?:\(\s*([<>=]+)\s*([^)\s]+)\s*\))?")


@dataclass(frozen=True)
class Package:
    """One candidate of the archive's index: what apt would install today."""

    name: str
    version: str
    sha256: str
    filename: str
    depends: tuple[tuple[tuple[str, str | None], ...], ...] = ()  # AND of ORs of (name, exact version or None)
    provides: tuple[str, ...] = ()
    essential: bool = False


def check_name(name: str, where: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise UsageError(f"{where}: {name!r} is not a Debian package name", 'write names like "libssl-dev", lower case')
    return name


def _relations(text: str) -> tuple[tuple[tuple[str, str | None], ...], ...]:
    groups = []
    for group in filter(None, (part.strip() for part in text.split(","))):
        alternatives = []
        for alternative in group.split("|"):
            found = _RELATION.match(alternative)
            if found:
                alternatives.append((found.group(1), found.group(3) if found.group(2) == "=" else None))
        if alternatives:
            groups.append(tuple(alternatives))
    return tuple(groups)


def parse_index(text: str) -> dict[str, Package]:
    """`apt-cache dumpavail` output (one candidate per name) -> name -> Package."""
    index = {}
    for stanza in text.split("\n\n"):
        fields = dict(_FIELD.findall(stanza))
        if "Package" not in fields or "Version" not in fields:
            continue
        index[fields["Package"]] = Package(
            fields["Package"], fields["Version"], fields.get("SHA256", ""), fields.get("Filename", ""),
            _relations(", ".join(filter(None, (fields.get("Pre-Depends"), fields.get("Depends"))))),
            tuple(name for group in _relations(fields.get("Provides", "")) for name, _ in group),
            fields.get("Essential", "").strip() == "yes",
        )
    return index


def check_known(names: tuple[str, ...], index: dict[str, Package], where: str, suites: str) -> None:
    """One line naming the first unknown package, the suites searched and the setting; before any download."""
    provided = {virtual for package in index.values() for virtual in package.provides}
    for name in names:
        if name in index:
            continue
        if name in provided:
            raise UsageError(f"{where}: {name!r} is a virtual package in {suites}", "name a real package that provides it")
        close = difflib.get_close_matches(name, list(index), n=1)
        raise UsageError(f"{where}: no Debian package {name!r} in {suites}",
                         f"did you mean {close[0]!r}?" if close else "check the name with apt-cache search")


def resolve(names: tuple[str, ...], index: dict[str, Package], installed: dict[str, str], skip_essential: bool = False) -> list[Package]:
    """The packages to add, wanted ones first, then dependencies the image lacks; sorted by name.

    A dependency is met by an installed package of that name (at the exact version when it says `=`)
    or one that provides it; among alternatives the first met or known wins. Essential packages
    (dpkg, perl-base, ...) are tools a run image does without, so `skip_essential` leaves them out.
    """
    chosen: dict[str, Package] = {}
    provided = {virtual: name for name, package in sorted(index.items()) for virtual in package.provides}
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in chosen:
            continue
        package = index[name]
        chosen[name] = package
        for group in package.depends:
            if any(_met(alternative, installed, chosen, index) for alternative in group):
                continue
            pick = next((n for n, _ in group if n in index), None) or next((provided[n] for n, _ in group if n in provided), None)
            if pick and not (skip_essential and index[pick].essential):
                pending.append(pick)
    return sorted(chosen.values(), key=lambda p: p.name)


def _met(alternative: tuple[str, str | None], installed: dict[str, str], chosen: dict[str, Package], index: dict[str, Package]) -> bool:
    name, exact = alternative
    if name in chosen:
        return True
    if name in installed:
        return exact is None or installed[name] == exact
    return any(name in index[have].provides for have in installed if have in index) if exact is None else False


def describe(packages: list[Package]) -> str:
    return " ".join(f"{p.name}={p.version}" for p in packages)
