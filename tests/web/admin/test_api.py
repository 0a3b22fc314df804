"""The JSON API's frame (callguard.web.admin.api): bearer tokens on every resource, read-write
ones for writes, and JSON errors for paths it does not serve."""

from __future__ import annotations

from typing import Any

import pytest

from ...conftest import ADMIN_TOKEN, MAIN
from .conftest import RO, bearer


@pytest.mark.parametrize(
    "headers, status",
    [({}, 401), (bearer("nope-nope-nope-nope"), 401), ({"Authorization": f"Basic {ADMIN_TOKEN}"}, 401)],
)
def test_check_needs_a_token(app: Any, headers: dict[str, str], status: int) -> None:
    response = app.test_client().post("/v1/check", json={"account_sid": MAIN, "to": "+14155550123"}, headers=headers)
    assert response.status_code == status and response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_writes_need_a_read_write_token(client: Any) -> None:
    response = client.post(f"/v1/accounts/{MAIN}/suspend", json={"reason": "x"}, headers=RO)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_unknown_paths_are_json_404s(app: Any) -> None:
    response = app.test_client().get("/v1/nothing", headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
