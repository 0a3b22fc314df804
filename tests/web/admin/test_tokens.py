"""The JSON API's bearer tokens: configuration (callguard.runtime.admin_tokens) and lookup (callguard.web.admin.tokens)."""

from __future__ import annotations

import pytest

from callguard import ConfigError
from callguard.runtime.admin_tokens import parse_admin_tokens
from callguard.web.admin.tokens import authenticate

from ...conftest import ADMIN_TOKEN, READ_TOKEN


def test_token_configuration() -> None:
    tokens = parse_admin_tokens(
        {"CALLGUARD_ADMIN_TOKEN": ADMIN_TOKEN, "CALLGUARD_ADMIN_TOKENS": f"ops={READ_TOKEN}:ro, ci=ci-token-0123456789abc:rw"}
    )
    assert [(t.name, t.writable) for t in tokens] == [("admin", True), ("ops", False), ("ci", True)]
    assert authenticate(tokens, f"Bearer {READ_TOKEN}").name == "ops"  # type: ignore[union-attr]
    assert authenticate(tokens, "Bearer ") is None and authenticate(tokens, None) is None
    with pytest.raises(ConfigError, match="CALLGUARD_ADMIN_TOKEN: must be at least 16"):
        parse_admin_tokens({"CALLGUARD_ADMIN_TOKEN": "short"})
    with pytest.raises(ConfigError, match="entry 1 is not name=token"):
        parse_admin_tokens({"CALLGUARD_ADMIN_TOKENS": "ops:abc"})
    with pytest.raises(ConfigError, match="must differ"):
        parse_admin_tokens({"CALLGUARD_ADMIN_TOKENS": f"a={READ_TOKEN}:ro,a={ADMIN_TOKEN}:rw"})
