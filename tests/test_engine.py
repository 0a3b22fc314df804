"""The decision engine: order, recording, faults and fail modes (callguard.engine)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callguard import Action, Decision, DialRequest, FakeClock, Guard, load_policy
from callguard.checks import DEFAULT_CHECKS
from callguard.checks.context import DialContext
from callguard.decision import Fault
from callguard.errors import StoreUnavailable
from callguard.numbers import TargetKind
from callguard.policy import Policy

from .conftest import MAIN, STRANGER


class ListAudit:
    def __init__(self) -> None:
        self.decisions: list[Decision] = []

    def record(self, decision: Decision) -> None:
        self.decisions.append(decision)


def test_a_clean_call_connects_and_says_which_checks_ran(guard: Guard) -> None:
    decision = guard.check(DialRequest(MAIN, "+14155550123", "+14155550100", call_sid="CA1"))
    assert decision.action is Action.CONNECT
    assert decision.reasons == ("ok",)
    assert decision.checks == ("emergency", "account", "destination", "prefix", "geo", "callerid")
    assert decision.e164 == "+14155550123" and decision.region == "US" and decision.risk == "low_risk"
    assert decision.header_value() == "connect; reasons=ok"
    assert decision.as_dict()["call_sid"] == "CA1"


def test_the_first_refusal_wins_and_every_refusal_is_recorded(guard: Guard) -> None:
    # Blocked prefix, then no German permission, then a caller ID the account does not own.
    policy_blocked = guard.check(DialRequest(STRANGER, "+14155550191", "+19995550100"))
    assert policy_blocked.reasons == ("account.unknown", "prefix.blocked")
    decision = guard.check(DialRequest(MAIN, "+14155550191", "+14155550177"))
    assert decision.reasons == ("prefix.blocked", "callerid.not_owned")
    assert decision.sentence == decision.refusals[0].sentence
    assert [r.check for r in decision.refusals] == ["prefix", "callerid"]
    assert decision.header_value() == "reject; reasons=prefix.blocked,callerid.not_owned"


def test_every_decision_goes_to_the_audit_sink(policy: Policy, clock: FakeClock) -> None:
    audit = ListAudit()
    guard = Guard(policy, clock=clock, audit=audit)
    guard.check(DialRequest(MAIN, "+14155550123", "+14155550100"))
    guard.check(DialRequest(MAIN, "911", None))
    guard.check(DialRequest(MAIN, "hello", None))
    assert [d.action for d in audit.decisions] == [Action.CONNECT, Action.CONNECT, Action.REJECT]
    assert all(d.decided_at == clock() for d in audit.decisions)


def _exploding(ctx: DialContext) -> None:
    raise RuntimeError("boom")


def test_a_fault_rejects_by_default_but_never_an_emergency_call(policy: Policy) -> None:
    audit = ListAudit()
    guard = Guard(policy, audit=audit, checks=(("explode", _exploding), *DEFAULT_CHECKS))
    decision = guard.check(DialRequest(MAIN, "+14155550123", "+14155550100"))
    assert decision.action is Action.REJECT
    assert decision.reasons == ("fault.internal",)
    assert decision.fault == Fault("RuntimeError", "boom")
    assert str(decision.fault) == "RuntimeError: boom"
    emergency = guard.check(DialRequest(MAIN, "911", "+14155550100"))
    assert emergency.action is Action.CONNECT and emergency.target.digits == "911"
    assert emergency.reasons == ("emergency", "fault.internal")
    assert len(audit.decisions) == 2  # faults are audited too


def test_fail_mode_connect_connects_valid_numbers_only(write_policy: Callable[..., object]) -> None:
    path = write_policy(
        f"""
        [defaults]
        fail_mode = "connect"
        [accounts.{MAIN}]
        caller_ids = ["+14155550100"]
        """
    )
    guard = Guard(load_policy(path), checks=(("explode", _exploding),))
    decision = guard.check(DialRequest(MAIN, "+14155550123", "+14155550100"))
    assert decision.action is Action.CONNECT and decision.reasons == ("fault.fail_open",)
    assert decision.caller_id == "+14155550100"
    assert guard.check(DialRequest(MAIN, "garbage", "+14155550100")).action is Action.REJECT


def test_a_policy_kept_past_its_limit_decides_by_the_fail_mode(policy: Policy, clock: FakeClock) -> None:
    audit = ListAudit()
    guard = Guard(policy, clock=clock, audit=audit)
    request = DialRequest(MAIN, "+14155550123", "+14155550100")
    guard.keep_policy_until(clock() + 300)
    clock.advance(300)
    assert guard.check(request).reasons == ("ok",)
    clock.advance(1)
    stale = guard.check(request)
    assert stale.action is Action.REJECT and stale.reasons == ("fault.internal",)
    assert stale.fault is not None and stale.fault.kind == "StaleData"
    assert str(stale.fault) == "StaleData: the runtime policy could not be refreshed and is past its staleness limit"
    assert guard.check(DialRequest(MAIN, "911", "+14155550100")).reasons == ("emergency", "fault.internal")
    assert len(audit.decisions) == 3
    guard.keep_policy_until(clock() + 300)  # refreshed again
    assert guard.check(request).reasons == ("ok",)
    guard.keep_policy_until(None)
    clock.advance(86_400)
    assert guard.check(request).reasons == ("ok",)


def test_a_store_outage_is_a_fault_with_its_backend_and_operation(policy: Policy) -> None:
    def store_down(ctx: DialContext) -> None:
        raise StoreUnavailable("connection refused (111)", backend="redis", operation="counters batch")

    guard = Guard(policy, checks=(("store", store_down), *DEFAULT_CHECKS))
    decision = guard.check(DialRequest(MAIN, "+14155550123", "+14155550100"))
    assert decision.reasons == ("fault.internal",)
    assert decision.fault == Fault("StoreUnavailable", "redis (counters batch): connection refused (111)", "redis", "counters batch")
    assert str(decision.fault) == "StoreUnavailable: redis (counters batch): connection refused (111)"  # the audit log's text
    assert decision.sentence == f"Internal fault ({decision.fault}); the call is refused by the policy's fail mode."


def test_replacing_the_policy_takes_effect_at_once(guard: Guard, write_policy: Callable[..., object]) -> None:
    request = DialRequest(MAIN, "+14155550123", "+14155550100")
    assert guard.check(request).action is Action.CONNECT
    path = write_policy(f"[accounts.{MAIN}]\nsuspended = true\n", name="suspended.toml")
    guard.replace_policy(load_policy(path))
    assert guard.check(request).reason == "account.suspended"


def test_repeated_requests_come_from_the_cache_but_time_still_counts(guard: Guard, clock: FakeClock) -> None:
    request = DialRequest(MAIN, "+14155550191", "+14155550100")
    assert guard.check(request).reasons == ("prefix.blocked",)
    clock.advance(60 * 86400)  # past the block's expiry: the cached resolution must not hide it
    assert guard.check(request).action is Action.CONNECT


@pytest.mark.parametrize("to", [None, 12345, b"+14155550123"])
def test_non_text_fields_do_not_crash_the_engine(guard: Guard, to: object) -> None:
    decision = guard.check(DialRequest(MAIN, to, "+14155550100"))  # type: ignore[arg-type]
    assert decision.action is Action.REJECT
    assert decision.target.kind is TargetKind.INVALID


def test_a_fault_still_recognises_emergency_numbers_of_the_caller_ids_region(policy: Policy) -> None:
    guard = Guard(policy, checks=(("explode", _exploding), *DEFAULT_CHECKS))
    decision = guard.check(DialRequest(MAIN, "999", "+442079460000"))
    assert decision.action is Action.CONNECT and decision.reasons == ("emergency", "fault.internal")
    assert decision.caller_id == "+442079460000"


def extension_policy(non_pstn: str) -> str:
    return f"""
    [defaults]
    non_pstn = "{non_pstn}"

    [accounts.{MAIN}]
    caller_ids = ["+14155550100", "+14155550101"]
    outside_line_prefix = "9"
    permissions.US = {{ low_risk = true }}

    [accounts.{MAIN}.sip_domains."office.sip.twilio.com"]
    default_caller_id = "+14155550101"

    [accounts.{MAIN}.sip_domains."numbers.sip.twilio.com"]
    extension_digits = false

    [accounts.{MAIN}.sip_domains."long.sip.twilio.com"]
    extension_digits = "3-8"
    """


@pytest.mark.parametrize(
    ("non_pstn", "action", "reasons"), [("connect", Action.CONNECT, ("ok",)), ("reject", Action.REJECT, ("destination.non_pstn",))]
)
def test_a_sip_extension_is_decided_by_non_pstn(
    write_policy: Callable[..., object], non_pstn: str, action: Action, reasons: tuple[str, ...]
) -> None:
    guard = Guard(load_policy(write_policy(extension_policy(non_pstn))))  # type: ignore[arg-type]
    # On a SIP Domain the policy does not name the default applies; the extension's From falls
    # through to the SIP Domain's (else the account's) default caller ID.
    for domain, caller_id in (("office.sip.twilio.com", "+14155550101"), ("elsewhere.sip.twilio.com", "+14155550100")):
        decision = guard.check(DialRequest(MAIN, f"sip:201@{domain}", f"sip:202@{domain}", sip_domain=domain))
        assert (decision.action, decision.reasons, decision.caller_id) == (action, reasons, caller_id)
        assert decision.target.kind is TargetKind.SIP and decision.target.dial_value == f"sip:201@{domain}"
    # Behind the outside-line prefix it is a number; an emergency number stays one.
    office = "office.sip.twilio.com"
    outside = guard.check(DialRequest(MAIN, f"sip:94155550123@{office}", f"sip:202@{office}", sip_domain=office))
    assert (outside.action, outside.e164, outside.caller_id) == (Action.CONNECT, "+14155550123", "+14155550101")
    for emergency in ("sip:911@office.sip.twilio.com", "sip:9911@office.sip.twilio.com"):
        assert guard.check(DialRequest(MAIN, emergency, sip_domain="office.sip.twilio.com")).reasons == ("emergency",)


def test_a_sip_domain_sets_what_an_extension_is(write_policy: Callable[..., object]) -> None:
    guard = Guard(load_policy(write_policy(extension_policy("reject"))))  # type: ignore[arg-type]

    def reasons(user: str, domain: str) -> tuple[str, ...]:
        return guard.check(DialRequest(MAIN, f"sip:{user}@{domain}", sip_domain=domain)).reasons

    # Extensions off: the user part is a number, as it always was (and 201 is not a valid one).
    assert reasons("201", "numbers.sip.twilio.com") == ("destination.invalid",)
    assert reasons("20", "long.sip.twilio.com") == ("destination.invalid",)
    assert reasons("2000001", "long.sip.twilio.com") == ("destination.non_pstn",)
    assert reasons("2000001", "office.sip.twilio.com") == ("destination.invalid",)


class DownAudit:
    """A synchronous audit sink whose database is gone (CALLGUARD_AUDIT_MODE=sync during an outage)."""

    def record(self, decision: Decision) -> None:
        raise StoreUnavailable("connection refused", backend="postgresql", operation="audit insert")


@pytest.mark.parametrize(("to", "action"), [("911", Action.CONNECT), ("+14155550123", Action.CONNECT), ("+4930123456", Action.REJECT)])
def test_a_decision_stands_when_its_audit_record_cannot_be_written(policy: Policy, clock: FakeClock, to: str, action: Action) -> None:
    guard = Guard(policy, clock=clock, audit=DownAudit())
    assert guard.check(DialRequest(MAIN, to, "+14155550100")).action is action
