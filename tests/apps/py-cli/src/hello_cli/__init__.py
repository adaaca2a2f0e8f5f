import markupsafe


def main():
    from markupsafe import _speedups  # the C extension, compiled for CPython 3.11

    kind = "C" if _speedups.__file__.endswith(".so") else "python"
    print(f"{markupsafe.escape('<s2i>')} via {kind} speedups")
