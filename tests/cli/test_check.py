"""``callguard check`` (callguard.cli.check)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from callguard.store import SqlAuditLog, create_database_engine

from ..conftest import MAIN
from .invoke import run


def test_check_connect(policy_path: Path, sqlite_url: str) -> None:
    code, out, _ = run(
        "check", "--policy", str(policy_path), "--account", MAIN, "--from", "+14155550100", "--to", "011 44 20 7946 0000",
        "--database-url", sqlite_url,
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "connect  ok"
    assert "to: +442079460000  region GB  type fixed_line  risk low_risk" in out
    assert "checks run: emergency, account, destination, prefix, geo, callerid" in out
    rows = SqlAuditLog(create_database_engine(sqlite_url)).recent(5)
    assert [(r.source, r.e164) for r in rows] == [("cli", "+442079460000")]

def test_check_names_every_risk_category_of_the_number(policy_path: Path) -> None:
    code, out, _ = run("check", "-p", str(policy_path), "--account", MAIN, "--from", "+14155550100", "--to", "+538071234567", "--no-audit")
    assert code == 1
    assert "to: +538071234567  region CU  type shared_cost  risk high_risk_special and high_risk_tollfraud" in out

def test_check_reject_explains_every_refusal(policy_path: Path) -> None:
    code, out, _ = run(
        "check", "-p", str(policy_path), "--account", MAIN, "--from", "+14155550177", "--to", "+18765550100", "--no-audit"
    )
    assert code == 1
    assert out.splitlines()[0] == "reject  geo.high_risk_tollfraud, callerid.not_owned"
    assert "also: The caller ID +14155550177 (From) is not declared" in out

def test_check_a_telemarketing_call_reads_the_registries(write_policy: Callable[..., Path], sqlite_url: str, tmp_path: Path) -> None:
    import numpy as np

    from callguard.registry import RegistryKind
    from callguard.registry.builder import build

    from ..conftest import BASE_POLICY

    # Open all day, so the answer does not depend on when the test runs.
    path = write_policy(
        BASE_POLICY + '[campaigns.spring]\npurpose = "telemarketing"\norganization = "Acme"\ndisclosure = "Acme calling."\n'
        '[calling_hours]\ndefault = { all = "00:00-24:00" }\n[calling_hours.us_states.NY]\nall = "00:00-24:00"\n'
    )
    registries = tmp_path / "registries"
    build(str(registries / "us_ftc.cgreg"), name="us_ftc", kind=RegistryKind.NANP, keys=np.array([2125550100]), regions={"US"}, as_of=0.0)
    common = ("check", "-p", str(path), "--account", MAIN, "--campaign", "spring", "--no-audit", "--database-url", sqlite_url)
    code, out, _ = run(*common, "--to", "+12125550100", "--registry-dir", str(registries))
    assert code == 1 and out.splitlines()[0] == "reject  dnc.national.us_ftc"
    code, out, _ = run(*common, "--to", "+12125550100", env={"CALLGUARD_REGISTRY_DIR": str(registries)})
    assert code == 1 and out.splitlines()[0] == "reject  dnc.national.us_ftc"
    assert run(*common, "--to", "+12125550123", "--registry-dir", str(registries))[1].splitlines()[0] == "disclose  disclosure.required"

def test_check_json(policy_path: Path) -> None:
    code, out, _ = run("check", "-p", str(policy_path), "--account", MAIN, "--to", "911", "--json", "--no-audit")
    assert code == 0
    decision = json.loads(out)
    assert decision["action"] == "connect" and decision["reasons"] == ["emergency"] and decision["dial"] == "911"

def test_check_policy_from_the_environment(policy_path: Path) -> None:
    code, _, _ = run("check", "--account", MAIN, "--to", "+14155550123", "--no-audit", env={"CALLGUARD_POLICY": str(policy_path)})
    assert code == 0

def test_check_with_a_bad_policy_is_one_line(write_policy: Callable[..., Path]) -> None:
    path = write_policy("[defaults]\nfail_mode = 1\n")
    code, _, err = run("check", "-p", str(path), "--account", MAIN, "--to", "+14155550123", "--no-audit")
    assert code == 2
    assert err == f"callguard: {path}: defaults.fail_mode: expected one of 'reject', 'connect', got 1\n"

def test_check_without_a_policy(monkeypatch: object) -> None:
    code, _, err = run("check", "--account", MAIN, "--to", "+1", "--no-audit", env={"CALLGUARD_POLICY": ""})
    assert code == 2 and "no policy file" in err

def test_check_with_a_bad_account_is_bad_usage(policy_path: Path) -> None:
    code, out, err = run("check", "-p", str(policy_path), "--account", "foo", "--to", "+14155550123", "--no-audit")
    assert (code, out) == (2, "")
    assert err == "callguard: --account: 'foo' is not an Account SID (AC followed by 32 hex digits)\n"
    unknown = "AC" + "9" * 32
    code, out, err = run("check", "-p", str(policy_path), "--account", unknown, "--to", "+14155550123", "--no-audit")
    assert (code, out) == (2, "")
    assert err == f"callguard: --account: {unknown} is not an account in {policy_path}\n"

def test_check_shows_every_environment_variable_it_reads() -> None:
    from callguard.cli.check import check

    code, out, _ = run("check", "--help")
    text = " ".join(out.split())
    envvars = [param.envvar for param in check.params if getattr(param, "envvar", None)]
    assert code == 0 and {"CALLGUARD_COUNTERS_PATH", "CALLGUARD_REDIS_URL", "CALLGUARD_DATABASE_URL"} <= set(envvars)
    for envvar in envvars:
        assert f"env var: {envvar}" in text

@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def server_counters(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, tuple[str, ...], dict[str, str]]]:
    """The counters a server counts in, and how `callguard check` is pointed at them (an option, or the environment)."""
    from callguard.store.counters import open_counters

    if request.param == "sqlite":
        path = str(tmp_path / "counters.db")
        counters = open_counters(None, path)
        yield counters, ("--counters-path", path), {}
    else:
        url, prefix = request.getfixturevalue("redis_server"), request.getfixturevalue("redis_prefix")
        counters = open_counters(url, "", prefix=prefix)
        yield counters, (), {"CALLGUARD_REDIS_URL": url, "CALLGUARD_REDIS_PREFIX": prefix}
    counters.close()

def test_check_reads_the_traffic_counters_without_counting(
    write_policy: Callable[..., Path], sqlite_url: str, server_counters: tuple[Any, tuple[str, ...], dict[str, str]]
) -> None:
    from callguard import DialRequest, Guard, load_policy
    from callguard.lookups import Lookups
    from callguard.traffic import TrafficMonitor

    from ..conftest import BASE_POLICY

    counters, options, env = server_counters
    path = write_policy(BASE_POLICY + "\n[traffic]\nconcurrent = 2\n", name="traffic.toml")
    # The server's real admissions, by the system clock as `callguard check` decides by it.
    monitor = TrafficMonitor(counters)
    server = Guard(load_policy(path), lookups=Lookups(traffic=monitor))

    def place(n: int) -> tuple[str, ...]:
        return server.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid=f"CA{n:032d}", source="webhook")).reasons

    def check() -> tuple[int, list[str]]:
        code, out, err = run(
            "check", "-p", str(path), "--account", MAIN, "--from", "+14155550100", "--to", "+14155550123", "--no-audit",
            "--database-url", sqlite_url, *options, env=env,
        )
        assert err == ""
        return code, out.splitlines()

    assert place(1) == ("ok",)
    for _ in range(3):
        code, lines = check()
        assert (code, lines[0]) == (0, "connect  ok")
        assert "  checks run: emergency, account, destination, prefix, geo, callerid, traffic" in lines
    assert place(2) == ("ok",)  # the checks took no slot
    code, lines = check()
    assert (code, lines[0]) == (1, "reject  traffic.concurrent")
    assert lines[1] == f"  Account {MAIN} already has 2 calls up, its limit."
    assert place(3) == ("traffic.concurrent",)
    policy = server.policy.accounts[MAIN].traffic
    monitor.after_call(
        account_sid=MAIN, caller_id=None, call_sid=f"CA{1:032d}", answered=True, duration=30, policy=policy, now=server.clock()
    )
    assert place(4) == ("ok",) and place(5) == ("traffic.concurrent",)  # exactly the two real calls held slots
    monitor.close()

def test_check_where_no_server_has_counted_creates_no_counters_file(
    write_policy: Callable[..., Path], sqlite_url: str, tmp_path: Path
) -> None:
    from ..conftest import BASE_POLICY

    path = write_policy(BASE_POLICY + "\n[traffic]\nconcurrent = 1\n")
    missing = tmp_path / "no-server-here" / "counters.db"
    code, out, _ = run(
        "check", "-p", str(path), "--account", MAIN, "--to", "+14155550123", "--no-audit", "--database-url", sqlite_url,
        "--counters-path", str(missing),
    )
    assert code == 0 and out.splitlines()[0] == "connect  ok"
    assert f"  traffic: nothing counted yet (no counters file at {missing})" in out.splitlines()
    assert not missing.parent.exists()

def test_check_lists_every_zone_the_calling_hours_held_in(write_policy: Callable[..., Path], sqlite_url: str) -> None:
    from ..conftest import BASE_POLICY

    # All day open, then all day closed, so the answer does not depend on when the test runs.
    campaign = '[campaigns.spring]\npurpose = "telemarketing"\norganization = "Acme"\ndisclosure = "Acme calling."\n'
    common = ("check", "--account", MAIN, "--campaign", "spring", "--to", "+18505550123", "--no-audit", "--database-url", sqlite_url)
    open_path = write_policy(BASE_POLICY + campaign + '[calling_hours.us_states.FL]\nall = "00:00-24:00"\n', name="open.toml")
    code, out, _ = run(*common, "-p", str(open_path))
    assert code == 0 and out.splitlines()[0] == "disclose  disclosure.required"
    line = next(line for line in out.splitlines() if line.startswith("  calling hours in every zone: "))
    assert re.fullmatch(
        r"  calling hours in every zone: America/New_York \(open 00:00-24:00, \d\d:\d\d local\), "
        r"America/Chicago \(open 00:00-24:00, \d\d:\d\d local\)",
        line,
    )
    assert "closed by" not in out
    closed_path = write_policy(BASE_POLICY + campaign + '[calling_hours.us_states.FL]\nall = "closed"\n', name="closed.toml")
    code, out, _ = run(*common, "-p", str(closed_path))
    assert code == 1 and out.splitlines()[0] == "reject  hours.outside_window"
    assert re.search(r"America/Chicago \(closed: \w\w\w \d\d:\d\d local, window closed\)", out)
    assert "  calling hours closed by America/New_York" in out.splitlines()
    assert "  time zones America/New_York, America/Chicago" in out  # phonenumbers gives New York only
    code, out, _ = run(*common, "-p", str(closed_path), "--json")
    hours = json.loads(out)["calling_hours"]
    assert code == 1 and [(h["zone"], h["window"], h["open"]) for h in hours] == [
        ("America/New_York", "closed", False), ("America/Chicago", "closed", False),
    ]
    assert re.fullmatch(r"2\d{3}-\d\d-\d\dT\d\d:\d\d-0[56]:00", hours[1]["local"])
    # A call no calling hours apply to says nothing of them.
    assert "calling hours" not in run("check", "-p", str(closed_path), "--account", MAIN, "--to", "+18505550123", "--no-audit")[1]
