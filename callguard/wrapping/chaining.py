"""Callback URLs that lead through callguard and on to an app's own: whisper and status callback.

When callguard puts its own ``url`` (the disclosure whisper) or ``statusCallback`` (traffic
counters) on a ``<Number>`` that already had one, the app's URL rides in the query string of
callguard's, with an HMAC tag over it keyed by the account's auth token. /voice/disclosure
follows, and /voice/status forwards to, the app's URL only when the tag verifies with one of
the account's tokens: they reach only URLs callguard itself put there, so neither is an open
redirect or an open proxy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from twiml.rewrite import Callback

from ..rendering import disclosure_url, status_callback_url

WHISPER = "whisper"
STATUS = "status"

# Twilio's statusCallbackEvent names, by the CallStatus its callback carries.
_EVENT_OF_STATUS = {"queued": "initiated", "initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}
FINAL_EVENT = "completed"


def url_tag(key: bytes, purpose: str, *fields: str) -> str:
    """A 128-bit HMAC-SHA256 tag over ``fields``, bound to ``purpose`` (base64url, unpadded)."""
    message = "\x00".join(("callguard", purpose, *fields)).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def tag_matches(keys: Iterable[bytes], tag: str | None, purpose: str, *fields: str) -> bool:
    """Whether ``tag`` was made by :func:`url_tag` with one of ``keys`` (several: token rotation)."""
    if not tag:
        return False
    return any(hmac.compare_digest(url_tag(key, purpose, *fields), tag) for key in keys)


def _append_query(url: str, query: Mapping[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(query)


def chained_disclosure_url(base_url: str, campaign_id: str, app: Callback | None, key: bytes | None) -> str:
    """/voice/disclosure for ``campaign_id``, going on to the app's own whisper afterwards."""
    url = disclosure_url(base_url, campaign_id)
    if app is None or not app.url or key is None:
        return url
    method = (app.method or "POST").upper()
    return _append_query(url, {"next": app.url, "next_method": method, "next_tag": url_tag(key, WHISPER, app.url, method)})


def chained_status_callback_url(base_url: str, campaign_id: str | None, app: Callback | None, key: bytes | None) -> str:
    """/voice/status, forwarding each event the app asked for to the app's own status callback."""
    url = status_callback_url(base_url, campaign_id)
    if app is None or not app.url or key is None:
        return url
    method = (app.method or "POST").upper()
    events = " ".join(app.events)
    return _append_query(
        url,
        {
            "forward": app.url,
            "forward_method": method,
            "forward_events": events,
            "forward_tag": url_tag(key, STATUS, app.url, method, events),
        },
    )


def callback_events(app: Callback | None) -> tuple[str, ...]:
    """The statusCallbackEvent for callguard's callback: the app's events, plus the final one callguard needs.

    Empty when the app named none: Twilio then sends the final status only, which is all either needs.
    """
    events = app.events if app is not None else ()
    if not events or FINAL_EVENT in events:
        return events
    return (*events, FINAL_EVENT)


@dataclass(frozen=True)
class ChainedUrl:
    """An app URL carried in a callguard callback's query string, its tag verified."""

    url: str
    method: str
    events: tuple[str, ...] = ()


def chained_whisper(args: Mapping[str, str], keys: Iterable[bytes]) -> ChainedUrl | None:
    """The app's whisper a /voice/disclosure URL carries, if its tag verifies."""
    url, method = args.get("next"), (args.get("next_method") or "POST").upper()
    if not url or not tag_matches(keys, args.get("next_tag"), WHISPER, url, method):
        return None
    return ChainedUrl(url, method)


def chained_status_callback(args: Mapping[str, str], keys: Iterable[bytes]) -> ChainedUrl | None:
    """The app's status callback a /voice/status URL carries, if its tag verifies."""
    url, method, events = args.get("forward"), (args.get("forward_method") or "POST").upper(), args.get("forward_events") or ""
    if not url or not tag_matches(keys, args.get("forward_tag"), STATUS, url, method, events):
        return None
    return ChainedUrl(url, method, tuple(events.split()))


def wants_event(chained: ChainedUrl, call_status: str) -> bool:
    """Whether the app asked for the event a callback with ``call_status`` reports."""
    event = _EVENT_OF_STATUS.get(call_status.lower(), FINAL_EVENT)
    return event in chained.events if chained.events else event == FINAL_EVENT
