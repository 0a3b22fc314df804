"""Callback URLs chained through callguard to an app's own (callguard.wrapping.chaining)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from callguard.wrapping.chaining import (
    ChainedUrl,
    callback_events,
    chained_disclosure_url,
    chained_status_callback,
    chained_status_callback_url,
    chained_whisper,
    tag_matches,
    url_tag,
    wants_event,
)
from twiml.rewrite import Callback

BASE = "https://cg.example.com"
OLD, NEW = b"old-token", b"new-token"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def test_tags_are_bound_to_key_purpose_and_every_field() -> None:
    tag = url_tag(NEW, "status", "https://app/s", "POST", "")
    assert len(tag) == 22 and tag_matches([OLD, NEW], tag, "status", "https://app/s", "POST", "")
    assert not tag_matches([OLD], tag, "status", "https://app/s", "POST", "")
    assert not tag_matches([NEW], tag, "whisper", "https://app/s", "POST", "")
    assert not tag_matches([NEW], tag, "status", "https://app/s", "GET", "")
    assert not tag_matches([NEW], tag, "status", "https://app/s", "POST", "ringing")
    assert not tag_matches([NEW], None, "status", "https://app/s", "POST", "")


def test_a_status_callback_round_trip() -> None:
    url = chained_status_callback_url(BASE, "spring", Callback("https://app.example.com/s?a=1", "get", ("ringing",)), NEW)
    assert url.startswith(f"{BASE}/voice/status?campaign=spring&forward=")
    # What /voice/status reads back, with the account's tokens (the new one first, then the old).
    assert chained_status_callback(query(url), [NEW, OLD]) == ChainedUrl("https://app.example.com/s?a=1", "GET", ("ringing",))
    assert chained_status_callback(query(url), [OLD]) is None
    assert chained_status_callback_url(BASE, None, Callback(None), NEW) == f"{BASE}/voice/status"


def test_a_whisper_round_trip() -> None:
    url = chained_disclosure_url(BASE, "spring", Callback("https://app.example.com/w", None), NEW)
    assert chained_whisper(query(url), [NEW]) == ChainedUrl("https://app.example.com/w", "POST")
    tampered = {**query(url), "next": "https://evil.example.com/w"}
    assert chained_whisper(tampered, [NEW]) is None
    assert chained_disclosure_url(BASE, "spring", None, NEW) == f"{BASE}/voice/disclosure?campaign=spring"


@pytest.mark.parametrize(
    ("events", "expected"),
    [((), ()), (("completed",), ("completed",)), (("ringing", "answered"), ("ringing", "answered", "completed"))],
)
def test_callguard_always_asks_for_the_final_status(events: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert callback_events(Callback("https://app/s", None, events)) == expected


@pytest.mark.parametrize(
    ("events", "status", "forwarded"),
    [
        ((), "completed", True), ((), "busy", True), ((), "ringing", False),
        (("ringing",), "ringing", True), (("ringing",), "no-answer", False),
        (("initiated", "answered"), "queued", True), (("answered",), "in-progress", True),
        (("answered", "completed"), "failed", True),
    ],
)
def test_events_by_call_status(events: tuple[str, ...], status: str, forwarded: bool) -> None:
    assert wants_event(ChainedUrl("https://app/s", "POST", events), status) is forwarded
