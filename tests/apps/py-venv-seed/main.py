"""Prints what the image's venv holds besides the app's dependencies (it has none), and runs its pip."""

import importlib.metadata
import subprocess
import sys

if __name__ == "__main__":
    venv = [path for path in sys.path if path.startswith(sys.prefix) and path.endswith("site-packages")]
    names = sorted(dist.metadata["Name"].lower() for dist in importlib.metadata.distributions(path=venv))
    print(f"python {sys.version_info.major}.{sys.version_info.minor} in {sys.prefix}: {' '.join(names)}")
    pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True)
    print(pip.stdout.split(" from ")[0] if pip.returncode == 0 else f"pip fails: {pip.stderr.strip()}")
