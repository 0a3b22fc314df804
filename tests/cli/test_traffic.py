"""``callguard report traffic`` and ``callguard traffic lift`` (callguard.cli.traffic)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from callguard.cli import main
from callguard.store import create_database_engine
from callguard.store.counters import open_counters
from callguard.store.overrides import OverrideStore
from callguard.traffic import TrafficMonitor

from ..conftest import BASE_POLICY, MAIN

TRAFFIC = """
[traffic]
unanswered = { min_attempts = 2, min_answer_ratio = 0.6, cooldown = "1h" }

[[traffic.velocity]]
country = "GB"
max_calls = 1
window = "1h"
block_for = "1d"
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def record_traffic(policy_path: Path, counters_path: Path) -> None:
    """Two calls from +14155550100 (one answered, 40 s), then two to GB of which the second trips the trigger."""
    from callguard import load_policy

    policy = load_policy(str(policy_path)).accounts[MAIN].traffic
    monitor = TrafficMonitor(open_counters(None, str(counters_path)))
    now = time.time()
    for n, (answered, duration) in enumerate([(True, 40.0), (False, 0.0)]):
        call = f"CA{n:032d}"
        monitor.before_dial(account_sid=MAIN, family=MAIN, e164="+14155550123", region="US", caller_id="+14155550100",
                            call_sid=call, campaign_id=None, policy=policy, now=now)
        monitor.after_call(account_sid=MAIN, caller_id="+14155550100", call_sid=call, answered=answered, duration=duration,
                           policy=policy, now=now)
    for n in (2, 3):
        monitor.before_dial(account_sid=MAIN, family=MAIN, e164="+442079460001", region="GB", caller_id="+14155550101",
                            call_sid=f"CA{n:032d}", campaign_id=None, policy=policy, now=now)
    monitor.close()
    monitor.counters.close()


def test_report_and_lift(write_policy: Callable[..., Path], tmp_path: Path, sqlite_url: str) -> None:
    policy_path = write_policy(BASE_POLICY + TRAFFIC, name="traffic.toml")
    counters = tmp_path / "counters.db"
    record_traffic(policy_path, counters)
    common = ("--policy", str(policy_path), "--counters-path", str(counters))

    code, out, _ = run("report", "traffic", *common, "--account", MAIN, "--json")
    assert code == 0
    (report,) = json.loads(out)
    callers = {c["caller_id"]: c for c in report["caller_ids"]}
    caller = callers["+14155550100"]
    assert (caller["attempts"], caller["answered"], caller["average_seconds"]) == (2, 1, 40.0)
    assert caller["throttled_until"] is not None and "1 of its last 2 calls" in caller["throttle_reason"]
    countries = {c["region"]: c for c in report["countries"]}
    assert (countries["GB"]["attempts"], countries["GB"]["refused"]) == (2, 1) and countries["GB"]["blocked_until"] is not None
    assert [b["target"] for b in report["velocity_blocks"]] == ["GB"]

    code, text, _ = run("report", "traffic", *common)
    assert code == 0 and "+14155550100" in text and "calls to GB blocked until" in text

    lift = ("--database-url", sqlite_url, "--actor", "alice")
    assert run("traffic", "lift", MAIN, "--target", "GB", *common, *lift) == (0, f"{MAIN}: velocity block on GB lifted\n", "")
    assert run("traffic", "lift", MAIN, "--caller-id", "+14155550100", *common, *lift)[0] == 0
    code, _, err = run("traffic", "lift", MAIN, "--caller-id", "+14155550100", *common, *lift)
    assert code == 1 and err == f"callguard: {MAIN}: no throttle of caller ID +14155550100 is in force\n"
    (report,) = json.loads(run("report", "traffic", *common, "--account", MAIN, "--json")[1])
    assert report["velocity_blocks"] == [] and all(c["throttled_until"] is None for c in report["caller_ids"])
    changes = OverrideStore(create_database_engine(sqlite_url)).changes(entity="traffic")
    assert [(c.actor, c.action, c.entity_id) for c in changes] == [
        ("alice", "lift", f"{MAIN}:+14155550100"),
        ("alice", "lift", f"{MAIN}:GB"),
    ]


def test_bad_input_is_one_line(write_policy: Callable[..., Path], tmp_path: Path, sqlite_url: str) -> None:
    policy_path = write_policy(BASE_POLICY + TRAFFIC, name="traffic.toml")
    counters = tmp_path / "counters.db"
    record_traffic(policy_path, counters)
    common = ("--policy", str(policy_path), "--counters-path", str(counters), "--database-url", sqlite_url)
    for args, message in [
        ((MAIN,), "give exactly one of --caller-id, --target or --campaign"),
        ((MAIN, "--target", "GB", "--caller-id", "+14155550100"), "give exactly one of --caller-id, --target or --campaign"),
        ((MAIN, "--target", "Latvia"), "--target: 'Latvia' is neither an E.164 prefix (+371) nor a country code (LV)"),
        ((MAIN, "--caller-id", "4155550100"), "--caller-id: '4155550100' is not an E.164 number"),
        (("AC" + "9" * 32, "--target", "GB"), f"ACCOUNT: AC{'9' * 32} is not an account in {policy_path}"),
    ]:
        code, out, err = run("traffic", "lift", *args, *common)
        assert code != 0 and out == "" and err == f"callguard: {message}\n"
    code, _, err = run("report", "traffic", "--policy", str(policy_path), "--counters-path", str(tmp_path / "missing.db"))
    assert code == 2 and err.startswith("callguard: --counters-path:") and err.count("\n") == 1
