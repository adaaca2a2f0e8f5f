from setuptools import Extension, setup

setup(name="oldext", version="1.0", ext_modules=[Extension("oldext", ["oldext.c"], libraries=["yaml"])])
