"""Calling hours in every zone a NANP number can be in (callguard.checks.hours): each split area
code on both sides of each window edge, in winter and summer and across the US changes of
2026 (clocks go forward on Sunday 8 March and back on Sunday 1 November)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callguard import Action, Decision, DialRequest, FakeClock, Guard, load_policy
from callguard.checks.hours import zone_hours
from callguard.lookups import Lookups
from callguard.numbers import classify_number
from callguard.store import create_database_engine, ensure_schema
from callguard.store.consents import ConsentStore
from callguard.store.optouts import OptOutStore

from ..conftest import BASE_POLICY, MAIN

CAMPAIGN = """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling."
"""

MINUTE = timedelta(minutes=1)


@pytest.fixture
def hours_guard(write_policy: Callable[..., Path], sqlite_url: str, clock: FakeClock) -> Iterator[Guard]:
    engine = create_database_engine(sqlite_url)
    ensure_schema(engine)
    policy = load_policy(write_policy(BASE_POLICY + CAMPAIGN, name="hours.toml"))
    yield Guard(policy, clock=clock, lookups=Lookups(optouts=OptOutStore(engine), consents=ConsentStore(engine)))
    engine.dispose()


def decide_at(guard: Guard, clock: FakeClock, to: str, when: datetime) -> Decision:
    clock.set(when)
    return guard.check(DialRequest(MAIN, to, "+14155550100", campaign="spring", call_sid="CA1"))


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


# (number, the first minute the window is open, the first minute it is closed again, the zone that
# opens last, the zone that closes first). Windows: the TCPA's 08:00-21:00, Florida 08:00-20:00,
# Michigan 09:00-21:00, Canada 09:00-21:30 on weekdays. Wednesday 14 January and Thursday 16 July.
EDGES = [
    # Florida's 850, an exchange of no known place: Central opens last, Eastern closes first.
    ("+18505550123", utc(2026, 1, 14, 14, 0), utc(2026, 1, 15, 1, 0), "America/Chicago", "America/New_York"),
    ("+18505550123", utc(2026, 7, 16, 13, 0), utc(2026, 7, 17, 0, 0), "America/Chicago", "America/New_York"),
    # Across the changes: Friday 6 March (standard), Monday 9 March (daylight), Saturday 31
    # October (daylight), Monday 2 November (standard).
    ("+18505550123", utc(2026, 3, 6, 14, 0), utc(2026, 3, 7, 1, 0), "America/Chicago", "America/New_York"),
    ("+18505550123", utc(2026, 3, 9, 13, 0), utc(2026, 3, 10, 0, 0), "America/Chicago", "America/New_York"),
    ("+18505550123", utc(2026, 10, 31, 13, 0), utc(2026, 11, 1, 0, 0), "America/Chicago", "America/New_York"),
    ("+18505550123", utc(2026, 11, 2, 14, 0), utc(2026, 11, 3, 1, 0), "America/Chicago", "America/New_York"),
    # Pensacola's exchanges are Central only, Tallahassee's Eastern only.
    ("+18504320123", utc(2026, 1, 14, 14, 0), utc(2026, 1, 15, 2, 0), "America/Chicago", "America/Chicago"),
    ("+18506440123", utc(2026, 1, 14, 13, 0), utc(2026, 1, 15, 1, 0), "America/New_York", "America/New_York"),
    # Arizona's 928: in winter the Navajo Nation and Phoenix agree (UTC-7); in summer the Navajo
    # Nation is an hour ahead, so it closes first.
    ("+19285550123", utc(2026, 1, 14, 15, 0), utc(2026, 1, 15, 4, 0), "America/Phoenix", "America/Phoenix"),
    ("+19285550123", utc(2026, 7, 16, 15, 0), utc(2026, 7, 17, 3, 0), "America/Phoenix", "America/Denver"),
    ("+19285550123", utc(2026, 3, 7, 15, 0), utc(2026, 3, 8, 4, 0), "America/Phoenix", "America/Phoenix"),
    ("+19285550123", utc(2026, 3, 9, 15, 0), utc(2026, 3, 10, 3, 0), "America/Phoenix", "America/Denver"),
    ("+19285550123", utc(2026, 10, 31, 15, 0), utc(2026, 11, 1, 3, 0), "America/Phoenix", "America/Denver"),
    ("+19285550123", utc(2026, 11, 2, 15, 0), utc(2026, 11, 3, 4, 0), "America/Phoenix", "America/Phoenix"),
    # Flagstaff's exchanges keep Phoenix time only; Window Rock's, on the Navajo Nation, both.
    ("+19287740123", utc(2026, 7, 16, 15, 0), utc(2026, 7, 17, 4, 0), "America/Phoenix", "America/Phoenix"),
    ("+19288710123", utc(2026, 7, 16, 15, 0), utc(2026, 7, 17, 3, 0), "America/Phoenix", "America/Denver"),
    # Oregon's 541: Pacific opens last, Malheur County's Mountain time closes first; Ontario's
    # exchanges are Mountain only, Eugene's Pacific only.
    ("+15418890123", utc(2026, 1, 14, 15, 0), utc(2026, 1, 15, 4, 0), "America/Denver", "America/Denver"),
    ("+15416860123", utc(2026, 1, 14, 16, 0), utc(2026, 1, 15, 5, 0), "America/Los_Angeles", "America/Los_Angeles"),
    ("+15415550123", utc(2026, 1, 14, 16, 0), utc(2026, 1, 15, 4, 0), "America/Los_Angeles", "America/Boise"),
    ("+14585550123", utc(2026, 7, 16, 15, 0), utc(2026, 7, 17, 3, 0), "America/Los_Angeles", "America/Boise"),
    # Indiana's 812 (and its overlay 930): Evansville's Central and the rest's Eastern.
    ("+18125550123", utc(2026, 1, 14, 14, 0), utc(2026, 1, 15, 2, 0), "America/Chicago", "America/New_York"),
    ("+19305550123", utc(2026, 7, 16, 13, 0), utc(2026, 7, 17, 1, 0), "America/Chicago", "America/New_York"),
    # Michigan's 906: the Wisconsin border counties keep Central.
    ("+19065550123", utc(2026, 1, 14, 15, 0), utc(2026, 1, 15, 2, 0), "America/Chicago", "America/New_York"),
    # Saskatchewan: Lloydminster (Mountain, with DST) opens last in winter; Creighton (Central,
    # with DST) closes first in summer.
    ("+13065550123", utc(2026, 1, 14, 16, 0), utc(2026, 1, 15, 3, 30), "America/Edmonton", "America/Regina"),
    ("+16395550123", utc(2026, 7, 16, 15, 0), utc(2026, 7, 17, 2, 30), "America/Regina", "America/Winnipeg"),
    # British Columbia's 250: Pacific opens last; Creston (no DST) closes first in winter, the
    # East Kootenay (Mountain with DST) in summer.
    ("+12505550123", utc(2026, 1, 14, 17, 0), utc(2026, 1, 15, 4, 30), "America/Vancouver", "America/Creston"),
    ("+12505550123", utc(2026, 7, 16, 16, 0), utc(2026, 7, 17, 3, 30), "America/Vancouver", "America/Edmonton"),
    # Ontario's 807: Central opens last; in winter Atikokan (EST all year) and Eastern close together.
    ("+18075550123", utc(2026, 1, 14, 15, 0), utc(2026, 1, 15, 2, 30), "America/Winnipeg", "America/Toronto"),
    ("+18075550123", utc(2026, 7, 16, 14, 0), utc(2026, 7, 17, 1, 30), "America/Atikokan", "America/Toronto"),
    # Quebec's 418: Eastern opens last; in winter the Lower North Shore (AST all year) and the
    # Magdalen Islands (Atlantic) close together, in summer the Magdalen Islands first.
    ("+14185550123", utc(2026, 1, 14, 14, 0), utc(2026, 1, 15, 1, 30), "America/Toronto", "America/Blanc-Sablon"),
    ("+14185550123", utc(2026, 7, 16, 13, 0), utc(2026, 7, 17, 0, 30), "America/Toronto", "America/Halifax"),
    # Newfoundland and Labrador's 709: Labrador opens last, Newfoundland (UTC-3:30) closes first.
    ("+17095550123", utc(2026, 1, 14, 13, 0), utc(2026, 1, 15, 1, 0), "America/Halifax", "America/St_Johns"),
    # 867: Yukon to Nunavut, opened by the Pacific and closed by the Eastern zones.
    ("+18675550123", utc(2026, 1, 14, 17, 0), utc(2026, 1, 15, 2, 30), "America/Vancouver", "America/Atikokan"),
    # Exchanges of places on one side of a split area code keep that side's zone only: without
    # their rows each would open later or close earlier in the area code's other zones.
    ("+12082870123", utc(2026, 1, 14, 15, 0), utc(2026, 1, 15, 4, 0), "America/Denver", "America/Denver"),  # Boise
    ("+12082920123", utc(2026, 1, 14, 16, 0), utc(2026, 1, 15, 5, 0), "America/Los_Angeles", "America/Los_Angeles"),  # Coeur d'Alene
    ("+18124010123", utc(2026, 1, 14, 14, 0), utc(2026, 1, 15, 3, 0), "America/Chicago", "America/Chicago"),  # Evansville
    ("+18123230123", utc(2026, 1, 14, 13, 0), utc(2026, 1, 15, 2, 0), "America/New_York", "America/New_York"),  # Bloomington
    # Kentucky's window is 10:00-21:00.
    ("+12703930123", utc(2026, 1, 14, 16, 0), utc(2026, 1, 15, 3, 0), "America/Chicago", "America/Chicago"),  # Bowling Green
    ("+12702340123", utc(2026, 1, 14, 15, 0), utc(2026, 1, 15, 2, 0), "America/New_York", "America/New_York"),  # Elizabethtown
    ("+14232090123", utc(2026, 1, 14, 13, 0), utc(2026, 1, 15, 2, 0), "America/New_York", "America/New_York"),  # Chattanooga
    ("+14239420123", utc(2026, 1, 14, 14, 0), utc(2026, 1, 15, 3, 0), "America/Chicago", "America/Chicago"),  # Jasper, TN
    ("+17852150123", utc(2026, 1, 14, 14, 0), utc(2026, 1, 15, 3, 0), "America/Chicago", "America/Chicago"),  # Topeka
    ("+17858900123", utc(2026, 1, 14, 15, 0), utc(2026, 1, 15, 4, 0), "America/Denver", "America/Denver"),  # Goodland
    # Texas's window is 09:00-21:00 on weekdays.
    ("+14322180123", utc(2026, 1, 14, 15, 0), utc(2026, 1, 15, 3, 0), "America/Chicago", "America/Chicago"),  # Midland
    ("+13062050123", utc(2026, 7, 16, 15, 0), utc(2026, 7, 17, 3, 30), "America/Regina", "America/Regina"),  # Regina
    ("+17784780123", utc(2026, 7, 16, 16, 0), utc(2026, 7, 17, 4, 30), "America/Vancouver", "America/Vancouver"),  # Kelowna
    ("+12504170123", utc(2026, 7, 16, 15, 0), utc(2026, 7, 17, 3, 30), "America/Edmonton", "America/Edmonton"),  # Cranbrook
    ("+18074670123", utc(2026, 1, 14, 15, 0), utc(2026, 1, 15, 3, 30), "America/Winnipeg", "America/Winnipeg"),  # Kenora
    ("+18072850123", utc(2026, 1, 14, 14, 0), utc(2026, 1, 15, 2, 30), "America/Toronto", "America/Toronto"),  # Thunder Bay
    ("+14182630123", utc(2026, 1, 14, 14, 0), utc(2026, 1, 15, 2, 30), "America/Toronto", "America/Toronto"),  # Quebec City
]


@pytest.mark.parametrize("to, opens, closes, opens_last, closes_first", EDGES, ids=lambda v: str(v)[:16])
def test_the_window_holds_in_every_zone_on_both_sides_of_each_edge(
    hours_guard: Guard, clock: FakeClock, to: str, opens: datetime, closes: datetime, opens_last: str, closes_first: str
) -> None:
    before = decide_at(hours_guard, clock, to, opens - MINUTE)
    assert before.reasons == ("hours.outside_window",) and f" in {opens_last} for {to}" in before.sentence, before.sentence
    assert decide_at(hours_guard, clock, to, opens).action is Action.DISCLOSE
    assert decide_at(hours_guard, clock, to, closes - MINUTE).action is Action.DISCLOSE
    after = decide_at(hours_guard, clock, to, closes)
    assert after.reasons == ("hours.outside_window",) and f" in {closes_first} for {to}" in after.sentence, after.sentence


@pytest.mark.parametrize(
    "to, when, sentence",
    [
        (
            "+18505550123", utc(2026, 1, 14, 13, 0),
            "It is Wednesday 07:00 in America/Chicago for +18505550123; under US state FL, calls may ring 08:00-20:00 on that day.",
        ),
        (
            "+19285550123", utc(2026, 7, 16, 3, 30),
            "It is Wednesday 21:30 in America/Denver for +19285550123; under the default, calls may ring 08:00-21:00 on that day.",
        ),
        (
            "+15415550123", utc(2026, 1, 15, 4, 30),
            "It is Wednesday 21:30 in America/Boise for +15415550123; under the default, calls may ring 08:00-21:00 on that day.",
        ),
    ],
)
def test_the_three_measured_numbers_are_refused(hours_guard: Guard, clock: FakeClock, to: str, when: datetime, sentence: str) -> None:
    decision = decide_at(hours_guard, clock, to, when)
    assert decision.action is Action.REJECT and decision.sentence == sentence


def test_a_quebec_city_number_is_called_until_21_30_eastern(hours_guard: Guard, clock: FakeClock) -> None:
    # 21:00 Eastern on a Wednesday: the Magdalen Islands' 22:00 would close the window for an
    # exchange of no known place in 418, not for Quebec City's.
    when = utc(2026, 1, 15, 2, 0)
    assert decide_at(hours_guard, clock, "+14182630123", when).action is Action.DISCLOSE
    refused = decide_at(hours_guard, clock, "+14185550123", when)
    assert refused.reasons == ("hours.outside_window",) and " in America/Blanc-Sablon for " in refused.sentence, refused.sentence


def test_zone_hours_says_what_each_zone_decided(hours_guard: Guard) -> None:
    policy = hours_guard.policy
    hours = zone_hours(policy, classify_number("+18505550123"), policy.campaigns["spring"], utc(2026, 1, 14, 13, 0).timestamp())
    assert [str(h) for h in hours] == [
        "America/New_York (open 08:00-20:00, 08:00 local)",
        "America/Chicago (closed: Wed 07:00 local, window 08:00-20:00)",
    ]
    assert [h.open for h in hours] == [True, False]
