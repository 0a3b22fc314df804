"""One webhook request to a running callguard, made exactly as Twilio makes it (``callguard simulate``).

The request is a form-encoded POST with the parameters Twilio sends for a voice call — a call's
``Voice URL`` request for ``/voice/outbound``, the callee's leg for ``/voice/disclosure`` and
``/voice/optout`` — signed with ``X-Twilio-Signature`` over the full URL (query string
included) with the account's auth token, by twilio's own :class:`RequestValidator`. So what
callguard answers here is what it would answer Twilio, and a 403 means the signature setup
(token, public URL) would fail for Twilio too.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from ..decision import DECISION_HEADER
from ..paths import VOICE_DISCLOSURE, VOICE_OPTOUT, VOICE_OUTBOUND

DEFAULT_URL = "http://127.0.0.1:8000"
# Twilio waits this long for a webhook's answer.
TIMEOUT = 15.0
# The webhooks Twilio calls on the callee's leg of a dial, once it has answered.
_CALLEE_LEG_PATHS = (VOICE_DISCLOSURE, VOICE_OPTOUT)


def random_sid(prefix: str) -> str:
    """A SID of Twilio's shape: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True)
class SimulatedCall:
    """What a simulated call says: who, to whom, through which SIP Domain and campaign."""

    account_sid: str
    to: str
    from_: str
    call_sid: str = field(default_factory=lambda: random_sid("CA"))
    sip_domain: str | None = None
    campaign: str | None = None
    digits: str | None = None
    speech: str | None = None

    def params(self, path: str) -> dict[str, str]:
        """The form parameters Twilio sends to ``path`` for this call."""
        callee_leg = path in _CALLEE_LEG_PATHS
        to = self.to
        if self.sip_domain and not to.lower().startswith(("sip:", "sips:")):
            to = f"sip:{to}@{self.sip_domain}"  # what a PBX behind the SIP Domain sends
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call_sid,
            "CallStatus": "in-progress" if callee_leg else "ringing",
            "Direction": "outbound-dial" if callee_leg else "inbound",
            "From": self.from_,
            "Caller": self.from_,
            "To": to,
            "Called": to,
        }
        if callee_leg:
            params["ParentCallSid"] = random_sid("CA")
        if self.sip_domain:
            params["SipDomain"] = self.sip_domain
        if self.digits is not None:
            params["Digits"] = self.digits
        if self.speech is not None:
            params["SpeechResult"] = self.speech
            params["Confidence"] = "0.92"
        return params


@dataclass(frozen=True)
class SimulatedAnswer:
    """callguard's answer: the HTTP status, the decision header (None without one), the body."""

    url: str
    params: Mapping[str, str]
    status: int
    decision: str | None
    content_type: str | None
    body: str

    @property
    def action(self) -> str | None:
        return self.decision.split(";", 1)[0].strip() if self.decision else None

    @property
    def reasons(self) -> list[str]:
        if not self.decision or "reasons=" not in self.decision:
            return []
        return self.decision.split("reasons=", 1)[1].strip().split(",")

    def as_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "params": dict(self.params),
            "status": self.status,
            "decision": self.decision,
            "action": self.action,
            "reasons": self.reasons,
            "content_type": self.content_type,
            "twiml": self.body,
        }


def webhook_url(base_url: str, path: str, campaign: str | None) -> str:
    """``base_url`` + ``path``, with ``?campaign=`` as the webhook URL of a campaign carries it."""
    url = base_url.rstrip("/") + path
    if campaign:
        url += ("&" if "?" in url else "?") + urlencode({"campaign": campaign})
    return url


def simulate(
    call: SimulatedCall, *, base_url: str, path: str = VOICE_OUTBOUND, auth_token: str, timeout: float = TIMEOUT
) -> SimulatedAnswer:
    """POST ``call`` to callguard's ``path`` under ``base_url`` as Twilio would.

    Raises ``requests.RequestException`` when nothing answers within ``timeout``.
    """
    url = webhook_url(base_url, path, call.campaign)
    params = call.params(path)
    signature = RequestValidator(auth_token).compute_signature(url, params)
    response = requests.post(
        url,
        data=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
        },
        timeout=timeout,
        allow_redirects=False,
    )
    return SimulatedAnswer(
        url=url,
        params=params,
        status=response.status_code,
        decision=response.headers.get(DECISION_HEADER),
        content_type=response.headers.get("Content-Type"),
        body=response.text,
    )
