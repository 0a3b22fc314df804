"""The JSON API under /v1 (decisions for non-Python apps; administration)."""

from . import openapi as _openapi  # noqa: F401  (registers /v1/openapi.json)
from . import resources as _resources  # noqa: F401  (registers the administration routes)
from .api import api, api_routing_error

__all__ = ["api", "api_routing_error"]
