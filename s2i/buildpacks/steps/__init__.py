"""Programs that run inside the build sandbox, under the builder's python3, stdlib only.

Each gets the buildpack's decisions as JSON (`/s2i/step.json`) and writes layers under
`/s2i/out/layers/NAME/` (laid out as in the image), `/s2i/out/launch.json` and `/s2i/out/meta/`.
They are bound read-only at /s2i/lib/s2i_steps and started by `sandbox_command(name)`.
"""

STEP_FILE = "/s2i/step.json"
LIB_DIR = "/s2i/lib"
BOOTSTRAP = "import runpy, sys; sys.path.insert(0, %r); runpy.run_module('s2i_steps.' + sys.argv[1], run_name='__main__')" % LIB_DIR


def sandbox_command(step: str) -> list[str]:
    """-E -s: the step's own interpreter ignores PYTHON* variables and user site-packages; -B writes no .pyc."""
    return ["/usr/bin/python3", "-E", "-s", "-B", "-c", BOOTSTRAP, step]
