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


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 60_000,  # the parser recurses per level
        b"[" * 60_000 + b"]" * 60_000,
        b'{"number": ' + b"[" * 17 + b"]" * 17 + b"}",  # parsed, but deeper than any request of the API
    ],
)
def test_deeply_nested_json_is_a_400(client: Any, body: bytes) -> None:
    response = client.post("/v1/optouts", data=body, content_type="application/json", headers=bearer(ADMIN_TOKEN))
    assert response.status_code in (400, 413), response.status_code
    assert response.get_json()["error"]["code"] in ("bad_request", "too_large")


def test_a_nested_body_within_the_size_limit_is_a_400_not_a_500(client: Any) -> None:
    body = b"[" * 30_000 + b"]" * 30_000  # 60 KB: under the 64 KB body limit
    response = client.post("/v1/check", data=body, content_type="application/json", headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 400 and "nests more than" in response.get_json()["error"]["message"]


def test_an_oversized_body_is_a_413(client: Any) -> None:
    body = b'{"note": "' + b"x" * 70_000 + b'"}'
    response = client.post("/v1/optouts", data=body, content_type="application/json", headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"
