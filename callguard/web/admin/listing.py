"""A list resource's answer: ``{"name": rows}`` as JSON, or with ``?format=csv`` a CSV export
whose cells no spreadsheet reads as formulas (:mod:`callguard.csv_cells`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from flask import Response, jsonify, request

from ...csv_cells import safe_row
from .api import ApiError


def list_response(name: str, fields: Sequence[str], rows: Sequence[dict[str, Any]]) -> Response:
    """``rows`` under ``name``, or their ``fields`` as CSV (a list value joined by commas)."""
    answer_format = request.args.get("format")
    if answer_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        for row in rows:
            writer.writerow(safe_row(",".join(row[f]) if isinstance(row[f], list) else row[f] for f in fields))
        return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if answer_format not in (None, "json"):
        raise ApiError(400, "bad_request", "format must be json or csv", "format")
    return jsonify({name: list(rows)})
