"""The counter keys (callguard.traffic.keys): the formats stored counters were written under.

Throttles, blocks and windows live in Redis or the counters file across deployments: a key
whose format changed would silently forget them on upgrade. Each format here is the one
written since traffic protection first shipped.
"""

from __future__ import annotations

from callguard.traffic import keys

ACCOUNT = "AC" + "a" * 32


def test_the_key_formats_stay_as_stored() -> None:
    assert [
        keys.cps(ACCOUNT),
        keys.velocity_window(ACCOUNT, "+371", 600.0),
        keys.velocity_block(ACCOUNT, "LV"),
        keys.callee(ACCOUNT, None, "+14155550123"),
        keys.callee(ACCOUNT, "solar", "+14155550123"),
        keys.throttle(ACCOUNT, "+14155550100"),
        keys.concurrent(ACCOUNT),
        keys.outcomes(ACCOUNT, "+14155550100"),
        keys.answered_outcomes(ACCOUNT, "+14155550100"),
        keys.caller_ids(ACCOUNT),
        keys.caller_id_tally(ACCOUNT, "+14155550100", "seconds"),
        keys.countries(ACCOUNT),
        keys.country_calls(ACCOUNT, "US"),
        keys.country_refused(ACCOUNT, "US"),
        keys.regions(ACCOUNT),
        keys.region_calls(ACCOUNT, "ie1"),
        keys.region_alerted(ACCOUNT),
    ] == [
        f"cps:{ACCOUNT}",
        f"vel:{ACCOUNT}:+371:600",
        f"velblock:{ACCOUNT}:LV",
        f"callee:{ACCOUNT}:*:+14155550123",
        f"callee:{ACCOUNT}:solar:+14155550123",
        f"thr:{ACCOUNT}:+14155550100",
        f"conc:{ACCOUNT}",
        f"out:{ACCOUNT}:+14155550100",
        f"ans:{ACCOUNT}:+14155550100",
        f"callers:{ACCOUNT}",
        f"cid:{ACCOUNT}:+14155550100:seconds",
        f"countries:{ACCOUNT}",
        f"country:{ACCOUNT}:US",
        f"refused:{ACCOUNT}:US",
        f"regions:{ACCOUNT}",
        f"region:{ACCOUNT}:ie1",
        f"regionalert:{ACCOUNT}",
    ]


def test_buckets_are_whole_days_and_hours_since_the_epoch() -> None:
    assert keys.day_bucket(86_400 * 3 - 0.001) == 2 and keys.day_bucket(86_400 * 3) == 3
    assert keys.hour_bucket(3_600 * 5 + 1) == 5
