"""Runtime versions an app asks for, and a small matcher for the version specifiers apps write.

Stacks offer X.Y toolchains (Debian's patch level is the stack's), so clauses compare on X.Y.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from s2i.errors import UsageError

CLAUSE = re.compile(r"^(===|==|!=|~=|>=|<=|>|<|\^|~)?\s*v?(\d+(?:\.\d+)*)(\.\*)?$")


@dataclass(frozen=True)
class Wanted:
    """What an app asks for: `spec` in PEP 440 / poetry form, `source` says where it was read."""

    language: str
    spec: str
    source: str

    def allows(self, offered: str) -> bool:
        return matches(self.spec, offered, self.source)

    def describe(self) -> str:
        return f"{self.source} asks {self.language} {self.spec}"


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def _clause(op: str, numbers: tuple[int, ...], wildcard: bool, offer: tuple[int, int]) -> bool:
    short = numbers[:2]
    floor = (short + (0,))[:2]
    if op in ("", "==", "===") or wildcard and op != "!=":
        return offer[:len(short)] == short
    if op == "!=":
        return offer[:len(short)] != short if wildcard or len(numbers) <= 2 else True
    if op == ">=" or op == ">" and len(numbers) > 2:  # > 3.11.2 may be met by a later 3.11: kept, not refused
        return offer >= floor
    if op == ">":
        return offer > floor if len(numbers) > 1 else offer[0] > numbers[0]
    if op == "<=" or op == "<" and len(numbers) > 2 and numbers[2] > 0:
        return offer <= floor
    if op == "<":
        return offer < floor
    if op == "~=":  # compatible release: >= X.Y[.Z], same prefix but the last part
        return offer >= floor and offer[:len(numbers) - 1] == numbers[:len(numbers) - 1][:2]
    if op == "^":  # poetry: >= X.Y, < next major
        return offer >= floor and offer[0] == numbers[0]
    return offer >= floor and offer[:min(len(numbers), 2)] == short  # poetry ~X.Y: >= X.Y, < X.(Y+1)


def matches(spec: str, offered: str, source: str = "the version") -> bool:
    """Whether an X.Y toolchain meets `spec`: clauses joined by `,` (and), poetry's `||` (or), `*` anything."""
    offer = (version_tuple(offered) + (0, 0))[:2]
    spec = re.sub(r"([\d*])\s+(?=[<>=!~^])", r"\1,", spec)  # poetry also writes ">=3.8 <4" for ">=3.8,<4"
    for alternative in spec.split("||"):
        clauses = [clause.strip() for clause in alternative.split(",") if clause.strip()]
        if all(clause == "*" or _parsed_ok(clause, offer, spec, source) for clause in clauses):
            return True
    return False


def _parsed_ok(clause: str, offer: tuple[int, int], spec: str, source: str) -> bool:
    found = CLAUSE.match(clause)
    if not found:
        raise UsageError(f"{source}: cannot read the version {spec!r}", 'write it as ">=3.12", "3.12" or "~=3.12"')
    op, numbers, wildcard = found.group(1) or "", version_tuple(found.group(2)), bool(found.group(3))
    return _clause(op, numbers, wildcard, offer)


def newest(versions: tuple[str, ...] | list[str]) -> str | None:
    return max(versions, key=version_tuple, default=None)
