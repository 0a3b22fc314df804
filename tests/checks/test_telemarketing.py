"""The telemarketing checks: campaigns, opt-outs, national registries with consent, calling hours
and disclosure (callguard.checks.campaign, .dnc, .hours)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from callguard import Action, Decision, DialRequest, FakeClock, Guard, load_policy
from callguard.lookups import Lookups
from callguard.registry import RegistryDirectory, RegistryKind
from callguard.registry.builder import build
from callguard.store import create_database_engine, ensure_schema
from callguard.store.consents import ConsentStore
from callguard.store.optouts import OptOutStore

from ..conftest import BASE_POLICY, MAIN, TENANT

TELEMARKETING = """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."

[campaigns.strict]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar."
registries = ["us_ftc"]
calling_hours = { all = "10:00-18:00" }
opt_out_scope = "campaign"

[campaigns.reminders]
purpose = "informational"
"""

# Monday 2026-06-01 15:00 UTC: 11:00 in New York, 08:00 in San Francisco, 10:00 in Chicago.
MONDAY_15_UTC = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def stores(sqlite_url: str):
    engine = create_database_engine(sqlite_url)
    ensure_schema(engine)
    yield OptOutStore(engine), ConsentStore(engine)
    engine.dispose()


@pytest.fixture
def telemarketing_guard(write_policy: Callable[..., Path], stores, clock: FakeClock, tmp_path: Path) -> Guard:
    clock.set(MONDAY_15_UTC)
    policy = load_policy(write_policy(BASE_POLICY + TELEMARKETING, name="tm.toml"))
    build(
        str(tmp_path / "registries" / "us_ftc.cgreg"), name="us_ftc", kind=RegistryKind.NANP,
        keys=np.array([2125550100, 2125550101]), regions={"US"}, as_of=clock(),
    )
    registries = RegistryDirectory(tmp_path / "registries", clock=clock)
    return Guard(policy, clock=clock, lookups=Lookups(optouts=stores[0], consents=stores[1], registries=registries))


def decide(guard: Guard, to: str, campaign: str | None = "spring", account: str = MAIN, from_: str = "+14155550100") -> Decision:
    return guard.check(DialRequest(account, to, from_, campaign=campaign, call_sid="CA1"))


def test_a_clean_telemarketing_call_is_disclosed(telemarketing_guard: Guard) -> None:
    decision = decide(telemarketing_guard, "+12125550123")
    assert decision.action is Action.DISCLOSE
    assert decision.reasons == ("disclosure.required",) and decision.campaign == "spring"
    assert decision.checks[-3:] == ("dnc.optout", "dnc.national", "hours")
    assert decision.header_value() == "disclose; reasons=disclosure.required"


def test_informational_and_campaignless_calls_skip_the_telemarketing_checks(telemarketing_guard: Guard) -> None:
    for campaign in ("reminders", None):
        decision = decide(telemarketing_guard, "+12125550100", campaign=campaign)  # on the registry
        assert decision.action is Action.CONNECT and "dnc.national" not in decision.checks


def test_unknown_campaign(telemarketing_guard: Guard) -> None:
    assert decide(telemarketing_guard, "+12125550123", campaign="winter").reasons == ("campaign.unknown",)


def test_opt_outs_refuse_and_bind_the_whole_account_family(telemarketing_guard: Guard, stores, clock: FakeClock) -> None:
    optouts, _ = stores
    optouts.add("+12125550123", MAIN, source="prompt", now=clock())
    decision = decide(telemarketing_guard, "+12125550123")
    assert decision.reasons == ("dnc.optout",) and "prompt" in decision.sentence
    # The tenant is a subaccount of Main: same family, same list.
    assert decide(telemarketing_guard, "+12125550123", account=TENANT, from_="+442079460000").reasons == ("dnc.optout",)
    # A campaign-only opt-out stops that campaign only.
    optouts.add("+12125550124", MAIN, campaign="strict", source="prompt", now=clock())
    assert decide(telemarketing_guard, "+12125550124", campaign="strict").reason == "dnc.optout"
    assert decide(telemarketing_guard, "+12125550124", campaign="spring").action is Action.DISCLOSE


def test_national_registry_refuses_unless_there_is_consent(telemarketing_guard: Guard, stores, clock: FakeClock) -> None:
    optouts, consents = stores
    decision = decide(telemarketing_guard, "+12125550100")
    assert decision.reasons == ("dnc.national.us_ftc",) and "us_ftc" in decision.sentence
    consents.add("+12125550100", MAIN, kind="prior_express_written", obtained_at=clock() - 86400, now=clock())
    assert decide(telemarketing_guard, "+12125550100").action is Action.DISCLOSE
    # An opt-out always wins, and revokes the consent.
    optouts.add("+12125550100", MAIN, source="prompt", now=clock())
    assert decide(telemarketing_guard, "+12125550100").reasons == ("dnc.optout", "dnc.national.us_ftc")


def test_a_campaign_that_names_a_missing_registry_refuses(write_policy: Callable[..., Path], stores, clock: FakeClock) -> None:
    clock.set(MONDAY_15_UTC)
    policy = load_policy(write_policy(BASE_POLICY + TELEMARKETING, name="tm.toml"))
    guard = Guard(policy, clock=clock, lookups=Lookups(optouts=stores[0], consents=stores[1], registries=None))
    assert decide(guard, "+12125550123", campaign="strict").reasons == ("dnc.national.unavailable",)
    assert decide(guard, "+12125550123", campaign="spring").action is Action.DISCLOSE


def test_without_an_opt_out_list_telemarketing_is_refused(write_policy: Callable[..., Path], clock: FakeClock) -> None:
    clock.set(MONDAY_15_UTC)
    guard = Guard(load_policy(write_policy(BASE_POLICY + TELEMARKETING, name="tm.toml")), clock=clock)
    assert decide(guard, "+12125550123").reason == "dnc.unavailable"


@pytest.mark.parametrize(
    "when, to, reason",
    [
        # Monday 15:00 UTC = 08:00 in California: inside 08:00-21:00.
        (datetime(2026, 6, 1, 15, 0), "+14155550123", None),
        # One minute earlier it is 07:59 there.
        (datetime(2026, 6, 1, 14, 59), "+14155550123", "hours.outside_window"),
        # Florida closes at 20:00 (00:00 UTC in June is 20:00 in Miami).
        (datetime(2026, 6, 1, 23, 59), "+13055550123", None),
        (datetime(2026, 6, 2, 0, 0), "+13055550123", "hours.outside_window"),
        # No Sunday calls in Alabama; Sunday is fine in Georgia.
        (datetime(2026, 6, 7, 17, 0), "+12055550123", "hours.outside_window"),
        (datetime(2026, 6, 7, 17, 0), "+14045550123", None),
        # Canada at weekends: 10:00-18:00 (Sunday 21:59 UTC = 17:59 in Toronto).
        (datetime(2026, 6, 7, 21, 59), "+16135550123", None),
        (datetime(2026, 6, 7, 22, 0), "+16135550123", "hours.outside_window"),
    ],
)
def test_calling_hours(telemarketing_guard: Guard, clock: FakeClock, when: datetime, to: str, reason: str | None) -> None:
    clock.set(when.replace(tzinfo=UTC))
    decision = decide(telemarketing_guard, to, from_="+14155550100")
    if reason is None:
        assert decision.action is Action.DISCLOSE, decision.sentence
    else:
        assert decision.reasons[-1] == reason
        assert "It is " in decision.sentence and "America/" in decision.sentence


def test_the_campaign_window_narrows_the_legal_one(telemarketing_guard: Guard, clock: FakeClock) -> None:
    clock.set(datetime(2026, 6, 1, 17, 30, tzinfo=UTC))  # 13:30 New York, 10:30 California
    assert decide(telemarketing_guard, "+12125550123", campaign="strict").action is Action.DISCLOSE
    clock.set(datetime(2026, 6, 1, 22, 0, tzinfo=UTC))  # 18:00 in New York: legal, but not for "strict"
    decision = decide(telemarketing_guard, "+12125550123", campaign="strict")
    assert decision.reasons == ("hours.outside_window",) and "campaign strict" in decision.sentence


def test_holidays_from_the_policy(write_policy: Callable[..., Path], stores, clock: FakeClock) -> None:
    clock.set(datetime(2026, 12, 25, 17, 0, tzinfo=UTC))
    text = BASE_POLICY + TELEMARKETING + "\n[calling_hours]\nholidays = [2026-12-25]\n"
    lookups = Lookups(optouts=stores[0], consents=stores[1])
    guard = Guard(load_policy(write_policy(text, name="holidays.toml")), clock=clock, lookups=lookups)
    decision = decide(guard, "+12125550123")
    assert decision.reasons == ("hours.outside_window",) and "closed (holiday)" in decision.sentence


def test_emergency_numbers_still_just_connect(telemarketing_guard: Guard) -> None:
    assert decide(telemarketing_guard, "911").reasons == ("emergency",)


def test_a_number_without_a_known_local_time_is_refused(telemarketing_guard: Guard) -> None:
    # An international freephone number (+800) is valid but in no time zone.
    decision = decide(telemarketing_guard, "+80012345678")
    assert decision.reasons[-1] == "hours.unknown_timezone" and "cannot be known" in decision.refusals[-1].sentence


@pytest.mark.parametrize(
    "when, outside_in",
    [
        # Idaho's 208 spans Mountain (Boise) and Pacific time: the window must hold in both.
        (datetime(2026, 6, 1, 14, 30), "America/Los_Angeles"),  # 08:30 in Boise, 07:30 in the Pacific part
        (datetime(2026, 6, 1, 15, 0), None),
        (datetime(2026, 6, 2, 2, 59), None),  # 20:59 in Boise
        (datetime(2026, 6, 2, 3, 0), "America/Boise"),  # 21:00 in Boise, 20:00 in the Pacific part
    ],
)
def test_calling_hours_hold_in_every_zone_of_the_number(
    telemarketing_guard: Guard, clock: FakeClock, when: datetime, outside_in: str | None
) -> None:
    clock.set(when.replace(tzinfo=UTC))
    decision = decide(telemarketing_guard, "+12085550123")
    if outside_in is None:
        assert decision.action is Action.DISCLOSE, decision.sentence
    else:
        assert decision.reasons == ("hours.outside_window",) and f"in {outside_in} for +12085550123" in decision.sentence


def test_the_refusal_says_the_local_time_and_the_window(telemarketing_guard: Guard, clock: FakeClock) -> None:
    clock.set(datetime(2026, 6, 1, 14, 30, tzinfo=UTC))
    assert decide(telemarketing_guard, "+12085550123").sentence == (
        "It is Monday 07:30 in America/Los_Angeles for +12085550123; under the default, calls may ring 08:00-21:00 on that day."
    )
    clock.set(datetime(2026, 6, 7, 17, 0, tzinfo=UTC))
    assert decide(telemarketing_guard, "+12055550123", campaign="strict").sentence == (
        "It is Sunday 12:00 in America/Chicago for +12055550123; under US state AL and campaign strict, Sunday is closed."
    )
