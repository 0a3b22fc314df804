"""Policing an app's TwiML: every dial target decided, the document rewritten (callguard.wrapping.policing)."""

from __future__ import annotations

import textwrap
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit
from xml.dom import minidom
from xml.etree import ElementTree

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.twiml.voice_response import VoiceResponse

from callguard import Action, DialRequest, FakeClock, Guard, parse_policy
from callguard.lookups import Lookups
from callguard.numbers import TargetKind, normalize_dial_string
from callguard.registry import RegistryDirectory
from callguard.store.consents import ConsentStore
from callguard.store.database import create_database_engine
from callguard.store.migrate import ensure_schema
from callguard.store.optouts import OptOutStore
from callguard.wrapping.chaining import STATUS, WHISPER, tag_matches
from callguard.wrapping.policing import Callbacks, WrappedCall, police_twiml
from twiml.errors import TwimlError

from ..conftest import BASE_POLICY, MAIN, SUSPENDED, parse_twiml
from ..test_engine import ListAudit

BASE_DEFAULTS = '[defaults]\nfail_mode = "reject"\nreject_style = "reject"\ndefault_region = "US"\n'
BASE = "https://callguard.example.com"
DOCUMENT_URL = "https://app.example.com/voice/incoming"
KEY = b"main-auth-token-0123456789abcdef"
CALL = WrappedCall(account_sid=MAIN, from_="+14155550100", call_sid="CA" + "1" * 32)
QUIET = Callbacks(BASE, DOCUMENT_URL, KEY, status=False)
COUNTING = Callbacks(BASE, DOCUMENT_URL, KEY, status=True)


def police(guard: Guard, response: VoiceResponse | str, *, call: WrappedCall = CALL, callbacks: Callbacks = QUIET) -> Any:
    return police_twiml(str(response).encode(), guard, call, callbacks)


def dial(*numbers: str, **attributes: Any) -> VoiceResponse:
    response = VoiceResponse()
    element = response.dial(**attributes)
    for number in numbers:
        element.number(number)
    return response


def test_a_document_whose_dials_all_connect_goes_back_byte_for_byte(guard: Guard) -> None:
    audit = ListAudit()
    guard.audit = audit
    body = str(dial("+14155550123", "+442079460018", caller_id="+14155550101", action="/after")).encode()
    policed = police_twiml(body, guard, CALL, QUIET)
    assert policed.body is body and not policed.changed
    assert policed.header_value() == "connect; reasons=ok"
    # Each target was decided and audited, with the <Dial callerId> and the request's call.
    assert [(d.request.to, d.request.caller_id, d.request.call_sid, d.request.source) for d in audit.decisions] == [
        ("+14155550123", "+14155550101", CALL.call_sid, "wrapped"),
        ("+442079460018", "+14155550101", CALL.call_sid, "wrapped"),
    ]


def test_a_refused_target_is_removed_and_the_rest_kept(guard: Guard) -> None:
    policed = police(guard, dial("+14155550123", "+4930901820", timeout=20))
    root = parse_twiml(policed.body.encode())
    (dial_element,) = list(root)
    assert dial_element.get("timeout") == "20"
    assert [n.text for n in dial_element] == ["+14155550123"]
    assert policed.header_value() == "connect; reasons=ok,geo.low_risk"


def test_a_dial_with_an_action_is_told_the_dial_failed(guard: Guard) -> None:
    response = VoiceResponse()
    response.say("Connecting")
    response.dial(action="/after-dial", method="GET").number("+4930901820")
    response.say("never reached")
    root = parse_twiml(police(guard, response).body.encode())
    assert [e.tag for e in root] == ["Say", "Redirect", "Say"]
    redirect = root[1]
    assert redirect.get("method") == "GET"
    url = urlsplit(redirect.text)
    assert url.path == "/after-dial" and parse_qs(url.query) == {"DialCallStatus": ["failed"], "CallguardReasons": ["geo.low_risk"]}


def test_without_an_action_the_verbs_after_the_dial_still_run(guard: Guard) -> None:
    response = VoiceResponse()
    response.dial("+4930901820")
    response.say("Sorry, nobody could take your call.")
    response.hangup()
    policed = police(guard, response)
    assert [e.tag for e in parse_twiml(policed.body.encode())] == ["Say", "Hangup"]
    assert policed.header_value() == "reject; reasons=geo.low_risk"


def test_a_lone_refused_dial_becomes_the_policys_rejection(guard: Guard) -> None:
    root = parse_twiml(police(guard, dial("+4930901820")).body.encode())
    (reject,) = list(root)
    assert reject.tag == "Reject" and reject.get("reason") == "rejected"


def test_the_announce_style_says_why(make_guard: Any) -> None:
    guard = make_guard('reject_style = "announce"\nannounce_voice = "Polly.Amy"\n')
    response = dial("+4930901820", action="https://app.example.com/after")
    say, redirect = list(parse_twiml(police(guard, response).body.encode()))
    assert say.tag == "Say" and say.text == "Calls to this destination are not permitted." and say.get("voice") == "Polly.Amy"
    assert redirect.tag == "Redirect" and redirect.text.startswith("https://app.example.com/after?DialCallStatus=failed")


def test_the_same_document_decided_otherwise_is_rewritten_otherwise(guard: Guard, make_guard: Any) -> None:
    """Rewrites are reused per document and decisions' effects: never one decision's for another's."""
    body = str(dial("+14155550123", "+4930901820", action="https://app.example.com/after"))
    announcing = make_guard('reject_style = "announce"\n')
    first, again = police(guard, body), police(guard, body)
    assert again.body == first.body and [n.text for n in parse_twiml(first.body.encode()).iter("Number")] == ["+14155550123"]
    refused = str(dial("+4930901820", action="https://app.example.com/after"))
    assert [e.tag for e in parse_twiml(police(guard, refused).body.encode())] == ["Redirect"]
    assert [e.tag for e in parse_twiml(police(announcing, refused).body.encode())] == ["Say", "Redirect"]  # the policy's reject style
    assert "statusCallback" in police(guard, body, callbacks=COUNTING).body  # callguard's callbacks
    refused_both = police(guard, str(dial("+4930901820", "+18765550100", action="https://app.example.com/after")))
    (redirect,) = list(parse_twiml(refused_both.body.encode()))
    assert parse_qs(urlsplit(redirect.text).query)["CallguardReasons"] == ["geo.low_risk"]  # the first refusal's reasons
    jamaica_first = police(guard, str(dial("+18765550100", "+4930901820", action="https://app.example.com/after")))
    (redirect,) = list(parse_twiml(jamaica_first.body.encode()))
    assert parse_qs(urlsplit(redirect.text).query)["CallguardReasons"] == ["geo.high_risk_tollfraud"]


def test_the_dial_caller_id_is_checked(guard: Guard) -> None:
    policed = police(guard, dial("+14155550123", caller_id="+14155550177"))
    assert policed.header_value() == "reject; reasons=callerid.not_owned"


@pytest.mark.parametrize(
    ("build", "to"),
    [
        (lambda d: d.client("bob"), "client:bob"),
        (lambda d: d.conference("standup"), "conference:standup"),
        (lambda d: d.queue("support"), "queue:support"),
        (lambda d: d.sip("sip:alice@pbx.example.com"), "sip:alice@pbx.example.com"),
    ],
)
def test_non_pstn_targets_follow_the_non_pstn_setting(guard: Guard, make_guard: Any, build: Any, to: str) -> None:
    response = VoiceResponse()
    build(response.dial())
    audit = ListAudit()
    guard.audit = audit
    assert police(guard, response).header_value() == "reject; reasons=destination.non_pstn"
    assert audit.decisions[0].request.to == to
    permissive = make_guard('non_pstn = "connect"\n')
    policed = police(permissive, response)
    assert not policed.changed and policed.header_value() == "connect; reasons=ok"


def test_a_sip_uri_with_a_number_is_checked_as_that_number(guard: Guard) -> None:
    response = VoiceResponse()
    response.dial().sip("sip:+4930901820@carrier.example.com")
    assert police(guard, response).header_value() == "reject; reasons=geo.low_risk"


def sip_uris(*uris: str, action: str | None = None, number: str | None = None, **sip_attributes: Any) -> VoiceResponse:
    """A <Dial> (with ``action``) of a <Sip> of ``uris`` as twilio's builder writes it, with a
    <Headers> the checks must ignore, then ``number``, if any."""
    response = VoiceResponse()
    dial_element = response.dial(action=action)
    sip = dial_element.sip(**sip_attributes)
    for priority, uri in enumerate(uris, 1):
        sip.uri(uri, priority=priority)
    sip.headers().header(name="X-Tag", value="sales")
    if number is not None:
        dial_element.number(number)
    return response


def test_each_uri_of_a_sip_is_decided_and_a_refused_one_removed(guard: Guard) -> None:
    audit = ListAudit()
    guard.audit = audit
    policed = police(guard, sip_uris("sip:+14155550123@carrier.example", "sip:+4930901820@carrier.example", username="trunk"))
    assert [d.request.to for d in audit.decisions] == ["sip:+14155550123@carrier.example", "sip:+4930901820@carrier.example"]
    assert policed.header_value() == "connect; reasons=ok,geo.low_risk"
    (sip,) = parse_twiml(policed.body.encode()).findall("Dial/Sip")
    assert sip.get("username") == "trunk"
    assert [(e.tag, e.text, e.get("priority")) for e in sip] == [("Uri", "sip:+14155550123@carrier.example", "1"), ("Headers", None, None)]


def test_a_sip_whose_every_uri_is_refused_is_refused_like_any_noun(guard: Guard) -> None:
    # A URI without a scheme is a SIP URI, and not a number: non_pstn decides it.
    refused = sip_uris("foo@example.com", "sip:+4930901820@carrier.example")
    (reject,) = list(parse_twiml(police(guard, refused).body.encode()))
    assert reject.tag == "Reject"
    with_action = sip_uris("foo@example.com", "sip:+4930901820@carrier.example", action="/after-dial")
    (redirect,) = list(parse_twiml(police(guard, with_action).body.encode()))
    assert parse_qs(urlsplit(redirect.text).query)["CallguardReasons"] == ["destination.non_pstn"]  # the first refusal's
    beside_a_number = sip_uris("foo@example.com", number="+14155550123")
    policed = police(guard, beside_a_number)
    (dial_element,) = list(parse_twiml(policed.body.encode()))
    assert [(e.tag, e.text) for e in dial_element] == [("Number", "+14155550123")]  # the emptied <Sip> went, headers and all
    assert policed.header_value() == "connect; reasons=destination.non_pstn,ok"


def test_a_sip_of_several_numbers_gets_callguards_callbacks_once(guard: Guard) -> None:
    response = sip_uris("sip:+14155550123@carrier.example", "sip:+14155550124@carrier.example", status_callback="/app/status")
    (sip,) = parse_twiml(police(guard, response, callbacks=COUNTING).body.encode()).findall("Dial/Sip")
    url = urlsplit(sip.get("statusCallback"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE}/voice/status"
    # The app's own callback is chained once: not callguard's chained onto itself.
    assert parse_qs(url.query)["forward"] == ["https://app.example.com/app/status"]
    assert [e.text for e in sip.findall("Uri")] == ["sip:+14155550123@carrier.example", "sip:+14155550124@carrier.example"]


def test_a_disclosed_sip_of_several_numbers_plays_the_disclosure_once(make_guard: Any) -> None:
    guard = make_guard("", extra=TELEMARKETING)
    call = WrappedCall(account_sid=MAIN, from_="+14155550100", campaign="spring")
    response = sip_uris("sip:+12125550123@carrier.example", "sip:+12125550124@carrier.example", url="whisper.xml", method="GET")
    policed = police(guard, response, call=call)
    assert policed.header_value() == "disclose; reasons=disclosure.required"
    (sip,) = parse_twiml(policed.body.encode()).findall("Dial/Sip")
    query = {k: v[0] for k, v in parse_qs(urlsplit(sip.get("url")).query).items()}
    assert sip.get("url").startswith(f"{BASE}/voice/disclosure?campaign=spring&")
    assert (query["next"], query["next_method"]) == ("https://app.example.com/voice/whisper.xml", "GET")


def test_documents_that_differ_only_in_a_uri_are_rewritten_each_its_own_way(guard: Guard) -> None:
    """Same targets' kinds and decisions, other URIs: no document gets another's cached rewrite."""
    for kept in ("sip:+14155550123@carrier.example", "sip:+14155550124@carrier.example", "sip:+14155550123@carrier.example"):
        policed = police(guard, sip_uris("sip:+4930901820@carrier.example", kept))
        assert [e.text for e in parse_twiml(policed.body.encode()).iter("Uri")] == [kept]
    # The same target written as the <Sip>'s text and as a <Uri> is the same described target.
    as_text = VoiceResponse()
    text_dial = as_text.dial()
    text_dial.sip("sip:+4930901820@carrier.example")
    text_dial.number("+14155550123")
    as_uri = sip_uris("sip:+4930901820@carrier.example", number="+14155550123")
    for response in (as_text, as_uri, as_text):
        (dial_element,) = list(parse_twiml(police(guard, response).body.encode()))
        assert [(e.tag, e.text) for e in dial_element] == [("Number", "+14155550123")]


def test_twilio_pythons_sip_uri_connects_under_non_pstn_connect(make_guard: Any) -> None:
    permissive = make_guard('non_pstn = "connect"\n')
    audit = ListAudit()
    permissive.audit = audit
    response = VoiceResponse()
    response.dial().sip().uri("foo@example.com")
    body = str(response).encode()
    policed = police_twiml(body, permissive, CALL, QUIET)
    assert policed.header_value() == "connect; reasons=ok"
    assert policed.body is body and not policed.changed
    assert [d.request.to for d in audit.decisions] == ["sip:foo@example.com"]


def test_emergency_numbers_always_connect(guard: Guard) -> None:
    call = WrappedCall(account_sid=SUSPENDED, from_="+14155550199")
    policed = police(guard, dial("911", "+14155550123"), call=call)
    assert [n.text for n in parse_twiml(policed.body.encode()).find("Dial")] == ["911"]
    assert policed.header_value() == "connect; reasons=emergency,account.suspended"


def test_connected_numbers_report_to_callguard_when_the_account_counts_traffic(guard: Guard) -> None:
    response = VoiceResponse()
    element = response.dial()
    element.number("+14155550123")
    element.sip("sip:+14155550124@carrier.example.com")
    element.client("bob")  # refused, and not a number anyway
    response.dial("+14155550125")
    root = parse_twiml(police(guard, response, callbacks=COUNTING).body.encode())
    first, second = root.findall("Dial")
    for noun in [*first, *second]:
        assert noun.tag in ("Number", "Sip")
        assert noun.get("statusCallback") == f"{BASE}/voice/status" and noun.get("statusCallbackMethod") == "POST"
        assert noun.get("statusCallbackEvent") is None  # Twilio's default: the final status
    assert second[0].text == "+14155550125"


def test_the_apps_own_status_callback_is_chained(guard: Guard) -> None:
    response = VoiceResponse()
    response.dial().number(
        "+14155550123", status_callback="/calls/status?x=1", status_callback_event="ringing answered", status_callback_method="GET"
    )
    noun = parse_twiml(police(guard, response, callbacks=COUNTING).body.encode()).find("Dial/Number")
    url = urlsplit(noun.get("statusCallback"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE}/voice/status"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    # A relative URL resolves against the document's URL, as Twilio resolves it.
    assert query["forward"] == "https://app.example.com/calls/status?x=1"
    assert (query["forward_method"], query["forward_events"]) == ("GET", "ringing answered")
    assert tag_matches([KEY], query["forward_tag"], STATUS, query["forward"], "GET", "ringing answered")
    assert not tag_matches([b"another-token"], query["forward_tag"], STATUS, query["forward"], "GET", "ringing answered")
    # callguard needs the final status too; the app still gets only what it asked for (see /voice/status).
    assert noun.get("statusCallbackEvent") == "ringing answered completed"
    assert noun.get("statusCallbackMethod") == "POST"


TELEMARKETING = """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling."
"""


def test_a_telemarketing_dial_plays_the_disclosure_then_the_apps_whisper(make_guard: Any) -> None:
    guard = make_guard("", extra=TELEMARKETING)
    call = WrappedCall(account_sid=MAIN, from_="+14155550100", campaign="spring")
    response = VoiceResponse()
    response.dial().number("+12125550123", url="whisper.xml", method="GET")
    response.dial("+12125550124")
    policed = police(guard, response, call=call)
    assert policed.header_value() == "disclose; reasons=disclosure.required"
    chained, plain = parse_twiml(policed.body.encode()).findall("Dial/Number")
    query = {k: v[0] for k, v in parse_qs(urlsplit(chained.get("url")).query).items()}
    assert chained.get("url").startswith(f"{BASE}/voice/disclosure?campaign=spring&") and chained.get("method") == "POST"
    assert (query["next"], query["next_method"]) == ("https://app.example.com/voice/whisper.xml", "GET")
    assert tag_matches([KEY], query["next_tag"], WHISPER, query["next"], "GET")
    assert plain.text == "+12125550124" and plain.get("url") == f"{BASE}/voice/disclosure?campaign=spring"


def test_a_document_without_dials_is_untouched(guard: Guard) -> None:
    response = VoiceResponse()
    response.say("Hello")
    response.redirect("/menu")
    policed = police(guard, response)
    assert policed.body == str(response).encode() and policed.header_value() == "connect; reasons=no_dial"


def _top_level(body: bytes | str) -> list[tuple[str, str]]:
    """The document's top-level nodes in order: comments, processing instructions, the root element."""
    nodes: list[tuple[str, str]] = []
    for node in minidom.parseString(body).childNodes:
        if isinstance(node, minidom.Comment):
            nodes.append(("comment", node.data))
        elif isinstance(node, minidom.ProcessingInstruction):
            nodes.append(("pi", f"{node.target} {node.data}"))
        elif isinstance(node, minidom.Element):
            nodes.append(("element", node.tagName))
    return nodes


def test_comments_around_the_response_survive_a_rewrite(guard: Guard) -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- generated by the app -->\n<?app-hint v2?>\n'
        + str(dial("+14155550123", "+4930901820")).split("?>", 1)[1]
        + "\n<!-- end -->"
    )
    policed = police(guard, body)
    assert [n.text for n in parse_twiml(policed.body.encode()).iter("Number")] == ["+14155550123"]
    assert _top_level(policed.body) == [
        ("comment", " generated by the app "),
        ("pi", "app-hint v2"),
        ("element", "Response"),
        ("comment", " end "),
    ]


# -- what is checked is what is dialled ------------------------------------------------------

BERLIN_CLOSED = f"""
[defaults]
fail_mode = "reject"
reject_style = "reject"
[accounts.{MAIN}]
caller_ids = ["+14155550100"]
[accounts.{MAIN}.permissions]
DE = {{ low_risk = true }}
[[blocked_prefixes]]
prefix = "+493012345678"
reason = "closed"
"""


@pytest.mark.parametrize("split", ["<!-- x -->", "<?x y?>", "<!---->", "<!-- a --><?b c?>"])
@pytest.mark.parametrize(
    "document",
    [
        "<Response><Dial><Number>+4930123456{split}78</Number></Dial></Response>",
        "<Response><Dial>+4930123456{split}78</Dial></Response>",
        "<Response><Dial><Sip><Uri>sip:+4930123456{split}78@carrier.example.com</Uri></Sip></Dial></Response>",
        "<Response><Dial><Sip>sip:+4930123456{split}78@carrier.example.com</Sip></Dial></Response>",
    ],
)
def test_a_number_split_by_a_comment_is_checked_as_twilio_reads_it(document: str, split: str) -> None:
    """XML readers join the text around a comment or processing instruction: so does the check."""
    guard = _guard(BERLIN_CLOSED)
    policed = police_twiml(document.format(split=split).encode(), guard, CALL, QUIET)
    assert [t.decision.request.to.removeprefix("sip:").split("@")[0] for t in policed.targets] == ["+493012345678"]
    assert policed.header_value() == "reject; reasons=prefix.blocked"
    assert "+4930123456" not in policed.body


def test_a_permitted_split_number_is_answered_joined() -> None:
    """The answer carries, as one text, exactly the value that was checked."""
    guard = _guard(BERLIN_CLOSED)
    body = (
        b'<Response><!-- kept --><Dial callerId="+14155550100">'
        b'<Number url="/w">+49301<!-- a -->23<?b c?>4567</Number>+4930<!-- d -->901820</Dial></Response>'
    )
    policed = police_twiml(body, guard, CALL, QUIET)
    assert policed.changed and policed.header_value() == "connect; reasons=ok"
    assert [t.decision.request.to for t in policed.targets] == ["+4930901820", "+49301234567"]
    assert "<!-- kept -->" in policed.body and "<!-- a" not in policed.body and "<?b" not in policed.body and "<!-- d" not in policed.body
    (dial_element,) = list(ElementTree.fromstring(policed.body))
    assert dial_element.text is None and len(dial_element) == 1
    assert (dial_element[0].tag, dial_element[0].text, dial_element[0].get("url")) == ("Number", "+49301234567", "/w")
    assert dial_element[0].tail == "+4930901820"


def test_a_comment_outside_the_targets_text_is_kept(guard: Guard) -> None:
    body = b"<Response><!-- app v2 --><Dial><!-- first --><Number>+14155550123</Number></Dial></Response>"
    policed = police_twiml(body, guard, CALL, QUIET)
    assert policed.body is body and not policed.changed


def test_a_dial_inside_a_refused_target_goes_with_it(make_guard: Any) -> None:
    """Not TwiML, but an answer all the same: a <Dial> written inside a refused <Client> (beside
    its <Identity>) is removed with it, and the outer <Dial> is replaced as usual (found by fuzzing)."""
    guard = make_guard('reject_style = "reject"\nnon_pstn = "reject"\n')
    body = b"<Response><Dial><Client><Identity>bob</Identity><Dial><Number>+4930901820</Number></Dial></Client></Dial></Response>"
    policed = police_twiml(body, guard, CALL, QUIET)
    assert policed.header_value().startswith("reject; reasons=")
    assert [e.tag for e in parse_twiml(policed.body.encode())] == ["Reject"]


@pytest.mark.parametrize(
    "body",
    [
        b"<Response><Dial><Number>+49309<Response><Dial><Number>+4930901820</Number></Dial></Response>01820</Number></Dial></Response>",
        b"<Response><Dial><Sip><Uri>sip:+442079460000@ca<Dial><Sip><Uri>sip:76@x.example</Uri></Sip></Dial>rrier.example</Uri></Sip></Dial></Response>",
        b"<Response><Dial><Client><Identity>b<Dial>+4930901820</Dial>ob</Identity></Client></Dial></Response>",
    ],
)
def test_a_dial_inside_a_targets_text_is_unreadable(guard: Guard, body: bytes) -> None:
    """Rewriting the inner <Dial> would change the outer target's text after it was decided (found
    by fuzzing): such a document is refused as one callguard cannot read."""
    with pytest.raises(TwimlError, match="a <Dial> is written inside the text of a"):
        police_twiml(body, guard, CALL, QUIET)


def test_an_app_callback_that_is_no_url_is_not_forwarded(guard: Guard) -> None:
    """urllib cannot split ``//A]#9`` (found by fuzzing): the number still gets callguard's own
    status callback, with nothing of the app's to forward to."""
    body = b'<Response><Dial><Number statusCallback="//A]#9">+14155550123</Number></Dial></Response>'
    policed = police_twiml(body, guard, CALL, COUNTING)
    (number,) = parse_twiml(policed.body.encode()).iter("Number")
    assert number.get("statusCallback").startswith(f"{BASE}/voice/status") and "forward" not in number.get("statusCallback")


def test_garbage_is_refused(guard: Guard) -> None:
    with pytest.raises(TwimlError):
        police_twiml(b"<html>500 Internal Server Error</html>", guard, CALL, QUIET)


# -- properties ---------------------------------------------------------------------------

REGIONS = ["US", "CA", "GB", "DE", "FR", "AU", "BR", "IN", "JP", "MX", "SG", "ZA", "NG", "IT", "ES"]
NUMBERS = sorted(
    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    for region in REGIONS
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    if (number := phonenumbers.example_number_for_type(region, kind)) is not None
)
OWNED = "+14155550100"


def _guard(text: str) -> Guard:
    policy = parse_policy(tomllib.loads(textwrap.dedent(text)), source="property.toml")
    return Guard(policy, clock=FakeClock(1_780_000_000.0))


ALLOW_ALL = _guard(
    f"""
    [defaults]
    non_pstn = "connect"
    [accounts.{MAIN}]
    caller_ids = ["{OWNED}"]
    [accounts.{MAIN}.permissions]
    """
    + "\n".join(
        f"{r} = {{ low_risk = true, high_risk_special = true, high_risk_tollfraud = true, direct_request = true }}" for r in REGIONS
    )
)
DENY_ALL = _guard(
    f"""
    [accounts.{MAIN}]
    caller_ids = ["{OWNED}"]
    """
)

urls = st.sampled_from(["https://app.example.com/a", "/relative/b?x=1", "c.xml"])
words = st.text(alphabet=st.sampled_from("abc <&>'\""), max_size=8)
pstn = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(NUMBERS), st.sampled_from(NUMBERS), st.sampled_from(["911", "112"]))


@st.composite
def nouns(draw: st.DrawFn, element: Any) -> None:
    kind = draw(st.sampled_from(["number", "sip", "sip_uris", "client", "conference", "queue"]))
    if kind == "number":
        attributes = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "url": urls,
                    "method": st.sampled_from(["GET", "POST"]),
                    "status_callback": urls,
                    "status_callback_event": st.sampled_from(["initiated", "ringing answered", "completed"]),
                    "status_callback_method": st.sampled_from(["GET", "POST"]),
                    "send_digits": st.sampled_from(["ww1", "1234"]),
                },
            )
        )
        element.number(draw(pstn), **attributes)
    elif kind == "sip":
        user = draw(st.one_of(st.sampled_from(NUMBERS), st.sampled_from(["alice", "bob"])))
        attributes = draw(st.fixed_dictionaries({}, optional={"status_callback": urls, "username": words}))
        element.sip(f"sip:{user}@carrier.example.com", **attributes)
    elif kind == "sip_uris":
        sip = element.sip(**draw(st.fixed_dictionaries({}, optional={"url": urls, "status_callback": urls, "username": words})))
        for user in draw(st.lists(st.one_of(st.sampled_from(NUMBERS), st.sampled_from(["alice", "bob"])), min_size=1, max_size=3)):
            scheme = draw(st.sampled_from(["sip:", ""]))  # a URI without a scheme is a SIP URI all the same
            sip.uri(f"{scheme}{user}@carrier.example.com", priority=draw(st.sampled_from([None, 1, 2])))
        if draw(st.booleans()):
            sip.headers().header(name="X-Tag", value=draw(words))
    elif kind == "client":
        element.client(draw(st.sampled_from(["alice", "bob"])))
    elif kind == "conference":
        element.conference(draw(st.sampled_from(["standup", "sales"])), beep=draw(st.sampled_from(["true", "false"])))
    else:
        element.queue(draw(st.sampled_from(["support"])))


@st.composite
def verb_trees(draw: st.DrawFn) -> VoiceResponse:
    response = VoiceResponse()
    verbs = st.sampled_from(["say", "play", "pause", "gather", "dial", "dial_text", "redirect", "hangup", "record"])
    for verb in draw(st.lists(verbs, max_size=6)):
        if verb == "say":
            response.say(draw(words), voice=draw(st.sampled_from([None, "Polly.Amy"])))
        elif verb == "play":
            response.play(draw(urls), loop=draw(st.sampled_from([None, 2])))
        elif verb == "pause":
            response.pause(length=draw(st.integers(1, 5)))
        elif verb == "gather":
            gather = response.gather(action=draw(urls), num_digits=1)
            gather.say(draw(words))
        elif verb == "dial":
            attributes = draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "caller_id": st.just(OWNED),
                        "action": urls,
                        "timeout": st.integers(5, 30),
                        "record": st.just("record-from-answer"),
                    },
                )
            )
            element = response.dial(**attributes)
            for _ in range(draw(st.integers(1, 3))):
                draw(nouns(element))
        elif verb == "dial_text":
            response.dial(draw(pstn), caller_id=draw(st.sampled_from([None, OWNED])))
        elif verb == "redirect":
            response.redirect(draw(urls), method=draw(st.sampled_from(["GET", "POST"])))
        elif verb == "hangup":
            response.hangup()
        else:
            response.record(max_length=draw(st.integers(5, 60)))
    return response


def _values(noun: Any) -> list[str]:
    """What a noun dials: each of a <Sip>'s <Uri>s, if it has any, else its text."""
    uris = noun.findall("Uri") if noun.tag == "Sip" else []
    return [(uri.text or "").strip() for uri in uris] if uris else [(noun.text or "").strip()]


def _tree(element: Any) -> tuple[Any, ...]:
    return (element.tag, dict(element.attrib), element.text or "", element.tail or "", [_tree(c) for c in element])


def _events(value: str | None) -> str:
    return " ".join((value or "").replace(",", " ").split())


def _assert_same_but_callbacks(output: Any, app: Any) -> None:
    """``output`` is ``app``'s tree, except for the status callbacks callguard put on its numbers."""
    assert (output.tag, output.text or "", output.tail or "") == (app.tag, app.text or "", app.tail or "")
    assert len(output) == len(app)
    for out_child, app_child in zip(output, app, strict=True):
        _assert_same_but_callbacks(out_child, app_child)
    ours = output.get("statusCallback") or ""
    if output.tag not in ("Number", "Sip") or not ours.startswith(f"{BASE}/voice/status"):
        assert output.attrib == app.attrib
        return
    injected = ("statusCallback", "statusCallbackMethod", "statusCallbackEvent")
    assert {k: v for k, v in output.attrib.items() if k not in injected} == {k: v for k, v in app.attrib.items() if k not in injected}
    assert output.get("statusCallbackMethod") == "POST"
    query = {k: v[0] for k, v in parse_qs(urlsplit(ours).query, keep_blank_values=True).items()}
    app_events = _events(app.get("statusCallbackEvent"))
    # callguard needs the final status: the app's events, plus "completed" if they lack it.
    expected_events = app_events if not app_events or "completed" in app_events.split() else app_events + " completed"
    assert _events(output.get("statusCallbackEvent")) == expected_events
    if app.get("statusCallback") is None:
        assert "forward" not in query
        return
    # The app's own callback rides along, tagged, to be forwarded by /voice/status.
    assert query["forward"] == urljoin(DOCUMENT_URL, app.get("statusCallback"))
    assert query["forward_method"] == (app.get("statusCallbackMethod") or "POST").upper()
    assert query["forward_events"] == app_events
    assert tag_matches([KEY], query["forward_tag"], STATUS, query["forward"], query["forward_method"], query["forward_events"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(response=verb_trees(), count_traffic=st.booleans())
def test_allow_all_gives_back_the_same_document_plus_only_callguards_callbacks(response: VoiceResponse, count_traffic: bool) -> None:
    body = str(response).encode()
    policed = police_twiml(body, ALLOW_ALL, CALL, COUNTING if count_traffic else QUIET)
    assert all(t.kept for t in policed.targets), [t.decision.reasons for t in policed.targets]
    if not policed.changed:
        assert policed.body is body
        return
    assert count_traffic  # the only reason to change anything here
    expected = parse_twiml(body)
    for dial_element in expected.iter("Dial"):
        # A number written as the <Dial>'s text had to become a <Number> to carry the callback.
        text = (dial_element.text or "").strip()
        if text and normalize_dial_string(text).kind is TargetKind.PSTN:
            number = dial_element.makeelement("Number", {})
            number.text = text
            dial_element.text = None
            dial_element.insert(0, number)
    _assert_same_but_callbacks(parse_twiml(policed.body.encode()), expected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(response=verb_trees(), count_traffic=st.booleans())
def test_deny_all_lets_no_number_through(response: VoiceResponse, count_traffic: bool) -> None:
    policed = police_twiml(str(response).encode(), DENY_ALL, CALL, COUNTING if count_traffic else QUIET)
    output = parse_twiml(policed.body.encode() if isinstance(policed.body, str) else policed.body)
    for dial_element in output.iter("Dial"):
        targets = [(dial_element.text or "").strip()] + [
            value for n in dial_element if n.tag in ("Number", "Sip", "Client", "Conference", "Queue") for value in _values(n)
        ]
        for target in filter(None, targets):
            # Only emergency numbers survive a policy that allows nothing.
            assert normalize_dial_string(target).kind is TargetKind.EMERGENCY, target
    # Every other verb is still there, in order; a refused <Dial> leaves at most a <Redirect> to
    # its action or, alone in the document, the <Reject>.
    def injected(element: Any) -> bool:
        return element.tag == "Reject" or (element.tag == "Redirect" and "DialCallStatus=failed" in element.text)

    kept = [_tree(e) for e in output if e.tag != "Dial" and not injected(e)]
    assert kept == [_tree(e) for e in parse_twiml(str(response).encode()) if e.tag != "Dial"]


SOME_ALLOWED = _guard(
    f"""
    [defaults]
    non_pstn = "connect"
    [accounts.{MAIN}]
    caller_ids = ["{OWNED}"]
    [accounts.{MAIN}.permissions]
    US = {{ low_risk = true }}
    GB = {{ low_risk = true }}
    DE = {{ low_risk = true }}
    [[blocked_prefixes]]
    prefix = "{NUMBERS[0][:-3]}"
    reason = "closed"
    """
)
markup = st.sampled_from(["<!-- x -->", "<!---->", "<?x y?>", "<?pi?>", "<!-- <Number>+1</Number> -->"])


@st.composite
def split_text(draw: st.DrawFn, value: str) -> str:
    """``value`` with comments and processing instructions put in at random places."""
    cuts = sorted(draw(st.sets(st.integers(0, len(value)), max_size=3)))
    pieces = [value[start:end] for start, end in zip([0, *cuts], [*cuts, len(value)], strict=True)]
    return "".join(piece + (draw(markup) if index < len(pieces) - 1 else "") for index, piece in enumerate(pieces))


@st.composite
def split_documents(draw: st.DrawFn) -> str:
    dials = []
    for _ in range(draw(st.integers(1, 2))):
        nouns = []
        for _ in range(draw(st.integers(1, 3))):
            number = draw(pstn)
            form = draw(st.sampled_from(["number", "uri", "sip"]))
            if form == "number":
                nouns.append(f"<Number>{draw(split_text(number))}</Number>")
            elif form == "uri":
                nouns.append(f"<Sip><Uri>{draw(split_text(f'sip:{number}@carrier.example.com'))}</Uri></Sip>")
            else:
                nouns.append(f"<Sip>{draw(split_text(f'sip:{number}@carrier.example.com'))}</Sip>")
        text = draw(split_text(draw(pstn))) if draw(st.booleans()) else ""
        dials.append(f'<Dial callerId="{OWNED}">{text}{"".join(nouns)}</Dial>')
    return f"<Response>{''.join(dials)}<Say>bye</Say></Response>"


def _dialled(body: str) -> list[str]:
    """What the answer dials, read by a plain XML reader (comments dropped, text joined), not callguard's."""
    values = []
    for dial_element in ElementTree.fromstring(body).iter("Dial"):
        values.append("".join([dial_element.text or "", *(child.tail or "" for child in dial_element)]).strip())
        for noun in dial_element:
            uris = noun.findall("Uri")
            values.extend("".join(element.itertext()).strip() for element in (uris or [noun]))
    return [value for value in values if value]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=split_documents(), guard=st.sampled_from([ALLOW_ALL, SOME_ALLOWED, DENY_ALL]))
def test_every_target_the_answer_dials_was_decided_and_permitted(document: str, guard: Guard) -> None:
    policed = police_twiml(document.encode(), guard, CALL, QUIET)
    body = policed.body if isinstance(policed.body, str) else policed.body.decode()
    permitted = {t.target.value for t in policed.targets if t.kept}
    for value in _dialled(body):
        assert value in permitted or normalize_dial_string(value).kind is TargetKind.EMERGENCY, (value, permitted)
    # And written as one text: a reader that keeps comments finds each value whole.
    for value in _dialled(body):
        assert value in body


def test_property_pools_are_valid_numbers() -> None:
    # The allow-all property relies on every pool number passing every check.
    assert len(NUMBERS) > 20
    for number in NUMBERS:
        decision = ALLOW_ALL.check(DialRequest(MAIN, number, OWNED))
        assert decision.action is Action.CONNECT, (number, decision.reasons)


@pytest.fixture
def make_guard(clock: FakeClock, sqlite_url: str, tmp_path: Path) -> Iterator[Callable[..., Guard]]:
    """A guard on the shared test policy with its [defaults] replaced, and ``extra`` tables added;
    the telemarketing checks read real opt-out and consent stores (SQLite) and registry directory."""
    engine = create_database_engine(sqlite_url)
    ensure_schema(engine)
    lookups = Lookups(OptOutStore(engine), ConsentStore(engine), RegistryDirectory(tmp_path / "registries", clock=clock))

    def make(defaults: str, extra: str = "") -> Guard:
        text = BASE_POLICY.replace(BASE_DEFAULTS, "[defaults]\n" + defaults, 1) + extra
        return Guard(parse_policy(tomllib.loads(text), source="test.toml"), clock=clock, lookups=lookups)

    yield make
    engine.dispose()
