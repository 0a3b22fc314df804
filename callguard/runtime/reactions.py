"""What a process does when the traffic protection fires, and when another process changed something."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..clock import Clock
from ..errors import StoreUnavailable
from ..loggers import get_logger
from ..store.change_notices import OVERRIDES, ChangeNotice
from ..store.changes import log_change
from ..store.last_good import LastGood
from ..store.overrides import OverrideStore
from ..traffic.events import TrafficEvent
from .refresh import PolicyRefresher

log = get_logger("callguard")


def on_traffic_event(event: TrafficEvent, alerts: Callable[[TrafficEvent], None], overrides: OverrideStore, clock: Clock) -> None:
    """Alert every traffic event, record blocks and throttles in the change log, and suspend the
    account when a trigger asks for it."""
    alerts(event)
    if event.kind in ("velocity_block", "throttle_started", "complaints_throttle", "complaints_pause"):
        try:
            log_change(
                overrides.engine,
                now=event.at,
                actor="traffic",
                entity="traffic",
                entity_id=f"{event.account_sid}:{event.subject}",
                action=event.kind,
                before=None,
                after=event.as_dict(),
            )
        except StoreUnavailable:
            log.exception("%s of %s could not be recorded in the change log", event.kind, event.account_sid)
    if event.kind == "suspend_requested":
        try:
            overrides.set_suspended(event.account_sid, True, reason=event.sentence, actor="traffic", now=clock())
            log.error("account %s suspended automatically: %s", event.account_sid, event.sentence)
        except StoreUnavailable:
            log.exception("automatic suspension of %s could not be stored", event.account_sid)


def on_change_notice(notice: ChangeNotice, refresher: PolicyRefresher, kept: tuple[LastGood[Any], ...]) -> None:
    """A runtime policy change: re-read the overrides now. An opt-out or consent change: forget
    what is kept about the number (an opt-out also revokes consent: both answers go)."""
    if notice.kind == OVERRIDES:
        refresher.refresh_now()
        return
    for last_good in kept:
        if notice.number is None:
            last_good.clear()
        else:
            last_good.forget((notice.number, notice.family))


def on_missed_notices(refresher: PolicyRefresher, kept: tuple[LastGood[Any], ...]) -> None:
    """Notices may have been lost while Redis was unreachable: do what any of them would have done."""
    refresher.refresh_now()
    for last_good in kept:
        last_good.clear()
