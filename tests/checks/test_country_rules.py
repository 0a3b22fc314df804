"""Country and state rules of telemarketing beyond the TCPA window: France's calling hours, public
holidays from the holidays package, the legal limits on calls to one consumer across the account
family, France's 60 days after a refusal, and a policy's ``[contact_limits]`` changing them
(callguard.checks.hours, .traffic, .dnc), on both counter backends."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callguard import Action, Decision, DialRequest, FakeClock, Guard, load_policy
from callguard.lookups import Lookups
from callguard.store import create_database_engine, ensure_schema
from callguard.store.consents import ConsentStore
from callguard.store.counters import open_counters
from callguard.store.optouts import OptOutStore
from callguard.traffic import TrafficMonitor

from ..conftest import GRANDCHILD, MAIN, TENANT

POLICY = f"""
[defaults]
fail_mode = "reject"
default_region = "FR"

[accounts.{MAIN}]
name = "Main"
caller_ids = ["+33142685300", "+33142685301", "+14155550100"]

[accounts.{MAIN}.permissions]
FR = {{ low_risk = true }}
US = {{ low_risk = true }}
CA = {{ low_risk = true }}

[accounts.{TENANT}]
name = "Tenant"
parent = "{MAIN}"
caller_ids = ["+33145678901"]

[accounts.{GRANDCHILD}]
name = "Other family"
caller_ids = ["+33142685311"]

[accounts.{GRANDCHILD}.permissions]
FR = {{ low_risk = true }}

[campaigns.printemps]
purpose = "telemarketing"
organization = "Acme Solaire"
disclosure = "Bonjour, ici Acme Solaire."
language = "fr-FR"

[campaigns.ete]
purpose = "telemarketing"
organization = "Acme Solaire"
disclosure = "Bonjour, ici Acme Solaire."
language = "fr-FR"
opt_out_scope = "campaign"

[campaigns.rappels]
purpose = "informational"

[campaigns.quebec]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar."
calling_hours = {{ all = "09:00-20:00", holidays = ["CA-QC"] }}
"""

PARIS_MOBILE = "+33612345678"
# Tuesday 2 June 2026; Paris is at UTC+2 in summer.
TUESDAY = datetime(2026, 6, 2, tzinfo=UTC)


def paris(day: datetime, hh: int, mm: int = 0) -> datetime:
    return day + timedelta(hours=hh - 2, minutes=mm)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def counters_spec(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if request.param == "sqlite":
        return {"redis_url": None, "sqlite_path": str(tmp_path / "counters.db"), "prefix": ""}
    return {"redis_url": request.getfixturevalue("redis_server"), "sqlite_path": "", "prefix": request.getfixturevalue("redis_prefix")}


@pytest.fixture
def optouts(sqlite_url: str) -> Iterator[OptOutStore]:
    engine = create_database_engine(sqlite_url)
    ensure_schema(engine)
    yield OptOutStore(engine)
    engine.dispose()


@pytest.fixture
def make_guard(
    write_policy: Callable[..., Path], optouts: OptOutStore, clock: FakeClock, counters_spec: dict[str, Any]
) -> Iterator[Callable[[str], Guard]]:
    opened: list[Any] = []

    def make(extra: str = "") -> Guard:
        counters = open_counters(counters_spec["redis_url"], counters_spec["sqlite_path"], prefix=counters_spec["prefix"], timeout=1.0)
        opened.append(counters)
        lookups = Lookups(optouts=optouts, consents=ConsentStore(optouts.engine), traffic=TrafficMonitor(counters, clock=clock))
        return Guard(load_policy(write_policy(POLICY + extra, name="countries.toml")), clock=clock, lookups=lookups)

    yield make
    for counters in opened:
        counters.close()


@pytest.fixture
def guard(make_guard: Callable[[str], Guard]) -> Guard:
    return make_guard("")


_sids = itertools.count(1)


def call(guard: Guard, to: str = PARIS_MOBILE, *, campaign: str | None = "printemps", account: str = MAIN,
         from_: str = "+33142685300") -> Decision:
    return guard.check(DialRequest(account, to, from_, campaign=campaign, call_sid=f"CA{next(_sids):032d}"))


# -- France: days, hours and public holidays ---------------------------------------------------


@pytest.mark.parametrize(
    "when, allowed",
    [
        (paris(TUESDAY, 10), True),
        (paris(TUESDAY, 9, 59), False),
        (paris(TUESDAY, 12, 59), True),
        (paris(TUESDAY, 13, 30), False),  # the lunch break
        (paris(TUESDAY, 14), True),
        (paris(TUESDAY, 19, 59), True),
        (paris(TUESDAY, 20), False),
        (paris(TUESDAY + timedelta(days=4), 11), False),  # Saturday
        (paris(TUESDAY + timedelta(days=5), 11), False),  # Sunday
        (paris(datetime(2026, 7, 14, tzinfo=UTC), 11), False),  # a Tuesday, and the Fête nationale
        (paris(datetime(2026, 5, 1, tzinfo=UTC), 11), False),  # a Friday, and the 1st of May
        (paris(datetime(2026, 5, 14, tzinfo=UTC), 11), False),  # Ascension, a Thursday
    ],
)
def test_french_calling_hours(guard: Guard, clock: FakeClock, when: datetime, allowed: bool) -> None:
    clock.set(when)
    for to in (PARIS_MOBILE, "+33142685399"):
        decision = call(guard, to)
        if allowed:
            assert decision.action is Action.DISCLOSE, decision.sentence
        else:
            assert decision.reasons == ("hours.outside_window",), decision.sentence
            assert "Europe/Paris" in decision.sentence and "country FR" in decision.sentence


def test_the_refusal_says_which_window_or_which_holiday(guard: Guard, clock: FakeClock) -> None:
    clock.set(paris(TUESDAY, 13, 30))
    assert "calls may ring 10:00-13:00, 14:00-20:00 on that day" in call(guard).sentence
    clock.set(paris(datetime(2026, 7, 14, tzinfo=UTC), 11))
    assert "Tuesday is closed (public holiday in FR)" in call(guard).sentence
    clock.set(paris(TUESDAY + timedelta(days=4), 11))
    assert "Saturday is closed." in call(guard).sentence


def test_a_campaign_window_intersects_both_french_windows(make_guard: Callable[[str], Guard], clock: FakeClock) -> None:
    guard = make_guard('\n[campaigns.soir]\npurpose = "telemarketing"\norganization = "A"\ndisclosure = "A."\n'
                       'calling_hours = { all = "12:00-15:00" }\n')
    outcomes = {}
    for hh, mm in ((11, 59), (12, 0), (12, 59), (13, 0), (13, 59), (14, 0), (14, 59), (15, 0)):
        clock.set(paris(TUESDAY, hh, mm))
        outcomes[f"{hh:02d}:{mm:02d}"] = call(guard, campaign="soir").action is Action.DISCLOSE
    assert [t for t, ok in outcomes.items() if ok] == ["12:00", "12:59", "14:00", "14:59"]


# -- the legal limit on calls to one consumer --------------------------------------------------


def test_the_fifth_call_in_30_days_is_refused_across_caller_ids_campaigns_and_subaccounts(guard: Guard, clock: FakeClock) -> None:
    placed = [
        (MAIN, "+33142685300", "printemps"),
        (MAIN, "+33142685301", "printemps"),
        (MAIN, "+33142685300", "ete"),
        (TENANT, "+33145678901", "ete"),  # a subaccount: the same family
    ]
    for minute, (account, caller_id, campaign) in enumerate(placed):
        clock.set(paris(TUESDAY, 10, minute))
        assert call(guard, account=account, from_=caller_id, campaign=campaign).action is Action.DISCLOSE
    clock.set(paris(TUESDAY + timedelta(days=21), 15))  # three weeks later, another campaign and caller ID
    fifth = call(guard, account=TENANT, from_="+33145678901", campaign="printemps")
    assert fifth.reasons == ("traffic.callee_frequency",)
    assert fifth.sentence == (
        f"{PARIS_MOBILE} has had 4 telemarketing calls from this account family within 30 days, the most the law of country FR "
        "(Code de la consommation art. D. 223-9) allows."
    )
    # Another number, and another account family, are counted apart.
    assert call(guard, "+33612345679").action is Action.DISCLOSE
    assert call(guard, account=GRANDCHILD, from_="+33142685311").action is Action.DISCLOSE
    # 30 days after the first call it has left the window: one call more, and only one.
    clock.set(paris(TUESDAY + timedelta(days=30), 10, 0) + timedelta(seconds=1))
    assert call(guard).action is Action.DISCLOSE
    assert call(guard).reasons == ("traffic.callee_frequency",)


def test_only_telemarketing_calls_that_are_placed_count(guard: Guard, clock: FakeClock) -> None:
    clock.set(paris(TUESDAY + timedelta(days=4), 11))  # Saturday: refused by the calling hours, given back
    for _ in range(5):
        assert call(guard).reasons == ("hours.outside_window",)
    clock.set(paris(TUESDAY, 11))
    for _ in range(5):  # refused before the traffic check (a caller ID the family does not own): never counted
        assert call(guard, from_="+33142685399").reasons == ("callerid.not_owned",)
    for _ in range(5):  # informational calls neither count nor are limited
        assert call(guard, campaign="rappels").action is Action.CONNECT
    for _ in range(4):
        assert call(guard).action is Action.DISCLOSE
    assert call(guard).reasons == ("traffic.callee_frequency",)


def test_a_what_if_counts_nothing(guard: Guard, clock: FakeClock) -> None:
    clock.set(paris(TUESDAY, 11))
    for _ in range(6):
        request = DialRequest(MAIN, PARIS_MOBILE, "+33142685300", campaign="printemps", what_if=True)
        assert guard.check(request).action is Action.DISCLOSE
    for _ in range(4):
        assert call(guard).action is Action.DISCLOSE


def test_florida_allows_three_calls_in_24_hours(guard: Guard, clock: FakeClock) -> None:
    miami = "+13055550123"
    start = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)  # Monday, 11:00 in Miami
    for minute in range(3):
        clock.set(start + timedelta(minutes=minute))
        assert call(guard, miami, from_="+14155550100", campaign="ete" if minute else "printemps").action is Action.DISCLOSE
    clock.set(start + timedelta(hours=5))
    fourth = call(guard, miami, account=TENANT, from_="+33145678901")
    assert fourth.reasons == ("traffic.callee_frequency",) and "Fla. Stat. 501.616(6)(b)" in fourth.sentence
    assert "within 24 hours" in fourth.sentence
    # New York has no such limit.
    for _ in range(5):
        assert call(guard, "+12125550123", from_="+14155550100").action is Action.DISCLOSE
    clock.set(start + timedelta(days=1, seconds=1))
    assert call(guard, miami, from_="+14155550100").action is Action.DISCLOSE


# -- a policy's [contact_limits] ------------------------------------------------------------------


def test_a_policy_may_add_a_limit_for_another_country(make_guard: Callable[[str], Guard], clock: FakeClock) -> None:
    guard = make_guard(
        f'\n[accounts.{MAIN}.permissions.DE]\nlow_risk = true\n'
        '\n[contact_limits.countries.DE]\nmax_calls = 2\nwithin = "7d"\nlaw = "UWG 7"\n'
    )
    berlin = "+493012345678"
    clock.set(paris(TUESDAY, 11))  # 11:00 in Berlin too
    for campaign in ("printemps", "ete"):
        assert call(guard, berlin, campaign=campaign).action is Action.DISCLOSE
    third = call(guard, berlin, account=TENANT, from_="+33145678901")
    assert third.reasons == ("traffic.callee_frequency",)
    assert third.sentence == (
        f"{berlin} has had 2 telemarketing calls from this account family within 7 days, the most the law of country DE (UWG 7) allows."
    )
    assert make_guard("\n").policy.contact_limits.countries.get("DE") is None  # not without the table


def test_a_policy_may_remove_floridas_limit(make_guard: Callable[[str], Guard], clock: FakeClock) -> None:
    guard = make_guard("\n[contact_limits]\nus_states.FL = false\n")
    miami = "+13055550123"
    clock.set(datetime(2026, 6, 1, 15, 0, tzinfo=UTC))  # Monday, 11:00 in Miami
    for _ in range(5):
        assert call(guard, miami, from_="+14155550100").action is Action.DISCLOSE
    for _ in range(3):  # Oklahoma keeps the shipped limit
        assert call(guard, "+14055550123", from_="+14155550100").action is Action.DISCLOSE
    assert call(guard, "+14055550123", from_="+14155550100").reasons == ("traffic.callee_frequency",)


def test_a_policys_quiet_period_after_a_refusal_applies(
    make_guard: Callable[[str], Guard], clock: FakeClock, optouts: OptOutStore
) -> None:
    guard = make_guard('\n[contact_limits.countries.FR]\nafter_refusal = "10d"\nlaw = "our reading of D. 223-9"\n')
    refused_at = paris(TUESDAY - timedelta(days=1), 11)  # Monday 1 June
    optouts.add(PARIS_MOBILE, MAIN, campaign="ete", source="prompt", now=refused_at.timestamp())
    clock.set(refused_at + timedelta(days=10, minutes=-1))  # Thursday 11 June, 10:59
    refused = call(guard, campaign="printemps")
    assert refused.reasons == ("dnc.refused_recently",)
    assert refused.sentence.endswith("under the law of country FR (our reading of D. 223-9) no campaign may call it for 10 days after.")
    clock.set(refused_at + timedelta(days=10, minutes=1))  # the shipped 60 days no longer hold
    assert call(guard, campaign="printemps").action is Action.DISCLOSE
    for _ in range(5):  # the policy's entry replaced France's: it counts no calls
        assert call(guard, campaign="printemps").action is Action.DISCLOSE


# -- France: none for 60 days after the consumer refuses ---------------------------------------


def test_a_refusal_stops_every_campaign_of_the_family_for_60_days(guard: Guard, clock: FakeClock, optouts: OptOutStore) -> None:
    refused_at = paris(TUESDAY - timedelta(days=1), 11)  # Monday 1 June
    optouts.add(PARIS_MOBILE, MAIN, campaign="ete", source="prompt", now=refused_at.timestamp())
    clock.set(refused_at + timedelta(minutes=5))
    assert call(guard, campaign="ete").reasons == ("dnc.optout",)
    other = call(guard, campaign="printemps", account=TENANT, from_="+33145678901")
    assert other.reasons == ("dnc.refused_recently",)
    assert other.sentence == (
        f"{PARIS_MOBILE} refused calls from this account family (campaign ete) on 2026-06-01 09:00 UTC; under the law of country FR "
        "(Code de la consommation art. D. 223-9) no campaign may call it for 60 days after."
    )
    assert call(guard, account=GRANDCHILD, from_="+33142685311").action is Action.DISCLOSE  # another family
    clock.set(refused_at + timedelta(days=60, minutes=-1))  # Friday 31 July, 10:59
    assert call(guard, campaign="printemps").reasons == ("dnc.refused_recently",)
    clock.set(refused_at + timedelta(days=60, minutes=1))
    assert call(guard, campaign="printemps").action is Action.DISCLOSE
    assert call(guard, campaign="ete").reasons == ("dnc.optout",)  # the campaign's own opt-out still holds


def test_a_campaign_opt_out_elsewhere_stops_only_that_campaign(guard: Guard, clock: FakeClock, optouts: OptOutStore) -> None:
    start = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
    optouts.add("+12125550123", MAIN, campaign="ete", source="prompt", now=start.timestamp())
    clock.set(start + timedelta(minutes=1))
    assert call(guard, "+12125550123", campaign="ete", from_="+14155550100").reasons == ("dnc.optout",)
    assert call(guard, "+12125550123", campaign="printemps", from_="+14155550100").action is Action.DISCLOSE


# -- public-holiday calendars: the callee's local date decides ---------------------------------


def test_the_callees_local_date_decides_a_holiday(make_guard: Callable[[str], Guard], clock: FakeClock) -> None:
    guard = make_guard('\n[calling_hours]\nholidays = ["US"]\ndefault = { all = "00:00-24:00" }\n')
    # 07:30 UTC on 25 December: 23:30 on the 24th in San Francisco, 02:30 on the 25th in New York.
    clock.set(datetime(2026, 12, 25, 7, 30, tzinfo=UTC))
    assert call(guard, "+14155550123", from_="+14155550100").action is Action.DISCLOSE
    new_york = call(guard, "+12125550123", from_="+14155550100")
    assert new_york.reasons == ("hours.outside_window",) and "Friday is closed (public holiday in US)" in new_york.sentence
    clock.set(datetime(2026, 12, 25, 8, 30, tzinfo=UTC))  # 00:30 on the 25th in San Francisco
    assert call(guard, "+14155550123", from_="+14155550100").reasons == ("hours.outside_window",)


def test_a_state_calendar_closes_that_state_only(make_guard: Callable[[str], Guard], clock: FakeClock) -> None:
    guard = make_guard('\n[calling_hours.us_states.FL]\nall = "08:00-20:00"\nholidays = ["US-FL"]\n')
    clock.set(datetime(2026, 11, 27, 16, 0, tzinfo=UTC))  # the Friday after Thanksgiving: a holiday in Florida only
    assert call(guard, "+13055550123", from_="+14155550100").reasons == ("hours.outside_window",)
    assert call(guard, "+12125550123", from_="+14155550100").action is Action.DISCLOSE


def test_a_campaign_window_may_name_a_calendar(guard: Guard, clock: FakeClock) -> None:
    clock.set(datetime(2026, 6, 24, 16, 0, tzinfo=UTC))  # la Saint-Jean, Quebec's holiday; noon in Montreal
    montreal = call(guard, "+15145550123", campaign="quebec", from_="+14155550100")
    assert montreal.reasons == ("hours.outside_window",) and "public holiday in CA-QC" in montreal.sentence
    assert call(guard, "+15145550123", campaign="printemps", from_="+14155550100").action is Action.DISCLOSE  # not this campaign's
    clock.set(datetime(2026, 6, 23, 16, 0, tzinfo=UTC))
    assert call(guard, "+15145550123", campaign="quebec", from_="+14155550100").action is Action.DISCLOSE
