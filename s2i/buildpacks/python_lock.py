"""The distributions a poetry.lock pins for the app's main dependencies: dev groups and other platforms' left out."""

from __future__ import annotations

import re

EXTRA = re.compile(r"""\bextra\s*==\s*["']([^"']+)["']""")
EXTRA_CLAUSE = re.compile(r"""\s*\band\s+extra\s*==\s*["'][^"']+["']|\bextra\s*==\s*["'][^"']+["']\s*(?:and\b)?""")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _edges(spec) -> list[tuple[str, tuple[str, ...], bool]]:
    """A dependency's (marker, extras, optional) in each of its forms: "1.0", {version, ...}, or a list of those."""
    return [(s.get("markers", ""), tuple(s.get("extras", ())), bool(s.get("optional"))) if isinstance(s, dict) else ("", (), False)
            for s in (spec if isinstance(spec, list) else [spec])]


def main_lines(lock: dict, roots: dict) -> list[str]:
    """`name==version[ ; marker]` for what `roots` (pyproject's main dependencies: name -> spec) need, walked through the
    lock's [package.dependencies]; an optional one only for an extra asked for. Each edge's marker (its `extra ==` part
    dropped) is kept for uv to evaluate; a distribution reached only through marked edges gets their `or`."""
    packages = {_name(p["name"]): p for p in lock.get("package", []) if isinstance(p, dict) and "name" in p}
    markers: dict[str, set[str]] = {}
    walked: set[tuple[str, tuple[str, ...]]] = set()
    todo = [(_name(name), marker, extras) for name, spec in roots.items() if _name(name) != "python"
            for marker, extras, optional in _edges(spec) if not optional]
    while todo:
        name, marker, extras = todo.pop()
        if name not in packages:
            continue
        markers.setdefault(name, set()).add(marker)
        if (name, extras) in walked:
            continue
        walked.add((name, extras))
        for dep, spec in packages[name].get("dependencies", {}).items():
            for dep_marker, dep_extras, optional in _edges(spec):
                if not optional or set(EXTRA.findall(dep_marker)) & set(extras):
                    todo.append((_name(dep), EXTRA_CLAUSE.sub("", dep_marker).strip(), dep_extras))
    lines = []
    for name in sorted(markers):
        found = markers[name]
        suffix = "" if "" in found else " ; " + " or ".join(f"({m})" for m in sorted(found))
        lines.append(f"{packages[name]['name']}=={packages[name]['version']}{suffix}")
    return lines
