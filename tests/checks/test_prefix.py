"""Blocked prefixes, global and per account, with expiry (callguard.checks.prefix)."""

from __future__ import annotations

from collections.abc import Callable

from callguard import Action, Decision, FakeClock

from ..conftest import STRANGER, TENANT


def test_a_global_block_refuses_until_it_expires(decide: Callable[..., Decision], clock: FakeClock) -> None:
    decision = decide("+14155550191")
    assert decision.reasons == ("prefix.blocked",)
    assert "+1415555019" in decision.sentence and "fraud investigation" in decision.sentence
    assert "2026-07-01 00:00 UTC" in decision.sentence
    clock.set(1_782_863_999.0)  # 2026-06-30T23:59:59Z: one second before expiry
    assert decide("+14155550191").reasons == ("prefix.blocked",)
    clock.advance(1)
    assert decide("+14155550191").action is Action.CONNECT


def test_global_blocks_apply_to_unknown_accounts_too(decide: Callable[..., Decision]) -> None:
    assert decide("+14155550191", account=STRANGER).reasons == ("account.unknown", "prefix.blocked")


def test_an_account_block_applies_to_that_account_and_its_children_only(decide: Callable[..., Decision]) -> None:
    from ..conftest import GRANDCHILD, MAIN

    assert decide("+493012345678", account=TENANT, from_="+442079460000").reasons == ("prefix.blocked",)
    assert decide("+493012345678", account=GRANDCHILD, from_="+442079460000").reasons == ("prefix.blocked",)
    # Main has no permission for Germany, but no block either.
    assert decide("+493012345678", account=MAIN).reasons == ("geo.low_risk",)
    assert decide("+498912345678", account=TENANT, from_="+442079460000").action is Action.CONNECT
