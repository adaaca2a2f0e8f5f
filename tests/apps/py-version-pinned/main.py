"""Prints the interpreter's version: the app pins 3.13 in .python-version."""
import sys

if __name__ == "__main__":
    print(f"python {sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}", flush=True)
