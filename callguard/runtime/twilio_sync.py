"""The Twilio sync as a deployment runs it: on the records database, through the retrying
transport, with its runs, unreadable accounts and retries counted in the metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from ..clock import Clock
from ..store.leases import LeaseStore
from ..store.twilio_snapshots import TwilioSnapshotStore
from ..sync.reader import TwilioReader
from ..sync.runner import TwilioSync
from ..sync.transport import RetryPolicy, Sleep, TwilioTransport
from .metrics import TWILIO_RETRIES, TWILIO_SYNC_ERRORS, TWILIO_SYNC_RUNS


def count_run(outcome: str) -> None:
    TWILIO_SYNC_RUNS.labels(outcome=outcome).inc()


def count_account_error(kind: str) -> None:
    TWILIO_SYNC_ERRORS.labels(kind=kind).inc()


def count_retry(reason: str) -> None:
    TWILIO_RETRIES.labels(reason=reason).inc()


def build_twilio_sync(
    engine: Engine,
    *,
    config: Mapping[str, Any],
    clock: Clock,
    sleep: Sleep,
    interval: float,
    base_url: str | None = None,
    retry: RetryPolicy | None = None,
) -> TwilioSync:
    """A :class:`TwilioSync` on ``engine``, counting runs, errors and retries in the metrics."""
    transport = TwilioTransport(base_url=base_url, retry=retry or RetryPolicy(), sleep=sleep, clock=clock, on_retry=count_retry)
    return TwilioSync(
        TwilioSnapshotStore(engine), LeaseStore(engine), TwilioReader(transport), config=config, clock=clock, interval=interval,
        on_run=count_run, on_account_error=count_account_error,
    )
