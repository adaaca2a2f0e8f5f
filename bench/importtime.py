"""How long `import s2i.cli` takes (python -X importtime, cumulative microseconds), median of 7 runs."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def import_micros() -> int:
    result = subprocess.run([sys.executable, "-P", "-X", "importtime", "-c", "import s2i.cli"], capture_output=True,
                            text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, check=True)
    line = next(l for l in reversed(result.stderr.splitlines()) if l.rstrip().endswith("| s2i.cli"))
    return int(line.split("|")[1])


if __name__ == "__main__":
    runs = [import_micros() for _ in range(7)]
    print(f"import s2i.cli: {statistics.median(runs) / 1000:.1f} ms (median of 7; min {min(runs) / 1000:.1f}, max {max(runs) / 1000:.1f}; goal < 150 ms)")
