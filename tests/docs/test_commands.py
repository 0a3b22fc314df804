"""Every command block of the README and docs/, run as the page shows it (see shell.py for the
substitutions), grouped so that one server serves every command that tries it.

The docs describe what callguard does; where it does something else, a step here fails.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ..conftest import MAIN
from ..sync.twilio_double import Country, FakeAccount, TwilioDouble
from ..twilio_api import make_twilio_api
from .catalog import SCENARIOS, RunByCi
from .markdown import ROOT
from .shell import Workspace
from .tls_proxy import TwilioApiHost, make_certificates

# The token the docs' commands use, as the stand-ins for Twilio know it.
DOCS_TOKEN = "your_auth_token"


@pytest.mark.server
def test_the_quick_start_and_the_commands_that_try_its_server(workspace: Workspace) -> None:
    workspace.play(SCENARIOS["quick_start"])


@pytest.mark.server
def test_the_admin_api(workspace: Workspace) -> None:
    workspace.play(SCENARIOS["admin_api"])
    with open(workspace.directory / "decisions.csv", encoding="utf-8", newline="") as exported:
        reader = csv.DictReader(exported)
        rows = list(reader)
    assert reader.fieldnames is not None and {"decided_at", "account_sid", "action", "reasons", "sentence"} <= set(reader.fieldnames)
    # The checks' decisions reach the database within the audit writer's flush interval (0.2 s),
    # which the export may or may not follow by then; whatever it holds is what was asked for.
    assert {row["action"] for row in rows} <= {"connect"}


@pytest.mark.server
@pytest.mark.postgres
@pytest.mark.redis
def test_many_hosts_on_postgresql_and_redis(workspace: Workspace, postgres_url: str, redis_prefix: str, redis_server: str) -> None:
    workspace.database_url = postgres_url
    workspace.redis_url = redis_server
    workspace.env_extra["CALLGUARD_REDIS_PREFIX"] = redis_prefix
    workspace.play(SCENARIOS["many_hosts"])


def test_a_sync_from_twilio(workspace: Workspace) -> None:
    twilio = TwilioDouble()
    country = Country("US", "United States/Canada", ["+1"], "NORTH_AMERICA", True)
    twilio.add(FakeAccount(MAIN, DOCS_TOKEN, "Main", incoming=["+14155550100"], countries=[country]))
    twilio.up()
    try:
        workspace.env_extra["CALLGUARD_TWILIO_BASE_URL"] = twilio.url
        workspace.play(SCENARIOS["twilio_sync"])
    finally:
        twilio.down()
    assert twilio.requests("IncomingPhoneNumbers") and twilio.requests("DialingPermissions")


@pytest.mark.server
@pytest.mark.parametrize("example", ["sip_trunk", "voice_app", "protected_app", "proxy", "django"])
def test_an_example_served_and_tried(workspace: Workspace, example: str) -> None:
    workspace.play(SCENARIOS[example])


def test_the_rest_dialer_places_through_twilios_api(workspace: Workspace, tmp_path: Path) -> None:
    api = make_twilio_api(MAIN, DOCS_TOKEN)
    (tmp_path / "tls").mkdir()
    host = TwilioApiHost(api.app, make_certificates(tmp_path / "tls"))
    try:
        workspace.env_extra.update({"HTTPS_PROXY": host.url, "REQUESTS_CA_BUNDLE": str(tmp_path / "tls" / "ca.pem")})
        workspace.play(SCENARIOS["rest_dialer"])
    finally:
        host.close()
    assert host.refused == []
    assert [call["To"] for call in api.created] == ["+14155550123"]


def test_ci_runs_the_test_command_the_readme_shows() -> None:
    (step,) = SCENARIOS["test_suite"]
    assert isinstance(step, RunByCi)
    command = step.block().text.strip()
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
