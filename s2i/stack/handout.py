"""A stack file naming a pushed stack's images by digest, for platform teams to hand out: no mmdebstrap needed to use it."""

from __future__ import annotations

import json
import re
import tomllib

from s2i.stack.build import image_name
from s2i.stack.files import Stack


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes (\\", \\\\, \\n, \\uXXXX) are TOML's too."""
    return json.dumps(text)


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _string(name)


def _strings(values) -> str:
    return "[" + ", ".join(_string(value) for value in values) + "]"


def _value(value) -> str:
    """A pin's value in TOML: a string, a number, or an inline table of them."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(key)} = {_value(item)}" for key, item in value.items()) + " }"
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else _string(str(value))


def _tools(stack: Stack) -> list[str]:
    """The stack file's [tools] pins (s2i.build.tools), kept: a runner of the pushed stack fetches the same checked wheels."""
    try:
        tools = tomllib.loads(stack.path.read_text()).get("tools")
    except (OSError, tomllib.TOMLDecodeError):
        return []
    lines = []
    for name, table in tools.items() if isinstance(tools, dict) else ():
        if isinstance(table, dict):
            lines += ["", f"[tools.{_key(name)}]", *(f"{_key(key)} = {_value(value)}" for key, value in table.items())]
    return lines


def format_stack(stack: Stack, references: dict[str, str], foreign: dict[str, dict[str, str]] | None = None) -> str:
    """The stack with its builder and package-built bases replaced by `references` (image name -> repo@digest), and by
    `foreign` (architecture -> image name -> repo@digest) for the other architectures pushed."""
    foreign = foreign or {}
    lines = [f"# stack {stack.name}, pushed: every image pinned by digest; use it with --stack FILE or stack = \"FILE\" in s2i.toml",
             f"suite = {_string(stack.suite)}"]
    lines.append(f"architectures = {_strings([stack.architecture, *foreign])}" if foreign else f"architecture = {_string(stack.architecture)}")
    if stack.extra_suites:
        lines.append(f"extra-suites = {_strings(stack.extra_suites)}")
    if stack.toolchains:
        lines.append("toolchains = { " + ", ".join(f"{_key(language)} = {_strings(versions)}" for language, versions in stack.toolchains) + " }")
    lines += ["", "[builder]", f"image = {_string(references.get('builder') or stack.builder.image or '')}"]
    for name, base in stack.bases.items():
        lines += ["", f"[run.{_key(name)}]"]
        if base.kind == "scratch":
            lines.append("scratch = true")
        elif base.kind == "packages":  # built by s2i: it has the nonroot user
            lines += [f"image = {_string(references[image_name(name)])}", "nonroot = true"]
            if foreign:
                lines.append("images = { " + ", ".join(f"{_key(arch)} = {_string(refs[image_name(name)])}" for arch, refs in foreign.items()) + " }")
        else:
            lines.append(f"image = {_string(base.image)}" + ("\nnonroot = true" if base.nonroot else ""))
    return "\n".join(lines + _tools(stack)) + "\n"
