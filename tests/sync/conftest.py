"""Fixtures for the Twilio sync: the transport and reader pointed at the Twilio double (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from callguard.sync.reader import TwilioReader
from callguard.sync.transport import TwilioTransport

from ..conftest import MAIN_TOKEN, TENANT_TOKEN
from .twilio_double import TwilioDouble


@pytest.fixture
def transport(double: TwilioDouble, sleeps: list[float], clock: Any) -> TwilioTransport:
    return TwilioTransport(base_url=double.url, sleep=sleeps.append, clock=clock, random=lambda: 1.0)


@pytest.fixture
def reader(transport: TwilioTransport) -> TwilioReader:
    return TwilioReader(transport)


@pytest.fixture
def sync_config() -> dict[str, str]:
    """The credentials the sync reads (what the web app finds in its config and environment)."""
    return {"TWILIO_AUTH_TOKEN": MAIN_TOKEN, "TWILIO_AUTH_TOKEN_TENANT": TENANT_TOKEN}
