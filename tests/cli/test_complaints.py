"""``callguard complaint add|list|import`` (callguard.cli.complaints): each complaint opts the callee
out, the thresholds fire in the counters the servers read (and show in ``report traffic``), and
an import writes nothing unless every line is good, naming the first bad line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from callguard.cli import main
from callguard.store import create_database_engine
from callguard.store.complaints import ComplaintStore
from callguard.store.migrate import ensure_schema
from callguard.store.optouts import OptOutStore

from ..conftest import BASE_POLICY, MAIN, TENANT

Run = Callable[..., tuple[int, str, str]]

THRESHOLDS = """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling."

[traffic.complaints]
caller_id = { max = 3, window = "30d", cooldown = "7d" }
campaign = { max = 2, window = "30d" }
"""


@pytest.fixture
def policy_path(write_policy: Callable[..., Path]) -> Path:
    return write_policy(BASE_POLICY + THRESHOLDS)


@pytest.fixture
def run(policy_path: Path, sqlite_url: str, tmp_path: Path) -> Run:
    def invoke(*args: str, database_url: str = sqlite_url) -> tuple[int, str, str]:
        options = ["--policy", str(policy_path)] + (["--database-url", database_url] if args[0] != "report" else [])
        if args[0] in ("report", "traffic") or args[:2] in (("complaint", "add"), ("complaint", "import")):
            options += ["--counters-path", str(tmp_path / "counters.db")]
        result = CliRunner().invoke(main, [*args, *options])
        return result.exit_code, result.stdout, result.stderr

    return invoke


def stores(sqlite_url: str) -> tuple[ComplaintStore, OptOutStore]:
    engine = create_database_engine(sqlite_url)
    ensure_schema(engine)
    optouts = OptOutStore(engine)
    return ComplaintStore(engine, optouts), optouts


def test_add_opts_out_and_the_third_complaint_throttles_the_caller_id(run: Run, sqlite_url: str) -> None:
    for n in (1, 2):
        code, out, _ = run(
            "complaint", "add", f"(212) 555-010{n}", "--account", TENANT, "--caller-id", "4155550100", "--source", "consumer"
        )
        assert code == 0 and out.splitlines() == [
            f"complaint {n}: +1212555010{n} about +14155550100 (consumer); opted out (account family {MAIN}, every campaign)"
        ]
    code, out, _ = run("complaint", "add", "+12125550103", "--account", TENANT, "--caller-id", "+14155550100", "--source", "regulator")
    assert code == 0 and out.splitlines()[1].startswith(
        f"Caller ID +14155550100 is throttled for account {TENANT}: 3 complaints within 30 days; until "
    )
    _, optouts = stores(sqlite_url)
    assert [(o.number, o.account_sid, o.source) for o in optouts.list()] == [
        (f"+1212555010{n}", MAIN, "complaint") for n in (1, 2, 3)
    ]
    code, out, _ = run("report", "traffic", "--account", TENANT, "--json")
    (report,) = json.loads(out)
    assert [(t["scope"], t["subject"]) for t in report["complaint_throttles"]] == [("caller_id", "+14155550100")]
    code, out, _ = run("report", "traffic", "--account", TENANT)
    assert "caller ID +14155550100 throttled for complaints until" in out
    lifted = run("traffic", "lift", TENANT, "--caller-id", "+14155550100")
    assert lifted == (0, f"{TENANT}: throttle of caller ID +14155550100 lifted\n", "")
    assert json.loads(run("report", "traffic", "--account", TENANT, "--json")[1])[0]["complaint_throttles"] == []


def test_bad_options_are_one_line(run: Run) -> None:
    code, _, err = run("complaint", "add", "+12125550101", "--account", MAIN, "--caller-id", "12", "--source", "consumer")
    assert code == 2 and err == "callguard: --caller-id: '12' is not a valid phone number (read with region US)\n"
    code, _, err = run("complaint", "add", "+12125550101", "--account", MAIN, "--caller-id", "+14155550100", "--source", "nobody")
    assert code == 2 and "--source" in err
    code, _, err = run(
        "complaint", "add", "+12125550101", "--account", MAIN, "--caller-id", "+14155550100", "--source", "other", "--received-at", "soon"
    )
    assert code == 2 and err.startswith("callguard: --received-at: ")


def test_list_filters_and_reads_back_through_import(run: Run, sqlite_url: str, tmp_path: Path) -> None:
    run("complaint", "add", "+12125550101", "--account", MAIN, "--caller-id", "+14155550100", "--source", "carrier", "--note", "=1+1")
    run("complaint", "add", "+12125550102", "--account", MAIN, "--caller-id", "+14155550101", "--source", "other", "--campaign", "spring")
    code, out, _ = run("complaint", "list", "--account", MAIN, "--caller-id", "+14155550100")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [(r["number"], r["source"], r["note"]) for r in rows] == [("+12125550101", "carrier", "'=1+1")]
    code, out, _ = run("complaint", "list", "--campaign", "spring")
    assert [r["number"] for r in csv.DictReader(io.StringIO(out))] == ["+12125550102"]
    exported = tmp_path / "complaints.csv"
    exported.write_text(run("complaint", "list")[1], encoding="utf-8")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    code, out, err = run("complaint", "import", str(exported), "--account", MAIN, database_url=other)
    assert code == 0 and out.splitlines()[0] == f"{exported}: 2 complaints added, 0 lines skipped", err
    copied, _ = stores(other)
    assert sorted((c.number, c.caller_id, c.campaign, c.source) for c in copied.list()) == [
        ("+12125550101", "+14155550100", None, "carrier"), ("+12125550102", "+14155550101", "spring", "other"),
    ]


def test_import_is_all_or_nothing_naming_the_bad_line(run: Run, sqlite_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("number,caller_id,source\n+12125550101,+14155550100,consumer\n+12125550102,+1415,consumer\n", encoding="utf-8")
    code, _, err = run("complaint", "import", str(bad), "--account", MAIN)
    assert code == 2 and err == f"callguard: {bad}:3: caller_id: '+1415' is not a valid phone number (read with region US)\n"
    store, optouts = stores(sqlite_url)
    assert store.list() == [] and optouts.list() == []  # nothing from the failed import
    code, out, err = run("complaint", "import", str(bad), "--account", MAIN, "--skip-bad-lines")
    assert code == 0 and out.splitlines()[0] == f"{bad}: 1 complaints added, 1 lines skipped" and f"{bad}:3:" in err

    lines = tmp_path / "complaints.jsonl"
    lines.write_text(
        '{"number": "+12125550201", "caller_id": "+14155550101", "campaign": "spring", "received_at": "2026-06-01T10:00:00Z"}\n'
        '{"number": "+12125550202", "caller_id": "+14155550101", "campaign": "autumn"}\n',
        encoding="utf-8",
    )
    code, _, err = run("complaint", "import", str(lines), "--account", MAIN, "--source", "carrier")
    assert code == 2 and err == f"callguard: {lines}:2: campaign: 'autumn' is not a campaign in {tmp_path / 'policy.toml'}\n"
    code, _, err = run("complaint", "import", str(lines), "--account", MAIN)  # no source on the lines, none given
    assert code == 2 and err == f"callguard: {lines}:1: source: None is not one of consumer, carrier, regulator, other\n"


def test_an_import_reaching_a_threshold_fires_it_once(run: Run, tmp_path: Path) -> None:
    lines = tmp_path / "complaints.jsonl"
    lines.write_text(
        "".join(json.dumps({"number": f"+1212555030{n}", "caller_id": f"+1646555030{n}", "campaign": "spring"}) + "\n" for n in (1, 2, 3)),
        encoding="utf-8",
    )
    code, out, _ = run("complaint", "import", str(lines), "--account", MAIN, "--source", "carrier")
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines()[1:]] == [f"Campaign spring is paused for account family {MAIN}"]
    code, out, _ = run("traffic", "lift", TENANT, "--campaign", "spring")  # a subaccount's: the family's pause
    assert (code, out) == (0, f"{TENANT}: pause of campaign spring for complaints lifted\n")
    code, _, err = run("traffic", "lift", MAIN, "--campaign", "spring")
    assert code == 1 and err == f"callguard: {MAIN}: no pause of campaign spring for complaints is in force\n"
