"""Builds the optional C part of the registry files; everything else is in pyproject.toml.

The extension is optional: without a compiler callguard installs and uses the pure-Python
probes and the numpy encoder (callguard/registry/probe.py, builder.py), which give the same
answers and the same files, more slowly.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("callguard.registry._native", ["callguard/registry/_native.c"], optional=True, extra_compile_args=["-O2"]),
    ]
)
