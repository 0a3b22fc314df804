"""``callguard simulate``: one call's webhook request to a running callguard, signed as Twilio signs it."""

from __future__ import annotations

import json
import os

import click
import requests

from ..errors import ConfigError
from ..paths import VOICE_OUTBOUND
from ..policy.auth_tokens import split_tokens
from ..policy.loader import load_policy
from ..policy.model import Policy
from .errors import BadUsage, Failed
from .simulated_call import DEFAULT_URL, SimulatedCall, random_sid, simulate

DEFAULT_TOKEN_ENV = "TWILIO_AUTH_TOKEN"


def _token_env(policy: Policy | None, account_sid: str) -> str:
    """The environment variable holding the account's auth token: its ``auth_token_env``, else TWILIO_AUTH_TOKEN."""
    if policy is not None:
        for sid, env_name in policy.auth_token_envs():
            if sid == account_sid and env_name:
                return env_name
    return DEFAULT_TOKEN_ENV


@click.command("simulate",
    epilog="The request is signed with the account's auth token: the environment variable the policy names "
    "as its auth_token_env, else TWILIO_AUTH_TOKEN. Exit status: 0 when callguard answered 200, 1 otherwise, "
    "2 for bad usage."
)
@click.option(
    "--policy", "-p", "policy_path", envvar="CALLGUARD_POLICY", show_envvar=True, type=click.Path(dir_okay=False),
    help="Policy file the server runs: where the account, its token variable and its caller ID are found.",
)
@click.option(
    "--url", "base_url", envvar="CALLGUARD_PUBLIC_URL", show_envvar=True, default=DEFAULT_URL, show_default=True,
    help="callguard's base URL, as Twilio reaches it.",
)
@click.option("--account", "account_sid", help="AccountSid of the call (default: the policy's first account).")
@click.option("--from", "from_", help="From: the caller's number, client:NAME or SIP URI (default: the account's default caller ID).")
@click.option("--to", required=True, help="To: a number, a sip: URI or client:NAME.")
@click.option("--sip-domain", help="SipDomain the call came through; a --to that is no URI becomes sip:TO@DOMAIN.")
@click.option("--campaign", help="Campaign, sent as ?campaign=ID on the webhook URL.")
@click.option(
    "--path", default=VOICE_OUTBOUND, show_default=True,
    help="Webhook path: /voice/outbound, or /voice/disclosure and /voice/optout for the callee's leg.",
)
@click.option("--digits", help="Digits the callee pressed (the opt-out prompt's answer to /voice/optout).")
@click.option("--speech", help="What the callee said (SpeechResult, to /voice/optout).")
@click.option("--call-sid", help="CallSid (default: a random one).")
@click.option("--json", "as_json", is_flag=True, help="Print the request's parameters and the answer as JSON.")
def simulate_command(
    policy_path: str | None,
    base_url: str,
    account_sid: str | None,
    from_: str | None,
    to: str,
    sip_domain: str | None,
    campaign: str | None,
    path: str,
    digits: str | None,
    speech: str | None,
    call_sid: str | None,
    as_json: bool,
) -> None:
    """Send callguard one webhook request exactly as Twilio would, and print its answer."""
    if not base_url.startswith(("http://", "https://")):
        raise BadUsage(f"--url: {base_url!r} is not an http(s) URL")
    if not path.startswith("/"):
        raise BadUsage(f"--path: {path!r} must start with /")
    policy = None
    if policy_path:
        try:
            policy = load_policy(policy_path)
        except ConfigError as exc:
            raise BadUsage(str(exc)) from None
    if account_sid is None:
        if policy is None or not policy.accounts:
            raise BadUsage("--account: no account given, and no policy (--policy) to take its first account from")
        account_sid = next(iter(policy.accounts))
    account = policy.account(account_sid) if policy is not None else None
    if policy is not None and account is None:
        raise BadUsage(f"--account: {account_sid} is not an account in {policy_path}")
    if from_ is None:
        from_ = account.default_caller_id if account is not None else None
        if from_ is None:
            raise BadUsage(f"--from: no caller given, and account {account_sid} has no default caller ID in the policy")
    token_env = _token_env(policy, account_sid)
    tokens = split_tokens(os.environ.get(token_env))
    if not tokens:
        raise BadUsage(f"{token_env}: not set (the auth token of account {account_sid}, which signs the request)")
    call = SimulatedCall(
        account_sid=account_sid, to=to, from_=from_, call_sid=call_sid or random_sid("CA"), sip_domain=sip_domain,
        campaign=campaign, digits=digits, speech=speech,
    )
    try:
        answer = simulate(call, base_url=base_url, path=path, auth_token=tokens[0])
    except requests.RequestException as exc:
        raise Failed(f"--url: no answer from {base_url}: {type(exc).__name__}") from None
    if as_json:
        click.echo(json.dumps(answer.as_dict(), indent=2))
    else:
        click.echo(f"POST {answer.url}")
        click.echo(f"HTTP {answer.status}")
        if answer.decision is not None:
            click.echo(f"X-Callguard-Decision: {answer.decision}")
        click.echo(answer.body.rstrip("\n"))
    if answer.status == 403:
        click.echo(
            f"callguard: 403: the signature did not verify. Is {token_env} the token the server has for {account_sid}, "
            f"and is --url the URL the server checks signatures against (its CALLGUARD_PUBLIC_URL)?",
            err=True,
        )
    if answer.status != 200:
        raise click.exceptions.Exit(1)
