"""Each account's Twilio auth tokens, from the environment variables the policy names.

Twilio signs a webhook with the auth token of the account the call belongs to, and the same token
(with the Account SID as user name) authenticates REST requests, so webhook checks and the
Twilio sync both read them here. A variable may hold several tokens separated by commas, so a
token can be rotated without refusing calls.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .model import Policy


def split_tokens(value: str | None) -> tuple[str, ...]:
    """The tokens of a comma-separated value (one token, or several while rotating)."""
    if not value:
        return ()
    return tuple(token.strip() for token in value.split(",") if token.strip())


def resolve_auth_tokens(
    policy: Policy, config: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """(tokens per account SID, default tokens). Raises :class:`ConfigError` for a token that is not set."""
    environ = os.environ if environ is None else environ
    default = split_tokens(config.get("TWILIO_AUTH_TOKEN") or environ.get("TWILIO_AUTH_TOKEN"))
    per_account: dict[str, tuple[str, ...]] = {}
    for sid, env_name in policy.auth_token_envs():
        if env_name is not None:
            tokens = split_tokens(config.get(env_name) or environ.get(env_name))
            if not tokens:
                raise ConfigError(
                    f"names the environment variable {env_name}, which is not set",
                    source=policy.source,
                    key=f"accounts.{sid}.auth_token_env",
                )
            per_account[sid] = tokens
        elif default:
            per_account[sid] = default
        else:
            raise ConfigError(
                "has no auth token: set TWILIO_AUTH_TOKEN or give the account an auth_token_env",
                source=policy.source,
                key=f"accounts.{sid}",
            )
    return per_account, default


def secret_from(env_name: str, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> str | None:
    """The value of ``env_name`` from Flask config or the environment (config wins), or None if unset or blank."""
    environ = os.environ if environ is None else environ
    value = config.get(env_name) or environ.get(env_name)
    return str(value).strip() or None if value else None
