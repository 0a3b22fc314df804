"""The application factory: ``create_app(config=None)``."""

from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from ..runtime.settings import config_from_environment
from .extension import CallGuard


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """A Flask app serving callguard's webhooks, configured from the environment and ``config``."""
    app = Flask("callguard")
    app.config.update(config_from_environment())
    if config:
        app.config.update(config)
    CallGuard(app)
    return app
