"""Docker's .dockerignore dialect: anchored patterns, `*` within one name, `**` across directories, `!` exceptions."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Iterable

from s2i.errors import UsageError


@dataclass(frozen=True)
class Rule:
    pattern: str
    negated: bool
    regex: re.Pattern
    names: tuple[re.Pattern | None, ...]  # one per path part; None where `**` may match any number of them


def _translate(pattern: str, where: str) -> str:
    """The regex Docker (moby/patternmatcher) builds for `pattern`, without the anchors."""
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 3 if pattern.startswith("**/", i) else 2
            out += ".*" if i >= len(pattern) else "(.*/)?"
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise UsageError(f"{where}: pattern {pattern!r} has a [ without its ]", "close it, or write \\[ for a literal [")
            body = pattern[i + 1:end].replace("\\", "\\\\").replace("[", "\\[")
            out += f"[{body}]"
            i = end
        else:
            out += re.escape(ch)
        i += 1
    return out


def _compile(pattern: str, where: str) -> re.Pattern:
    try:
        return re.compile(_translate(pattern, where), re.DOTALL)
    except re.error as exc:
        raise UsageError(f"{where}: pattern {pattern!r} is not valid: {exc}", "see Docker's .dockerignore syntax") from None


def compile_rules(lines: Iterable[str], where: str) -> tuple[Rule, ...]:
    """Rules from pattern lines, cleaned as Docker cleans them; blank lines and # comments dropped."""
    rules = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        negated = text.startswith("!")
        text = text[1:].strip() if negated else text
        text = posixpath.normpath(text).lstrip("/") if text else ""
        if text in ("", "."):
            continue
        names = tuple(None if "**" in part else _compile(part, where) for part in text.split("/"))
        rules.append(Rule(text, negated, _compile(text, where), names))
    return tuple(rules)


def _matches(rel: str, rule: Rule) -> bool:
    """A rule matches a path or any directory above it."""
    parts = rel.split("/")
    return any(rule.regex.fullmatch("/".join(parts[:n])) for n in range(len(parts), 0, -1))


def last_match(rel: str, rules: tuple[Rule, ...]) -> int:
    for index in range(len(rules) - 1, -1, -1):
        if _matches(rel, rules[index]):
            return index
    return -1


def is_ignored(rel: str, rules: tuple[Rule, ...]) -> bool:
    index = last_match(rel, rules)
    return index >= 0 and not rules[index].negated


def any_match(rel: str, rules: tuple[Rule, ...]) -> bool:
    return any(_matches(rel, rule) for rule in rules)


def _could_match_below(rule: Rule, dirs: list[str]) -> bool:
    for depth, name in enumerate(dirs):
        if depth >= len(rule.names) or rule.names[depth] is None:
            return True
        if not rule.names[depth].fullmatch(name):
            return False
    return len(rule.names) > len(dirs)


def must_walk(rel_dir: str, rules: tuple[Rule, ...]) -> bool:
    """An ignored directory is still walked when a later `!` rule could match something below it."""
    later = rules[last_match(rel_dir, rules) + 1:]
    return any(rule.negated and _could_match_below(rule, rel_dir.split("/")) for rule in later)
