"""s2i: build small, reproducible OCI images from source, without Docker."""

__version__ = "0.1.0"
