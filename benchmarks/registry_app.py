"""A tiny WSGI app for benchmarks/registry.py: one registry directory, one lookup per request."""

from __future__ import annotations

import os

from flask import Flask, request

from callguard.registry import RegistryDirectory

app = Flask(__name__)
registries = RegistryDirectory(os.environ["CALLGUARD_REGISTRY_DIR"])


@app.get("/lookup")
def lookup() -> str:
    return registries.lookup(request.args["n"], "US") or "-"


@app.get("/pid")
def pid() -> str:
    return str(os.getpid())
