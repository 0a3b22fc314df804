"""The bearer tokens of the JSON API under /v1 (settings), each read-only or read-write.

``CALLGUARD_ADMIN_TOKEN`` is one read-write token (actor ``admin``); ``CALLGUARD_ADMIN_TOKENS``
adds named ones: ``name=token:rw,name2=token2:ro``. The name is the actor recorded in the
change log for what the token changes. :func:`callguard.web.admin.tokens.authenticate` checks a
request's token against them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

_ENTRY = re.compile(r"([A-Za-z0-9_.@-]{1,64})=([^:,\s]{16,}):(ro|rw)")


@dataclass(frozen=True)
class ApiToken:
    name: str
    secret: str
    writable: bool


def parse_admin_tokens(config: Mapping[str, Any]) -> tuple[ApiToken, ...]:
    tokens: list[ApiToken] = []
    single = config.get("CALLGUARD_ADMIN_TOKEN")
    if single:
        if len(str(single)) < 16:
            raise ConfigError("must be at least 16 characters", key="CALLGUARD_ADMIN_TOKEN")
        tokens.append(ApiToken("admin", str(single), True))
    named = config.get("CALLGUARD_ADMIN_TOKENS")
    if named:
        for index, entry in enumerate(str(named).split(",")):
            match = _ENTRY.fullmatch(entry.strip())
            if match is None:
                raise ConfigError(
                    f"entry {index + 1} is not name=token:ro or name=token:rw (tokens of 16 characters or more)",
                    key="CALLGUARD_ADMIN_TOKENS",
                )
            tokens.append(ApiToken(match.group(1), match.group(2), match.group(3) == "rw"))
    names = [t.name for t in tokens]
    if len(names) != len(set(names)):
        raise ConfigError("token names must differ", key="CALLGUARD_ADMIN_TOKENS")
    return tuple(tokens)
