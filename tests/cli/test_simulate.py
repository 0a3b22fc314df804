"""``callguard simulate`` against a real callguard server on loopback (callguard.cli.simulated_call, callguard.cli.simulate)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from defusedxml import ElementTree

from ..conftest import BASE_POLICY, MAIN, MAIN_TOKEN, TENANT, TENANT_TOKEN, free_port
from ..servers import Server, start_server

pytestmark = pytest.mark.server

# Open around the clock, so that what the test sees does not depend on when it runs.
CAMPAIGN_POLICY = BASE_POLICY + """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "Hello, this is Acme Solar calling about our spring offer."
opt_out_digit = "9"

[calling_hours]
default = { all = "00:00-24:00" }
[calling_hours.us_states.CA]
all = "00:00-24:00"
"""


def simulate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command line, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "callguard.cli", "simulate", *args],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "TWILIO_AUTH_TOKEN": MAIN_TOKEN, "TWILIO_AUTH_TOKEN_TENANT": TENANT_TOKEN, **(env or {})},
    )


def answer_of(result: subprocess.CompletedProcess[str]) -> tuple[str, ElementTree.Element]:
    """The decision header and the parsed TwiML of simulate's text output."""
    lines = result.stdout.splitlines()
    assert lines[1] == "HTTP 200", result.stdout
    assert lines[2].startswith("X-Callguard-Decision: ")
    return lines[2].removeprefix("X-Callguard-Decision: "), ElementTree.fromstring("\n".join(lines[3:]).encode())


@pytest.fixture
def policy_file(write_policy: Callable[..., Path]) -> str:
    return str(write_policy(CAMPAIGN_POLICY))


@pytest.fixture
def server(policy_file: str, tmp_path: Path, servers: list[Server]) -> Server:
    started = start_server(Path(policy_file), tmp_path / "server", workers=2)
    servers.append(started)
    return started


def test_a_call_connects_signed_with_the_accounts_token(server: Server, policy_file: str) -> None:
    url = f"http://127.0.0.1:{server.port}"
    result = simulate("--policy", policy_file, "--url", url, "--to", "+14155552671")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"POST {url}/voice/outbound"
    decision, document = answer_of(result)
    assert decision == "connect; reasons=ok"
    dial = document.find("Dial")
    assert dial is not None and dial.get("callerId") == "+14155550100"  # the first account's default caller ID
    assert [number.text for number in dial.findall("Number")] == ["+14155552671"]


def test_a_subaccount_is_signed_with_its_own_token(server: Server, policy_file: str) -> None:
    url = f"http://127.0.0.1:{server.port}"
    ok = simulate("--policy", policy_file, "--url", url, "--account", TENANT, "--to", "+442079460123")
    assert ok.returncode == 0, ok.stderr
    assert answer_of(ok)[0] == "connect; reasons=ok"
    # TWILIO_AUTH_TOKEN_TENANT is what the policy names for the tenant: with the main token instead, 403.
    forged = simulate(
        "--policy", policy_file, "--url", url, "--account", TENANT, "--to", "+442079460123", env={"TWILIO_AUTH_TOKEN_TENANT": MAIN_TOKEN}
    )
    assert forged.returncode == 1
    assert forged.stdout.splitlines()[1] == "HTTP 403"


def test_the_opt_out_flow_and_the_next_call_refused(server: Server, policy_file: str) -> None:
    common = ("--policy", policy_file, "--url", f"http://127.0.0.1:{server.port}", "--to", "+14155552671", "--campaign", "spring")
    decision, document = answer_of(simulate(*common))
    assert decision == "disclose; reasons=disclosure.required"
    number = document.find("Dial/Number")
    assert number is not None and "/voice/disclosure?campaign=spring" in (number.get("url") or "")

    decision, document = answer_of(simulate(*common, "--path", "/voice/disclosure"))
    assert decision == "disclose; reasons=disclosure.played"
    gather = document.find("Gather")
    assert gather is not None and "/voice/optout?campaign=spring" in (gather.get("action") or "")

    decision, document = answer_of(simulate(*common, "--path", "/voice/optout", "--digits", "9"))
    assert decision == "reject; reasons=optout.recorded"
    assert [element.tag for element in document] == ["Say", "Hangup"]

    decision, document = answer_of(simulate(*common))
    assert decision == "reject; reasons=dnc.optout"
    assert [element.tag for element in document] == ["Reject"]


def test_a_sip_domain_call_is_sent_as_the_pbx_sends_it(server: Server, policy_file: str) -> None:
    result = simulate(
        "--policy", policy_file, "--url", f"http://127.0.0.1:{server.port}", "--sip-domain", "pbx.sip.twilio.com",
        "--to", "9011442079460123", "--from", "sip:201@pbx.sip.twilio.com", "--json",
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["params"]["To"] == "sip:9011442079460123@pbx.sip.twilio.com"
    assert answer["params"]["SipDomain"] == "pbx.sip.twilio.com"
    assert answer["status"] == 200 and answer["action"] == "connect" and answer["reasons"] == ["ok"]
    dial = ElementTree.fromstring(answer["twiml"].encode()).find("Dial")
    assert dial is not None and dial.get("callerId") == "+14155550101"  # the SIP Domain's default, as From is an extension
    assert [number.text for number in dial.findall("Number")] == ["+442079460123"]


def test_a_wrong_token_is_refused_with_403_and_exit_status_1(server: Server, policy_file: str) -> None:
    url = f"http://127.0.0.1:{server.port}"
    result = simulate("--policy", policy_file, "--url", url, "--to", "+14155552671", env={"TWILIO_AUTH_TOKEN": "not-the-token"})
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:3] == ["HTTP 403", "Forbidden"]
    assert "signature" in result.stderr and "TWILIO_AUTH_TOKEN" in result.stderr


def test_no_server_is_one_line_and_exit_status_1(write_policy: Callable[..., Path]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = simulate("--policy", str(write_policy(BASE_POLICY)), "--url", url, "--to", "+14155552671")
    assert result.returncode == 1
    assert result.stderr == f"callguard: --url: no answer from {url}: ConnectionError\n"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("--account", "AC0000000000000000000000000000beef"), {},
         "callguard: --account: AC0000000000000000000000000000beef is not an account in {policy}\n"),
        (("--account", "AC00000000000000000000000000000003", "--from", "+14155550100"), {"TWILIO_AUTH_TOKEN_TENANT": ""},
         "callguard: TWILIO_AUTH_TOKEN_TENANT: not set (the auth token of account AC00000000000000000000000000000003, "
         "which signs the request)\n"),
        (("--path", "voice/outbound"), {}, "callguard: --path: 'voice/outbound' must start with /\n"),
        (("--url", "127.0.0.1:8000"), {}, "callguard: --url: '127.0.0.1:8000' is not an http(s) URL\n"),
    ],
)
def test_bad_usage_is_one_line_and_exit_status_2(
    write_policy: Callable[..., Path], args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    policy = write_policy(BASE_POLICY)
    result = simulate("--policy", str(policy), "--to", "+14155552671", *args, env=env)
    assert result.returncode == 2
    assert result.stderr == message.format(policy=policy)


def test_an_account_without_a_caller_id_needs_from(write_policy: Callable[..., Path]) -> None:
    policy = write_policy(f"[accounts.{MAIN}]\nname = \"Main\"\n")
    result = simulate("--policy", str(policy), "--to", "+14155552671")
    assert result.returncode == 2
    assert result.stderr == f"callguard: --from: no caller given, and account {MAIN} has no default caller ID in the policy\n"


def test_without_a_policy_the_account_and_caller_are_given(server: Server) -> None:
    result = simulate("--url", f"http://127.0.0.1:{server.port}", "--account", MAIN, "--from", "+14155550101", "--to", "+14155552671")
    assert result.returncode == 0, result.stderr
    assert answer_of(result)[1].find("Dial").get("callerId") == "+14155550101"  # type: ignore[union-attr]
