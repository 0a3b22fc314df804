"""The outbound voice webhook (callguard.web.voice)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import shortnumberinfo
from twilio.request_validator import RequestValidator

from callguard.store import SqlAuditLog

from ..conftest import (
    BASE_POLICY,
    MAIN,
    MAIN_TOKEN,
    PUBLIC_URL,
    STRANGER,
    SUSPENDED,
    TENANT,
    TENANT_TOKEN,
    TwilioClient,
    dial_params,
    parse_twiml,
)

OUTBOUND = "/voice/outbound"


def dialled(response: Any) -> tuple[str | None, str | None]:
    """(callerId, number) of the <Dial><Number> in a response; asserts that is what it holds."""
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = parse_twiml(response.data)
    (dial,) = list(root)
    assert dial.tag == "Dial", response.data
    (number,) = list(dial)
    assert number.tag == "Number"
    return dial.get("callerId"), number.text


def refused(response: Any) -> Any:
    assert response.status_code == 200
    root = parse_twiml(response.data)
    assert root.find("Dial") is None, response.data
    return root


def test_a_permitted_call_connects(twilio: TwilioClient) -> None:
    response = twilio.post(OUTBOUND, dial_params("+14155550123"))
    assert dialled(response) == ("+14155550100", "+14155550123")
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"


def test_a_refused_call_is_rejected(twilio: TwilioClient) -> None:
    response = twilio.post(OUTBOUND, dial_params("+18765550100"))
    root = refused(response)
    (reject,) = list(root)
    assert reject.tag == "Reject" and reject.get("reason") == "rejected"
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=geo.high_risk_tollfraud"


def test_all_refusal_reasons_are_in_the_header(twilio: TwilioClient) -> None:
    response = twilio.post(OUTBOUND, dial_params("+14155550191", from_="+14155550177"))
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=prefix.blocked,callerid.not_owned"


def test_announce_style_says_why_and_hangs_up(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path]
) -> None:
    path = write_policy(
        f"""
        [defaults]
        reject_style = "announce"
        announce_voice = "Polly.Joanna"
        announce_language = "en-US"
        [accounts.{MAIN}]
        caller_ids = ["+14155550100"]
        permissions.US = {{ low_risk = true }}
        """,
        name="announce.toml",
    )
    twilio = TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(path)}).test_client())
    root = refused(twilio.post(OUTBOUND, dial_params("+442079460000")))
    say, hangup = list(root)
    assert say.tag == "Say" and say.get("voice") == "Polly.Joanna" and say.get("language") == "en-US"
    assert say.text == "Calls to this destination are not permitted. Goodbye."
    assert hangup.tag == "Hangup"


def test_sip_domain_trunk_dial(twilio: TwilioClient) -> None:
    params = dial_params(
        "sip:9011442079460000@pbx.sip.twilio.com",
        from_="sip:201@pbx.sip.twilio.com",
        SipDomain="pbx.sip.twilio.com",
        SipDomainSid="SD" + "0" * 32,
        SipCallId="abc@10.0.0.1",
        SipSourceIp="203.0.113.5",
    )
    assert dialled(twilio.post(OUTBOUND, params)) == ("+14155550101", "+442079460000")


def test_voice_sdk_client_with_caller_id_parameter(twilio: TwilioClient) -> None:
    params = dial_params("4155550123", from_="client:alice", callerId="+14155550101")
    assert dialled(twilio.post(OUTBOUND, params)) == ("+14155550101", "+14155550123")


def test_subaccounts_are_validated_with_their_own_token(twilio: TwilioClient) -> None:
    params = dial_params("+498912345678", from_="+442079460000", account=TENANT)
    assert twilio.post(OUTBOUND, params, token=MAIN_TOKEN).status_code == 403
    assert dialled(twilio.post(OUTBOUND, params, token=TENANT_TOKEN)) == ("+442079460000", "+498912345678")


def test_unknown_accounts_signed_with_the_default_token_are_refused_not_forbidden(twilio: TwilioClient) -> None:
    response = twilio.post(OUTBOUND, dial_params("+14155550123", account=STRANGER))
    refused(response)
    assert response.headers["X-Callguard-Decision"].startswith("reject; reasons=account.unknown")


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda p, h: h.pop("X-Twilio-Signature"), id="no signature"),
        pytest.param(lambda p, h: h.__setitem__("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl"), id="wrong signature"),
        pytest.param(lambda p, h: h.__setitem__("X-Twilio-Signature", "\u00e9\u00e9"), id="non-ascii signature"),
        pytest.param(lambda p, h: p.__setitem__("To", "+18765550100"), id="tampered To"),
        pytest.param(lambda p, h: p.__setitem__("Extra", "1"), id="added parameter"),
    ],
)
def test_unsigned_or_mis_signed_requests_get_403_and_nothing_else(twilio: TwilioClient, mutate: Callable[..., None]) -> None:
    params = dial_params("+14155550123")
    headers = {"X-Twilio-Signature": twilio.sign(OUTBOUND, params, MAIN_TOKEN)}
    mutate(params, headers)
    response = twilio.client.post(OUTBOUND, data=params, headers=headers)
    assert response.status_code == 403
    assert "X-Callguard-Decision" not in response.headers
    assert b"<Response" not in response.data


def test_the_signed_url_is_the_public_url_with_the_raw_query(twilio: TwilioClient) -> None:
    path = OUTBOUND + "?campaign=spring%20sale&x=1"
    params = dial_params("+14155550123")
    signature = RequestValidator(MAIN_TOKEN).compute_signature(PUBLIC_URL + path, params)
    assert twilio.client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code == 200
    local = RequestValidator(MAIN_TOKEN).compute_signature("http://localhost" + path, params)
    assert twilio.client.post(path, data=params, headers={"X-Twilio-Signature": local}).status_code == 403


def test_signatures_over_the_url_with_its_default_port_are_accepted(twilio: TwilioClient) -> None:
    params = dial_params("+14155550123")
    signature = RequestValidator(MAIN_TOKEN).compute_signature("https://callguard.example.com:443" + OUTBOUND, params)
    response = twilio.client.post(OUTBOUND, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_hmac_sha256_shared_key_signatures(twilio: TwilioClient) -> None:
    params = dial_params("+14155550123")
    signature = RequestValidator(MAIN_TOKEN).compute_signature(PUBLIC_URL + OUTBOUND, params, "HMAC_SHA256")
    headers = {"X-Twilio-Signature": signature, "X-Twilio-Webhooks-Signature-Settings": "key=k1,algorithm=HMAC_SHA256"}
    assert twilio.client.post(OUTBOUND, data=params, headers=headers).status_code == 200
    headers["X-Twilio-Webhooks-Signature-Settings"] = "algorithm=HMAC_MD5"
    assert twilio.client.post(OUTBOUND, data=params, headers=headers).status_code == 403


def test_get_webhooks(twilio: TwilioClient) -> None:
    from urllib.parse import urlencode

    response = twilio.get(OUTBOUND + "?" + urlencode(dial_params("+14155550123")))
    assert dialled(response) == ("+14155550100", "+14155550123")


def test_oversized_bodies_are_forbidden(twilio: TwilioClient) -> None:
    params = dial_params("+14155550123", Padding="x" * 100_000)
    assert twilio.post(OUTBOUND, params).status_code == 403


def test_non_utf8_bodies_are_forbidden_not_crashed(twilio: TwilioClient) -> None:
    body = b"AccountSid=" + MAIN.encode() + b"&To=%FF%FE%2B1415&From=%2B14155550100"
    response = twilio.client.post(
        OUTBOUND, data=body, content_type="application/x-www-form-urlencoded", headers={"X-Twilio-Signature": "x"}
    )
    assert response.status_code == 403


def test_non_utf8_bodies_signed_correctly_are_refused_not_crashed(twilio: TwilioClient) -> None:
    # Twilio would never send this, but a correctly signed one must still get TwiML.
    body = b"AccountSid=" + MAIN.encode() + b"&To=%FF%FE%2B1415&From=%2B14155550100"
    # Werkzeug leaves undecodable escapes as they were; that is the value that was signed.
    params = {"AccountSid": MAIN, "To": "%FF%FE+1415", "From": "+14155550100"}
    signature = twilio.sign(OUTBOUND, params, MAIN_TOKEN)
    response = twilio.client.post(
        OUTBOUND, data=body, content_type="application/x-www-form-urlencoded", headers={"X-Twilio-Signature": signature}
    )
    refused(response)
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=destination.invalid"


def test_emergency_calls_connect_even_for_suspended_accounts(twilio: TwilioClient) -> None:
    response = twilio.post(OUTBOUND, dial_params("911", from_="+14155550199", account=SUSPENDED))
    assert dialled(response) == ("+14155550199", "911")
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=emergency"


def test_a_fault_in_the_engine_is_valid_twiml_never_5xx(app: Any, twilio: TwilioClient, monkeypatch: pytest.MonkeyPatch) -> None:
    guard = app.extensions["callguard"].guard

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(guard, "_decide", explode)
    response = twilio.post(OUTBOUND, dial_params("+14155550123"))
    refused(response)
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=fault.internal"
    emergency = twilio.post(OUTBOUND, dial_params("911"))
    assert dialled(emergency) == ("+14155550100", "911")
    assert emergency.headers["X-Callguard-Decision"] == "connect; reasons=emergency,fault.internal"


def test_a_fault_while_rendering_is_valid_twiml(twilio: TwilioClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import callguard.web.voice as voice_module

    calls = {"n": 0}
    real = voice_module.render_decision

    def flaky(decision: Any, defaults: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("template broken")
        return real(decision, defaults)

    monkeypatch.setattr(voice_module, "render_decision", flaky)
    response = twilio.post(OUTBOUND, dial_params("+14155550123"))
    refused(response)
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=fault.internal"


def test_an_exception_escaping_the_view_is_still_valid_twiml(twilio: TwilioClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import callguard.web.voice as voice_module

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("escaped")

    monkeypatch.setattr(voice_module, "dial_request_from_params", broken)  # raises inside the view
    response = twilio.post(OUTBOUND, dial_params("+14155550123"))
    refused(response)
    assert response.headers["X-Callguard-Decision"] == "reject; reasons=fault.internal"


def test_fail_mode_connect(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_policy(
        f"""
        [defaults]
        fail_mode = "connect"
        [accounts.{MAIN}]
        caller_ids = ["+14155550100"]
        """,
        name="failopen.toml",
    )
    app = make_app({**app_config, "CALLGUARD_POLICY": str(path)})
    monkeypatch.setattr(app.extensions["callguard"].guard, "_decide", lambda *a, **k: 1 / 0)
    response = TwilioClient(app.test_client()).post(OUTBOUND, dial_params("+442079460000"))
    assert dialled(response) == ("+14155550100", "+442079460000")
    assert response.headers["X-Callguard-Decision"] == "connect; reasons=fault.fail_open"


def test_every_decision_is_audited(app: Any, twilio: TwilioClient) -> None:
    twilio.post(OUTBOUND, dial_params("+14155550123", CallSid="CA-one"))
    twilio.post(OUTBOUND, dial_params("+18765550100", CallSid="CA-two"))
    twilio.client.post(OUTBOUND, data=dial_params("+14155550123", CallSid="CA-forged"), headers={"X-Twilio-Signature": "x"})
    rows = SqlAuditLog(app.extensions["callguard"].engine).recent(10)
    assert [(r.call_sid, r.action, r.source) for r in rows] == [("CA-two", "reject", "webhook"), ("CA-one", "connect", "webhook")]


def test_unknown_paths_and_methods(twilio: TwilioClient) -> None:
    assert twilio.client.get("/voice/nothing").status_code == 404
    assert twilio.client.put(OUTBOUND).status_code == 405


# -- property: whatever is dialled, the answer is valid TwiML, and a connect dials a valid number


@pytest.fixture
def allow_all_app(make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path]) -> Any:
    keys = sorted(phonenumbers.SUPPORTED_REGIONS) + [f'"+{c}"' for c in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)]
    permissions = "\n".join(
        f"{key} = {{ low_risk = true, high_risk_special = true, high_risk_tollfraud = true, direct_request = true }}" for key in keys
    )
    path = write_policy(
        f"""
[accounts.{MAIN}]
caller_ids = ["+14155550100"]
outside_line_prefix = "9"
[accounts.{MAIN}.permissions]
{permissions}
""",
        name="allow-all.toml",
    )
    return make_app({**app_config, "CALLGUARD_POLICY": str(path)})


dialled_strings = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789+ -()", max_size=20),
    st.from_regex(r"(\+|00|011|9011|9)?[0-9]{2,15}", fullmatch=True),
    st.builds(
        lambda user, host: f"sip:{user}@{host}",
        st.from_regex(r"\+?[0-9*#a-z]{1,16}", fullmatch=True),
        st.sampled_from(["pbx.sip.twilio.com", "x"]),
    ),
    st.sampled_from(["911", "9911", "112", "999", "client:bob", "tel:+442079460000"]),
)


@given(to=dialled_strings)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_any_connect_dials_a_valid_e164_number_or_an_emergency_number(allow_all_app: Any, to: str) -> None:
    twilio = TwilioClient(allow_all_app.test_client())
    response = twilio.post(OUTBOUND, dial_params(to))
    assert response.status_code == 200
    root = parse_twiml(response.data)
    action = response.headers["X-Callguard-Decision"].split(";")[0]
    numbers = root.findall("Dial/Number")
    if action == "connect":
        (number,) = numbers
        value = number.text or ""
        if value.startswith("+"):
            assert phonenumbers.is_valid_number(phonenumbers.parse(value)), value
        else:
            assert shortnumberinfo.is_emergency_number(value, "US"), value
    else:
        assert action == "reject" and not numbers


def test_conferences_and_queues_follow_non_pstn(
    make_app: Callable[..., Any], app_config: dict[str, Any], write_policy: Callable[..., Path], twilio: TwilioClient
) -> None:
    by_default = twilio.post(OUTBOUND, dial_params("conference:standup"))
    assert by_default.headers["X-Callguard-Decision"] == "reject; reasons=destination.non_pstn"
    path = write_policy(BASE_POLICY.replace('default_region = "US"\n', 'default_region = "US"\nnon_pstn = "connect"\n', 1), name="np.toml")
    permissive = TwilioClient(make_app({**app_config, "CALLGUARD_POLICY": str(path)}).test_client())
    for to, noun, name in (("conference:standup", "Conference", "standup"), ("queue:support", "Queue", "support")):
        response = permissive.post(OUTBOUND, dial_params(to))
        assert response.headers["X-Callguard-Decision"] == "connect; reasons=ok"
        assert parse_twiml(response.data).find(f"Dial/{noun}").text == name
