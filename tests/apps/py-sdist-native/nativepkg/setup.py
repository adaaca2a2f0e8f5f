from setuptools import Extension, setup

setup(name="nativepkg", version="0.1", ext_modules=[Extension("nativepkg", ["src/nativepkg.c"])])
