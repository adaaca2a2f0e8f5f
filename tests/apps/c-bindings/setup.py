"""Python bindings for wordcount (built on their own; not what s2i builds here)."""
from setuptools import Extension, setup

setup(name="wordcount", ext_modules=[Extension("wordcount", ["python/wordcount_module.c"])])
