"""The JSON API: tokens and POST /v1/check (callguard.web.admin)."""

from __future__ import annotations

from typing import Any

import pytest

from callguard import ConfigError
from callguard.web.admin.tokens import authenticate, parse_admin_tokens

from ..conftest import ADMIN_TOKEN, MAIN, READ_TOKEN


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_check_answers_the_decision(app: Any) -> None:
    client = app.test_client()
    response = client.post("/v1/check", json={"account_sid": MAIN, "to": "011 44 20 7946 0000", "from": "+14155550100"}, headers=bearer(READ_TOKEN))
    assert response.status_code == 200
    body = response.get_json()
    assert body["action"] == "connect" and body["e164"] == "+442079460000" and body["region"] == "GB"
    assert body["source"] == "api" and body["checks"][-1] == "callerid"
    refused = client.post("/v1/check", json={"account_sid": MAIN, "to": "+18765550100", "from": "+14155550100"}, headers=bearer(ADMIN_TOKEN))
    assert refused.get_json()["reasons"] == ["geo.high_risk_tollfraud"]


@pytest.mark.parametrize(
    "headers, status",
    [({}, 401), (bearer("nope-nope-nope-nope"), 401), ({"Authorization": f"Basic {ADMIN_TOKEN}"}, 401)],
)
def test_check_needs_a_token(app: Any, headers: dict[str, str], status: int) -> None:
    response = app.test_client().post("/v1/check", json={"account_sid": MAIN, "to": "+14155550123"}, headers=headers)
    assert response.status_code == status and response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"json": {"to": "+14155550123"}}, "account_sid"),
        ({"json": {"account_sid": MAIN}}, "to"),
        ({"json": {"account_sid": MAIN, "to": 14155550123}}, "to"),
        ({"json": {"account_sid": MAIN, "to": "+1", "from": ["x"]}}, "from"),
        ({"json": ["not", "an", "object"]}, None),
        ({"data": "to=+14155550123"}, None),
    ],
)
def test_bad_input_is_a_400_naming_the_field(app: Any, kwargs: dict[str, Any], field: str | None) -> None:
    response = app.test_client().post("/v1/check", headers=bearer(ADMIN_TOKEN), **kwargs)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and error.get("field") == field


def test_unknown_paths_are_json_404s(app: Any) -> None:
    response = app.test_client().get("/v1/nothing", headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_token_configuration() -> None:
    tokens = parse_admin_tokens({"CALLGUARD_ADMIN_TOKEN": ADMIN_TOKEN, "CALLGUARD_ADMIN_TOKENS": f"ops={READ_TOKEN}:ro, ci=ci-token-0123456789abc:rw"})
    assert [(t.name, t.writable) for t in tokens] == [("admin", True), ("ops", False), ("ci", True)]
    assert authenticate(tokens, f"Bearer {READ_TOKEN}").name == "ops"  # type: ignore[union-attr]
    assert authenticate(tokens, "Bearer ") is None and authenticate(tokens, None) is None
    with pytest.raises(ConfigError, match="CALLGUARD_ADMIN_TOKEN: must be at least 16"):
        parse_admin_tokens({"CALLGUARD_ADMIN_TOKEN": "short"})
    with pytest.raises(ConfigError, match="entry 1 is not name=token"):
        parse_admin_tokens({"CALLGUARD_ADMIN_TOKENS": "ops:abc"})
    with pytest.raises(ConfigError, match="must differ"):
        parse_admin_tokens({"CALLGUARD_ADMIN_TOKENS": f"a={READ_TOKEN}:ro,a={ADMIN_TOKEN}:rw"})
