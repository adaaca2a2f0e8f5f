"""Medians, the markdown table with s2i/buildah ratios, the raw JSON and the chart."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

SIDES = ("s2i", "buildah-seed", "buildah-stack")
SIDE_NAMES = {"s2i": "s2i", "buildah-seed": "buildah, seed Dockerfile", "buildah-stack": "buildah, builder = s2i's"}

# (key in the results, label, unit)
FIGURES = (
    ("cold_s", "cold build", "s"),
    ("rebuild_s", "rebuild after a one-line change", "s"),
    ("edit_to_pushed_s", "edit to pushed", "s"),
    ("fresh_runner_s", "fresh runner (stack only, --cache): edit to pushed", "s"),
    ("uncompressed", "image size, uncompressed", "B"),
    ("compressed", "image size, compressed", "B"),
    ("layers", "layers", ""),
    ("first_push_bytes", "uploaded, first push (at the registry)", "B"),
    ("rebuild_push_bytes", "uploaded, rebuild's push (at the registry)", "B"),
    ("changed_layer_bytes", "changed layers on rebuild (compressed)", "B"),
    ("push_over_changed", "rebuild upload / changed layers", "x"),
)


def stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def derive(side: dict) -> dict:
    """Adds the per-run upload-to-changed-layer ratio and the reproducibility verdict."""
    pairs = zip(side["rebuild_push_bytes"], side["changed_layer_bytes"])
    side["push_over_changed"] = [pushed / changed if changed else float("inf") for pushed, changed in pairs]
    side["reproducible"] = len(set(side["cold_digests"])) == 1
    return side


def human(value: float, unit: str) -> str:
    if unit == "B":
        for scale, suffix in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
            if value >= scale:
                return f"{value / scale:.3g} {suffix}"
        return f"{value:.0f} B"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:g}"


def cell(values: list[float], unit: str) -> str:
    median, low, high = (human(value, unit) for value in stats(values).values())
    return median if low == high else f"{median} ({low}–{high})"


def ratio(ours: list[float], theirs: list[float]) -> str:
    a, b = statistics.median(ours), statistics.median(theirs)
    return f"{a / b:.2f}x" if b else "–"


def table(results: dict) -> str:
    head = ["app", "figure", SIDE_NAMES["s2i"], SIDE_NAMES["buildah-seed"], "s2i ÷ seed",
            SIDE_NAMES["buildah-stack"], "s2i ÷ stack-builder"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for app, sides in results.items():
        for key, label, unit in FIGURES:
            row = [app, label + (f" ({unit})" if unit == "s" else "")]
            if key not in sides["s2i"]:
                continue
            row.append(cell(sides["s2i"][key], unit))
            for other in SIDES[1:]:
                if key not in sides[other]:  # an s2i-only figure
                    row += ["–", "–"]
                    continue
                row += [cell(sides[other][key], unit), ratio(sides["s2i"][key], sides[other][key]) if unit != "x" else "–"]
            lines.append("| " + " | ".join(row) + " |")
        repro = [("yes" if sides[side]["reproducible"] else "no") for side in SIDES]
        lines.append(f"| {app} | reproducible (clean builds, same digest) | {repro[0]} | {repro[1]} | – | {repro[2]} | – |")
    return "\n".join(lines)


def goals(results: dict) -> str:
    """The issue's targets, checked against the medians; shown, not asserted."""
    lines = []
    for app, sides in results.items():
        s2i = sides["s2i"]
        for other in SIDES[1:]:
            rebuild = statistics.median(s2i["rebuild_s"]) / statistics.median(sides[other]["rebuild_s"])
            pushed = statistics.median(s2i["edit_to_pushed_s"]) / statistics.median(sides[other]["edit_to_pushed_s"])
            lines.append(f"- {app} vs {SIDE_NAMES[other]}: rebuild {rebuild:.2f}x, edit-to-pushed {pushed:.2f}x "
                         f"(goal <= 0.5x: {'met' if max(rebuild, pushed) <= 0.5 else 'not met'})")
        if "fresh_runner_s" in s2i:
            fresh = statistics.median(s2i["fresh_runner_s"]) / statistics.median(s2i["edit_to_pushed_s"])
            lines.append(f"- {app}: s2i fresh runner {fresh:.2f}x the warm local edit-to-pushed (goal <= 2x: {'met' if fresh <= 2 else 'not met'})")
        upload = statistics.median(s2i["push_over_changed"])
        repro = s2i["reproducible"] and not any(sides[other]["reproducible"] for other in SIDES[1:])
        lines.append(f"- {app}: s2i rebuild upload {upload:.2f}x the changed layer (goal <= 1.1x: "
                     f"{'met' if upload <= 1.1 else 'not met'}); s2i reproducible where buildah is not: {'yes' if repro else 'no'}")
    return "\n".join(lines)


def write_json(path: Path, results: dict, meta: dict) -> None:
    summary = {app: {side: {key: stats(data[key]) for key, _, _ in FIGURES if key in data} for side, data in sides.items()}
               for app, sides in results.items()}
    path.write_text(json.dumps({"meta": meta, "runs": results, "summary": summary}, indent=2, default=str) + "\n")


def chart(path: Path, results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [f for f in FIGURES if f[0] in ("cold_s", "rebuild_s", "edit_to_pushed_s", "compressed",
                                            "first_push_bytes", "rebuild_push_bytes")]
    figure, axes = plt.subplots(2, 3, figsize=(15, 8))
    apps = list(results)
    width = 0.8 / len(SIDES)
    for axis, (key, label, unit) in zip(axes.flat, shown):
        for index, side in enumerate(SIDES):
            medians = [statistics.median(results[app][side][key]) for app in apps]
            low = [m - min(results[app][side][key]) for m, app in zip(medians, apps)]
            high = [max(results[app][side][key]) - m for m, app in zip(medians, apps)]
            positions = [i + (index - 1) * width for i in range(len(apps))]
            axis.bar(positions, medians, width, yerr=[low, high], capsize=3, label=SIDE_NAMES[side])
        axis.set_yscale("log")
        axis.set_xticks(range(len(apps)), apps)
        axis.set_title(label)
        axis.set_ylabel({"s": "seconds", "B": "bytes"}[unit])
    axes.flat[0].legend(fontsize=8)
    figure.suptitle("s2i vs Dockerfile + buildah: median of runs, bars show min-max (log scale)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
