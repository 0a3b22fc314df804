from __future__ import annotations

from collections.abc import Callable

import pytest

from callguard import Decision, DialRequest, Guard

from ..conftest import MAIN


@pytest.fixture
def decide(guard: Guard) -> Callable[..., Decision]:
    """Decide a dial with the base policy: ``decide("+1415…", from_="+1…", account=…)``."""

    def run(to: str, *, from_: str | None = "+14155550100", account: str | None = MAIN, **fields: str) -> Decision:
        return guard.check(DialRequest(account_sid=account, to=to, from_=from_, **fields))

    return run
