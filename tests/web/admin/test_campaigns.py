"""``/v1/campaigns`` (callguard.web.admin.campaigns): the policy's campaigns."""

from __future__ import annotations

from typing import Any

from .conftest import RO


def test_campaigns(client: Any) -> None:
    assert client.get("/v1/campaigns", headers=RO).get_json() == {"campaigns": []}
    assert client.get("/v1/campaigns/x", headers=RO).status_code == 404
