"""A ``twilio.rest.Client`` whose ``calls.create`` asks callguard before anything is sent.

``calls.create`` bypasses every webhook until the callee answers, so the check happens here:
the engine decides the call exactly as it decides a dial at the webhook (and audits it, source
``rest``); a refusal raises :class:`~callguard.errors.CallBlocked` carrying the decision, and
nothing reaches Twilio. A call of a telemarketing campaign is created with its ``url`` pointed at
callguard's ``/voice/answer?campaign=…&next=<the app's url>``, which re-checks the call on answer,
plays the disclosure and the opt-out prompt, and then hands the call to the app's TwiML.

When the traffic check counted the call (the account has ``[traffic]`` limits), the call is
created with callguard's ``statusCallback`` (``/voice/status?slot=…``, chained to the app's own
callback if it gave one): its final status frees the concurrency slot it took and feeds its
caller ID's answer ratio. The call has no SID when it is checked, so the decision is made under
a slot name of callguard's making, which the callback names.

Everything else — ``calls.list()``, ``calls("CA…").update()``, ``messages`` … — is the wrapped
client's own. Only ``client.calls.create`` is guarded: a call created through another path
(``client.api.v2010.accounts(…).calls.create``) is not.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from twiml.rewrite import Callback

from ..allowed_urls import url_allowed
from ..decision import Action, Decision, DialRequest
from ..engine import Guard
from ..errors import CallBlocked, ConfigError, PolicyError
from ..loggers import get_logger
from ..paths import VOICE_ANSWER
from .chaining import callback_events, chained_status_callback_url

log = get_logger("callguard.rest")


class GuardedCalls:
    """``client.calls`` with a checked ``create``; every other attribute is the real list's."""

    def __init__(
        self,
        calls: Any,
        guard: Guard,
        account_sid: str,
        *,
        answer_base_url: str | None,
        campaign: str | None,
        callback_key: str | None = None,
    ) -> None:
        self._calls = calls
        self._guard = guard
        self._account_sid = account_sid
        self._answer_base_url = answer_base_url.rstrip("/") if answer_base_url else None
        self._campaign = campaign
        self._callback_key = callback_key.encode() if callback_key else None

    def check(self, to: str, from_: str, *, campaign: str | None = None, slot: str | None = None) -> Decision:
        """The decision for a call, audited, without placing it.

        Without ``slot`` a what-if: the traffic limits are read, nothing is counted. With one, the
        call is counted under that name (what :meth:`create` does, whose status callback names it).
        """
        return self._guard.check(
            DialRequest(
                account_sid=self._account_sid,
                to=to,
                from_=from_,
                caller_id=from_,  # a REST call's From is its caller ID: checked as given, never replaced
                call_sid=slot,
                source="rest",
                campaign=campaign or self._campaign,
                what_if=slot is None,
            )
        )

    def create(self, to: str, from_: str, *, campaign: str | None = None, **kwargs: Any) -> Any:
        """``calls.create(to, from_, …)`` if the policy allows the call; raises CallBlocked otherwise."""
        slot = f"cg-{uuid.uuid4().hex}"
        decision = self.check(to, from_, campaign=campaign, slot=slot)
        if decision.action is Action.REJECT:
            raise CallBlocked(decision)
        if decision.action is Action.DISCLOSE and decision.campaign is not None:
            kwargs = self._through_answer(decision.campaign, kwargs)
        if "traffic" in decision.checks:
            kwargs = self._reporting_status(decision, slot, kwargs)
        return self._calls.create(to=to, from_=from_, **kwargs)

    def _reporting_status(self, decision: Decision, slot: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` with callguard's statusCallback, chained to the app's, naming the call's slot."""
        app_url = kwargs.get("status_callback")
        if self._answer_base_url is None or (app_url and self._callback_key is None):
            # Without it the slot is freed only after the policy's max_call_seconds.
            log.warning(
                "call to %s: no %s, so its end is not reported to callguard",
                decision.target.dial_value,
                "answer_base_url" if self._answer_base_url is None else "auth token to chain the app's statusCallback",
            )
            return kwargs
        events = kwargs.get("status_callback_event") or ()
        app = Callback(app_url, kwargs.get("status_callback_method"), tuple(events)) if app_url else None
        url = chained_status_callback_url(self._answer_base_url, decision.campaign, app, self._callback_key)
        reporting = {
            **kwargs,
            "status_callback": url + ("&" if "?" in url else "?") + urlencode({"slot": slot}),
            "status_callback_method": "POST",
        }
        if callback_events(app):
            reporting["status_callback_event"] = list(callback_events(app))
        return reporting

    def _through_answer(self, campaign_id: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        policy = self._guard.policy
        campaign = policy.campaign(campaign_id)
        url = kwargs.get("url")
        if not isinstance(url, str) or not url:
            raise PolicyError(
                f"campaign {campaign_id} is telemarketing: create the call with url=… (not twiml= or application_sid=) "
                "so that callguard can play the disclosure before your TwiML",
                account_sid=self._account_sid,
            )
        if self._answer_base_url is None:
            raise ConfigError(
                "is needed for telemarketing campaigns: callguard's public URL, which Twilio calls on answer", key="answer_base_url"
            )
        prefixes = (campaign.answer_urls if campaign is not None else ()) + policy.defaults.answer_urls
        if not url_allowed(url, prefixes):
            raise PolicyError(
                f"{url} is not under the answer_urls of campaign {campaign_id} or of [defaults]: /voice/answer would hang up",
                account_sid=self._account_sid,
            )
        method = str(kwargs.get("method") or "POST").upper()
        query = urlencode({"campaign": campaign_id, "next": url, "next_method": method})
        return {**kwargs, "url": f"{self._answer_base_url}{VOICE_ANSWER}?{query}", "method": "POST"}

    def __call__(self, sid: str) -> Any:
        return self._calls(sid)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._calls, name)


class GuardedClient:
    """Wraps a ``twilio.rest.Client``: ``client.calls.create`` is checked by ``guard`` first.

    ``answer_base_url`` is callguard's public URL (``CALLGUARD_PUBLIC_URL``), needed for calls of
    telemarketing campaigns and for reporting the end of calls the traffic limits count;
    ``auth_token`` is the account's (needed only to chain an app's own statusCallback when the
    client authenticates with an API key); ``campaign`` is the campaign calls belong to unless ``create`` names
    one (else the account's default campaign applies, as at the webhook).
    """

    def __init__(
        self, client: Any, guard: Guard, *, answer_base_url: str | None = None, campaign: str | None = None, auth_token: str | None = None
    ) -> None:
        self._client = client
        # The token Twilio signs this account's callbacks with keys the chained app callback's tag:
        # the client's own password when it authenticates with the account's auth token.
        if auth_token is None and getattr(client, "username", None) == client.account_sid:
            auth_token = client.password
        self.calls = GuardedCalls(
            client.calls, guard, client.account_sid, answer_base_url=answer_base_url, campaign=campaign, callback_key=auth_token
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
