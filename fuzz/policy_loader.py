"""Any policy file: loading it either gives a policy a guard can decide with, or a ``PolicyError``
or ``ConfigError`` that says what is wrong — never another exception."""

from __future__ import annotations

import tomllib

from callguard import DialRequest, Guard, parse_policy
from callguard.errors import ConfigError, PolicyError

from .driver import fuzz


def check(data: bytes) -> None:
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    try:
        policy = parse_policy(document, source="fuzz.toml")
    except (PolicyError, ConfigError):
        return
    guard = Guard(policy)
    for sid in list(policy.accounts)[:3]:
        guard.check(DialRequest(sid, "+14155550123", "+14155550100"))


if __name__ == "__main__":
    fuzz(check)
