"""URLs callguard hands to Twilio, and the rule for URLs it may send Twilio on to."""

from __future__ import annotations

from flask import request

from ..allowed_urls import url_allowed
from .state import CallguardState

__all__ = ["callback_base", "url_allowed"]


def callback_base(state: CallguardState) -> str:
    """The base URL Twilio reaches callguard at: ``CALLGUARD_PUBLIC_URL``, else the request's own root."""
    return state.settings.public_url or request.url_root.rstrip("/")
