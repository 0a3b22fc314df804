"""Which credentials read which account at Twilio.

An account's own credentials are the API key the policy names (``twilio_api_key_env`` and
``twilio_api_secret_env``) or, without one, its auth token: the same one its webhooks are
checked with (``auth_token_env``, else ``TWILIO_AUTH_TOKEN``; the first token of a rotating
list).

Twilio lets a main account's credentials read its subaccounts' API v2010 resources (numbers,
verified caller IDs, the Accounts list), but not those on other hosts such as
``voice.twilio.com``, which need the subaccount's own. So a synced subaccount's dialing
permissions are read with its own API key if the policy names one, else with the auth token
Twilio's Accounts list gives its parent, else with its webhook auth token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import TwilioSyncError
from ..policy.auth_tokens import secret_from, split_tokens
from ..policy.model import Account


@dataclass(frozen=True)
class Credentials:
    username: str  # an Account SID (with its auth token) or an API key SID (with its secret)
    password: str
    account_sid: str  # the account the requests act for

    def __repr__(self) -> str:  # never the secret, whatever prints this
        return f"Credentials(username={self.username!r}, account_sid={self.account_sid!r})"


def own_credentials(account: Account, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Credentials:
    """The account's own credentials. Raises :class:`TwilioSyncError` (kind ``config``) if a variable is unset."""
    if account.twilio_api_key_env and account.twilio_api_secret_env:
        key = secret_from(account.twilio_api_key_env, config, environ)
        secret = secret_from(account.twilio_api_secret_env, config, environ)
        for name, value in ((account.twilio_api_key_env, key), (account.twilio_api_secret_env, secret)):
            if not value:
                raise TwilioSyncError(
                    f"twilio credentials: the environment variable {name} is not set", kind="config", account_sid=account.sid
                )
        return Credentials(key, secret, account.sid)  # type: ignore[arg-type]
    env_name = account.auth_token_env or "TWILIO_AUTH_TOKEN"
    tokens = split_tokens(secret_from(env_name, config, environ))
    if not tokens:
        raise TwilioSyncError(f"twilio credentials: the environment variable {env_name} is not set", kind="config", account_sid=account.sid)
    return Credentials(account.sid, tokens[0], account.sid)


def subaccount_voice_credentials(
    account: Account, listed_auth_token: str | None, config: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Credentials:
    """Credentials for a subaccount's ``voice.twilio.com`` resources (see the module docstring for the order)."""
    if account.twilio_api_key_env is None and listed_auth_token:
        return Credentials(account.sid, listed_auth_token, account.sid)
    return own_credentials(account, config, environ)
