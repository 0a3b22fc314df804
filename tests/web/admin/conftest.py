"""What the JSON API's tests share: a client and the tokens' headers."""

from __future__ import annotations

from typing import Any

import pytest

from ...conftest import ADMIN_TOKEN, READ_TOKEN


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


RW = bearer(ADMIN_TOKEN)
RO = bearer(READ_TOKEN)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()
