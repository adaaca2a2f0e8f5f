"""Prints the interpreter's version; uses 3.12 syntax (a `type` alias), so an older Python cannot even compile it."""
import sys

type Version = tuple[int, int, int]

if __name__ == "__main__":
    version: Version = sys.version_info[:3]
    print("python {}.{}.{}".format(*version), flush=True)
