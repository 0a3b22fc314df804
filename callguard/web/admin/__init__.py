"""The JSON API under /v1 (decisions for non-Python apps; administration).

One blueprint (:mod:`.api`) and one module per resource, each registering its routes on it when
imported here; :mod:`.openapi` serves the document that describes them all.
"""

from . import (  # noqa: F401  (each registers its routes on the blueprint)
    accounts,
    campaigns,
    changes,
    check,
    complaints,
    consents,
    decisions,
    openapi,
    optouts,
    permissions,
    prefix_blocks,
)
from .api import api, api_routing_error

__all__ = ["api", "api_routing_error"]
