"""``/v1/changes``: the change log, who changed what at runtime, when, from what to what."""

from __future__ import annotations

from flask import Response, jsonify, request

from ..state import current_state
from .api import api, endpoint
from .fields import iso, limit


@api.get("/changes")
@endpoint()
def list_changes() -> Response:
    changes = current_state().overrides.changes(limit=limit(), entity=request.args.get("entity"))
    return jsonify(
        {
            "changes": [
                {"id": c.id, "at": iso(c.at), "actor": c.actor, "entity": c.entity, "entity_id": c.entity_id, "action": c.action,
                 "before": c.before, "after": c.after}
                for c in changes
            ]
        }
    )
