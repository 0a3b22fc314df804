"""The disclosure, opt-out and answer webhooks (callguard.web.compliance)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from callguard import FakeClock
from callguard.store.optouts import OptOutStore

from ..conftest import BASE_POLICY, MAIN, MAIN_TOKEN, PUBLIC_URL, TENANT, TENANT_TOKEN, TwilioClient, dial_params, parse_twiml

CAMPAIGNS = """
[defaults]
answer_urls = ["https://app.example.com/voice/"]
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."
voice = "Polly.Joanna"
answer_urls = ["https://crm.example.com/calls"]
[campaigns.audio]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure_url = "https://cdn.example.com/disclosure.mp3"
language = "de-DE"
opt_out_digit = "#"
opt_out_scope = "campaign"
[campaigns.verano]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "Le llama Acme Solar por nuestra oferta de verano."
language = "es-US"
[campaigns.reminders]
purpose = "informational"
"""
# BASE_POLICY's [defaults] table is replaced: the tests need answer_urls in it.
POLICY = BASE_POLICY.replace('[defaults]\nfail_mode = "reject"\nreject_style = "reject"\ndefault_region = "US"\n', "") + CAMPAIGNS


@pytest.fixture
def tm_app(make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], clock: FakeClock) -> Any:
    clock.set(datetime(2026, 6, 1, 17, 0, tzinfo=UTC))  # Monday, 13:00 in New York
    return make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(POLICY, name="tm.toml"))})


@pytest.fixture
def tw(tm_app: Any) -> TwilioClient:
    return TwilioClient(tm_app.test_client())


def callee_leg(to: str, **extra: str) -> dict[str, str]:
    """What Twilio sends for the callee's leg of a <Dial> (whisper and its Gather action)."""
    return dial_params(to, from_="+14155550100", Direction="outbound-dial", ParentCallSid="CA" + "p" * 32, **extra)


def test_a_telemarketing_dial_carries_the_disclosure_whisper(tw: TwilioClient) -> None:
    response = tw.post("/voice/outbound?campaign=spring", dial_params("+12125550123"))
    assert response.headers["X-Callguard-Decision"] == "disclose; reasons=disclosure.required"
    number = parse_twiml(response.data).find("Dial/Number")
    assert number is not None and number.text == "+12125550123"
    assert number.get("url") == f"{PUBLIC_URL}/voice/disclosure?campaign=spring" and number.get("method") == "POST"


def test_the_account_default_campaign_applies(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], clock: FakeClock
) -> None:
    clock.set(datetime(2026, 6, 1, 17, 0, tzinfo=UTC))
    text = POLICY.replace('outside_line_prefix = "9"\n', 'outside_line_prefix = "9"\ncampaign = "spring"\n', 1)
    tw = TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(text, name="default.toml"))}).test_client())
    assert tw.post("/voice/outbound", dial_params("+12125550123")).headers["X-Callguard-Decision"].startswith("disclose")
    assert tw.post("/voice/outbound?campaign=reminders", dial_params("+12125550123")).headers["X-Callguard-Decision"].startswith("connect")


def test_the_disclosure_whisper(tw: TwilioClient) -> None:
    response = tw.post("/voice/disclosure?campaign=spring", callee_leg("+12125550123"))
    root = parse_twiml(response.data)
    (gather,) = list(root)
    assert gather.tag == "Gather" and gather.get("numDigits") == "1" and gather.get("input") == "dtmf speech"
    assert gather.get("action") == f"{PUBLIC_URL}/voice/optout?campaign=spring"
    assert "stop" in gather.get("hints") and "unsubscribe" in gather.get("hints")
    says = [s.text for s in gather.findall("Say")]
    assert says == ["This is Acme Solar calling about our spring offer.", 'To stop receiving these calls, press 9 or say "stop" now.']
    assert all(s.get("voice") == "Polly.Joanna" for s in gather.findall("Say"))


def test_audio_disclosure_in_another_language_takes_keys_only(tw: TwilioClient) -> None:
    gather = parse_twiml(tw.post("/voice/disclosure?campaign=audio", callee_leg("+12125550123")).data).find("Gather")
    assert gather is not None and gather.get("input") is None
    assert gather.find("Play").text == "https://cdn.example.com/disclosure.mp3"
    assert gather.find("Say").text == "To stop receiving these calls, press pound now."


def test_a_spanish_prompt_speaks_and_hears_spanish(tw: TwilioClient) -> None:
    gather = parse_twiml(tw.post("/voice/disclosure?campaign=verano", callee_leg("+12125550123")).data).find("Gather")
    assert gather is not None and gather.get("input") == "dtmf speech" and gather.get("language") == "es-US"
    hints = gather.get("hints").split(", ")
    assert {"alto", "basta", "cancelar", "no me llame", "stop"} <= set(hints)
    assert [s.text for s in gather.findall("Say")][-1] == 'Para dejar de recibir estas llamadas, marque 9 o diga "alto" ahora.'


@pytest.mark.parametrize(
    "speech", ["Alto.", "¡Basta ya!", "Por favor, no me llame más", "CANCELAR", "quítenme de su lista", "stop", "No más llamadas"]
)
def test_a_spanish_revocation_is_recorded(tw: TwilioClient, tm_app: Any, speech: str) -> None:
    response = tw.post("/voice/optout?campaign=verano", callee_leg("+12125550123", SpeechResult=speech))
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=optout.recorded", speech
    (say, _) = list(parse_twiml(response.data))
    assert say.text == "Su número ha sido eliminado. No recibirá más llamadas de Acme Solar. Adiós."
    (record,) = OptOutStore(tm_app.extensions["callguard"].engine).list()
    assert record.number == "+12125550123"


@pytest.mark.parametrize("speech", ["altavoz", "sí, me interesa", "dígame el precio"])
def test_other_spanish_answers_let_the_call_through(tw: TwilioClient, tm_app: Any, speech: str) -> None:
    response = tw.post("/voice/optout?campaign=verano", callee_leg("+12125550123", SpeechResult=speech))
    assert list(parse_twiml(response.data)) == []
    assert OptOutStore(tm_app.extensions["callguard"].engine).list() == []


@pytest.mark.parametrize("query", ["campaign=nope", "campaign=spring&next=https://evil.example.com/x"])
def test_a_whisper_that_cannot_be_played_hangs_up_rather_than_bridging(tw: TwilioClient, query: str) -> None:
    response = tw.post(f"/voice/disclosure?{query}", callee_leg("+12125550123"))
    assert [e.tag for e in parse_twiml(response.data)] == ["Hangup"]
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=disclosure.unavailable"


@pytest.mark.parametrize(
    "params", [{"Digits": "9"}, {"SpeechResult": "Stop calling me."}, {"SpeechResult": "please OPT OUT"}, {"SpeechResult": "unsubscribe"}]
)
def test_opting_out_is_recorded_before_it_is_confirmed(tw: TwilioClient, tm_app: Any, params: dict[str, str]) -> None:
    response = tw.post("/voice/optout?campaign=spring", callee_leg("+12125550123", CallSid="CA-optout", **params))
    say, hangup = list(parse_twiml(response.data))
    assert say.tag == "Say" and "will not receive further calls from Acme Solar" in say.text and hangup.tag == "Hangup"
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=optout.recorded"
    (record,) = OptOutStore(tm_app.extensions["callguard"].engine).list()
    assert (record.number, record.account_sid, record.campaign, record.source, record.call_sid) == (
        "+12125550123", MAIN, "*", "prompt", "CA-optout"
    )


@pytest.mark.parametrize("params", [{"Digits": "1"}, {}, {"SpeechResult": "tell me more"}, {"SpeechResult": "stopwatch"}])
def test_any_other_answer_lets_the_call_through(tw: TwilioClient, tm_app: Any, params: dict[str, str]) -> None:
    response = tw.post("/voice/optout?campaign=spring", callee_leg("+12125550123", **params))
    assert list(parse_twiml(response.data)) == []  # the whisper ends: the call is bridged
    assert OptOutStore(tm_app.extensions["callguard"].engine).list() == []


def test_a_subaccount_opt_out_is_kept_for_the_family_and_scoped_campaigns(tw: TwilioClient, tm_app: Any) -> None:
    tw.post("/voice/optout?campaign=audio", {**callee_leg("+12125550123", Digits="#"), "AccountSid": TENANT}, token=TENANT_TOKEN)
    (record,) = OptOutStore(tm_app.extensions["callguard"].engine).list()
    assert record.account_sid == MAIN and record.campaign == "audio"


def test_if_the_opt_out_cannot_be_stored_it_is_not_confirmed(tw: TwilioClient, tm_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from callguard.errors import StoreUnavailable

    def down(*args: Any, **kwargs: Any) -> bool:
        raise StoreUnavailable("disk I/O error", backend="sqlite", operation="opt-out insert")

    monkeypatch.setattr(tm_app.extensions["callguard"].optouts, "add", down)
    response = tw.post("/voice/optout?campaign=spring", callee_leg("+12125550123", Digits="9"))
    say, hangup = list(parse_twiml(response.data))
    assert "could not be recorded" in say.text and "will not receive further calls" not in say.text
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=optout.failed"


def test_an_opt_out_from_a_callee_that_is_not_a_number_is_not_confirmed(tw: TwilioClient, tm_app: Any) -> None:
    response = tw.post("/voice/optout?campaign=spring", callee_leg("client:alice", Digits="9"))
    say, hangup = list(parse_twiml(response.data))
    assert "could not be recorded" in say.text and hangup.tag == "Hangup"
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=optout.failed"
    assert OptOutStore(tm_app.extensions["callguard"].engine).list() == []


def test_the_whole_round_trip_and_the_next_call(tw: TwilioClient) -> None:
    first = tw.post("/voice/outbound?campaign=spring", dial_params("+12125550123"))
    whisper_url = urlsplit(parse_twiml(first.data).find("Dial/Number").get("url"))
    whisper = tw.post(f"{whisper_url.path}?{whisper_url.query}", callee_leg("+12125550123"))
    action = urlsplit(parse_twiml(whisper.data).find("Gather").get("action"))
    confirmed = tw.post(f"{action.path}?{action.query}", callee_leg("+12125550123", Digits="9"))
    assert parse_twiml(confirmed.data).find("Hangup") is not None
    again = tw.post("/voice/outbound?campaign=spring", dial_params("+12125550123"))
    assert again.headers["X-Callguard-Decision"] == "reject; reasons=dnc.optout"
    assert parse_twiml(again.data).find("Dial") is None


# -- /voice/answer: calls created through the REST API -------------------------------------


def answered(to: str = "+12125550123") -> dict[str, str]:
    return dial_params(to, from_="+14155550100", Direction="outbound-api", CallStatus="in-progress")


def test_answer_plays_the_disclosure_then_hands_over(tw: TwilioClient) -> None:
    response = tw.post("/voice/answer?campaign=spring&next=https://crm.example.com/calls/42", answered())
    assert response.headers["X-Callguard-Decision"] == "disclose; reasons=disclosure.required"
    gather, redirect = list(parse_twiml(response.data))
    assert gather.tag == "Gather" and redirect.tag == "Redirect" and redirect.text == "https://crm.example.com/calls/42"
    action = urlsplit(gather.get("action"))
    assert parse_qs(action.query) == {"campaign": ["spring"], "next": ["https://crm.example.com/calls/42"]}
    # Declining the opt-out continues to the app.
    declined = tw.post(f"{action.path}?{action.query}", answered() | {"Digits": "5"})
    assert [(e.tag, e.text) for e in parse_twiml(declined.data)] == [("Redirect", "https://crm.example.com/calls/42")]


def test_answer_hands_over_with_the_apps_method(tw: TwilioClient) -> None:
    response = tw.post("/voice/answer?campaign=reminders&next=https://app.example.com/voice/start&next_method=GET", answered())
    assert [(e.tag, e.text, e.get("method")) for e in parse_twiml(response.data)] == [
        ("Redirect", "https://app.example.com/voice/start", "GET")
    ]
    refused = tw.post("/voice/answer?campaign=reminders&next=https://app.example.com/voice/start&next_method=DELETE", answered())
    assert refused.headers["X-Callguard-Decision"] == "reject; reasons=answer.next_not_allowed"


def test_a_tagged_app_whisper_is_followed_without_being_listed(tw: TwilioClient) -> None:
    from callguard.wrapping.chaining import chained_disclosure_url
    from twiml.rewrite import Callback

    url = chained_disclosure_url(PUBLIC_URL, "spring", Callback("https://other.example.com/whisper", "GET"), MAIN_TOKEN.encode())
    root = parse_twiml(tw.post(url[len(PUBLIC_URL):], callee_leg("+12125550123")).data)
    assert [(e.tag, e.text, e.get("method")) for e in root][1:] == [("Redirect", "https://other.example.com/whisper", "GET")]
    # Signed with another account's token, the tag does not verify: no disclosure-less bridge either.
    forged = chained_disclosure_url(PUBLIC_URL, "spring", Callback("https://other.example.com/whisper", "GET"), b"not-the-token")
    assert [e.tag for e in parse_twiml(tw.post(forged[len(PUBLIC_URL):], callee_leg("+12125550123")).data)] == ["Hangup"]


def test_answer_for_an_informational_campaign_just_hands_over(tw: TwilioClient) -> None:
    response = tw.post("/voice/answer?campaign=reminders&next=https://app.example.com/voice/start", answered())
    assert [(e.tag, e.text) for e in parse_twiml(response.data)] == [("Redirect", "https://app.example.com/voice/start")]


def test_answer_re_checks_the_call(tw: TwilioClient, tm_app: Any) -> None:
    OptOutStore(tm_app.extensions["callguard"].engine).add("+12125550123", MAIN, source="admin", now=0)
    response = tw.post("/voice/answer?campaign=spring&next=https://crm.example.com/calls/42", answered())
    assert [e.tag for e in parse_twiml(response.data)] == ["Hangup"]
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=dnc.optout"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example.com/x",
        "https://crm.example.com.evil.com/calls/1",
        "https://crm.example.com/callsX/1",
        "http://crm.example.com/calls/1",
        "https://user@crm.example.com/calls/1",
        "https://crm.example.com/calls/../admin",
        "https://crm.example.com/calls/%252E%252E/admin",  # next=…/calls/%2E%2E/admin
        "https://crm.example.com/calls/./x",
        "javascript:alert(1)",
        "",
    ],
)
def test_answer_never_redirects_outside_the_allowed_urls(tw: TwilioClient, next_url: str) -> None:
    response = tw.post(f"/voice/answer?campaign=spring&next={next_url}", answered())
    assert [e.tag for e in parse_twiml(response.data)] == ["Hangup"]
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=answer.next_not_allowed"


def test_every_compliance_webhook_checks_the_signature(tw: TwilioClient) -> None:
    for path in ("/voice/disclosure?campaign=spring", "/voice/optout?campaign=spring", "/voice/answer?campaign=spring&next=x"):
        assert tw.client.post(path, data=callee_leg("+12125550123", Digits="9"), headers={"X-Twilio-Signature": "bad"}).status_code == 403


def test_faults_hang_up_rather_than_bridge(tw: TwilioClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import callguard.web.compliance as compliance

    monkeypatch.setattr(compliance, "disclosure_document", lambda *a, **k: 1 / 0)
    response = tw.post("/voice/disclosure?campaign=spring", callee_leg("+12125550123"))
    assert response.status_code == 200 and [e.tag for e in parse_twiml(response.data)] == ["Hangup"]


# -- national registries, end to end ---------------------------------------------------------


def test_a_registered_number_is_refused_until_consent_is_recorded(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], clock: FakeClock, tmp_path: Path
) -> None:
    import numpy as np

    from callguard.registry import RegistryKind
    from callguard.registry.builder import build

    from ..conftest import ADMIN_TOKEN

    clock.set(datetime(2026, 6, 1, 17, 0, tzinfo=UTC))
    registries = tmp_path / "shipped-registries"
    build(
        str(registries / "us_ftc.cgreg"),
        name="us_ftc",
        kind=RegistryKind.NANP,
        keys=np.array([2125550100]),
        regions={"US"},
        as_of=clock() - 86400,
    )
    app = make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(POLICY, name="tm.toml")), "CALLGUARD_REGISTRY_DIR": str(registries)})
    tw = TwilioClient(app.test_client())
    refused = tw.post("/voice/outbound?campaign=spring", dial_params("+12125550100"))
    assert refused.headers["X-Callguard-Decision"] == "reject; reasons=dnc.national.us_ftc"
    reminder = tw.post("/voice/outbound?campaign=reminders", dial_params("+12125550100"))
    assert reminder.headers["X-Callguard-Decision"] == "connect; reasons=ok"
    created = app.test_client().post(
        "/v1/consents",
        json={"number": "+12125550100", "account_sid": MAIN, "obtained_at": "2026-05-01T00:00:00Z", "evidence": "signed form #12"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert created.status_code == 201
    allowed = tw.post("/voice/outbound?campaign=spring", dial_params("+12125550100"))
    assert allowed.headers["X-Callguard-Decision"] == "disclose; reasons=disclosure.required"
    health = app.test_client().get("/healthz").get_json()
    assert health["registries"] == [
        {"name": "us_ftc", "regions": ["US"], "numbers": 1, "as_of": clock() - 86400, "age_days": 1.0, "stale": False}
    ]


def test_a_stale_registry_is_flagged(
    make_app: Callable[..., Any], app_config: dict[str, Any], clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import numpy as np

    from callguard.registry import RegistryKind
    from callguard.registry.builder import build

    registries = tmp_path / "old-registries"
    build(
        str(registries / "ca_dncl.cgreg"),
        name="ca_dncl",
        kind=RegistryKind.NANP,
        keys=np.array([4165550123]),
        regions={"CA"},
        as_of=clock() - 40 * 86400,
    )
    with caplog.at_level("WARNING", logger="callguard"):
        app = make_app({**app_config, "CALLGUARD_REGISTRY_DIR": str(registries)})
    assert "registry ca_dncl is 40 days old" in caplog.text
    health = app.test_client().get("/healthz").get_json()
    assert health["status"] == "degraded" and health["registries"][0]["stale"] is True


def test_answer_plays_the_account_default_campaign_disclosure(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], clock: FakeClock
) -> None:
    # No ?campaign= on the answer URL: the account's default campaign applies, disclosure and all.
    clock.set(datetime(2026, 6, 1, 17, 0, tzinfo=UTC))
    text = POLICY.replace('outside_line_prefix = "9"\n', 'outside_line_prefix = "9"\ncampaign = "spring"\n', 1)
    tw = TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(text, name="default.toml"))}).test_client())
    response = tw.post("/voice/answer?next=https://crm.example.com/calls/42", answered())
    assert response.headers["X-Callguard-Decision"] == "disclose; reasons=disclosure.required"
    gather, redirect = list(parse_twiml(response.data))
    assert gather.tag == "Gather" and gather.find("Say").text == "This is Acme Solar calling about our spring offer."
    assert parse_qs(urlsplit(gather.get("action")).query)["campaign"] == ["spring"]
    assert redirect.tag == "Redirect" and redirect.text == "https://crm.example.com/calls/42"


def test_a_registry_replaced_by_apply_delta_is_picked_up_without_restart(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], clock: FakeClock, tmp_path: Path
) -> None:
    import numpy as np
    from click.testing import CliRunner

    from callguard.cli import main
    from callguard.registry import RegistryKind
    from callguard.registry.builder import build

    clock.set(datetime(2026, 6, 1, 17, 0, tzinfo=UTC))
    registries = tmp_path / "live-registries"
    build(
        str(registries / "us_ftc.cgreg"), name="us_ftc", kind=RegistryKind.NANP, keys=np.array([2125550100]), regions={"US"}, as_of=clock()
    )
    app = make_app({**app_config, "CALLGUARD_POLICY": str(write_policy(POLICY, name="tm.toml")), "CALLGUARD_REGISTRY_DIR": str(registries)})
    tw = TwilioClient(app.test_client())

    def decision(to: str) -> str:
        return tw.post("/voice/outbound?campaign=spring", dial_params(to)).headers["X-Callguard-Decision"]

    assert decision("+12125550100") == "reject; reasons=dnc.national.us_ftc"

    changes = tmp_path / "changes.txt"
    changes.write_text("212,5550100,D\n212,5550111,A\n")
    result = CliRunner().invoke(main, ["registry", "apply-delta", "--name", "us_ftc", "--dir", str(registries), str(changes)])
    assert result.exit_code == 0, result.output
    clock.advance(1)  # workers look at the directory at most once a second
    assert decision("+12125550100").startswith("disclose")
    assert decision("+12125550111") == "reject; reasons=dnc.national.us_ftc"
