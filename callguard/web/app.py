"""The application factory: ``create_app(config=None)``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from ..runtime.runtime import Runtime
from ..runtime.settings import config_from_environment
from .extension import CallGuard


def create_app(config: Mapping[str, Any] | None = None, *, runtime: Runtime | None = None) -> Flask:
    """A Flask app serving callguard's webhooks, configured from the environment and ``config``
    (and serving ``runtime`` when given one, rather than building its own)."""
    app = Flask("callguard")
    app.config.update(config_from_environment())
    if config:
        app.config.update(config)
    CallGuard(app, runtime=runtime)
    return app
