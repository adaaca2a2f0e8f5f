"""A second copy of the bindings' setup, as some projects keep under python/."""
from setuptools import setup

setup(name="wordcount-py", py_modules=["wordcount_py"])
